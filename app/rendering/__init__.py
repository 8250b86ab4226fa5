"""Rendering jobs: the job a queue runs for a render (claim, render, store, record), its
retries, the sweeper that gives stuck renders a fresh job, the narration voice a job speaks
with, and the Prometheus metrics of renders, queues and workers. The work itself is in
`renderers`.
"""
