"""On-demand video: a render's video made when its page is first really opened, played as
HLS while it is coded, then kept as the render's video.mp4.

`request` (the first real open asks for it, once: a conditional UPDATE), `stream` (where
its HLS files live and the playlist a player waits on), `job` (the worker's run: code scene
by scene, publish each segment, store the MP4), `sweeper` (a video whose worker died is
queued again; one that had all its runs fails). docs/ondemand.md tells the whole story.
"""
