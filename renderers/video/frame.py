"""The video's fixed format: every card, segment and encode uses these."""

WIDTH = 1280  # pixels
HEIGHT = 720  # pixels
FPS = 30  # frames per second
AUDIO_RATE = 48_000  # Hz
AUDIO_BITRATE = "128k"
VIDEO_CRF = 22  # x264 constant rate factor: visually clean text at a modest size
KEYFRAME_INTERVAL = 90  # frames (3 s): seeking in a player stays quick
X264_PRESET = "veryfast"
ENCODE_TIMEOUT_S = 120  # one video of ~20 s encodes in a few seconds; this is a hang guard
