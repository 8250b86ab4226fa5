"""Pictures for screens: PNG made for speed, not size, and thumbnails of a frame."""

from __future__ import annotations

import io

from PIL import Image

# zlib level 1: 22 ms a 720p frame for 46 KB, the default (6) 27 ms for 35 KB (ten preview
# frames, docs/benchmarks.md); level 0 would send 2.7 MB a frame.
PNG_COMPRESS_LEVEL = 1
THUMBNAIL_REDUCE = 4  # a grid cell: 320x180 of a 16:9 frame, 180x320, 270x270


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def thumbnail(image: Image.Image) -> bytes:
    """The frame a quarter of its width and height (each pixel the mean of 4x4), as PNG."""
    return png(image.reduce(THUMBNAIL_REDUCE))
