"""What a version's files may contain, checked on every write: text is UTF-8 within a size
cap; images are decoded by Pillow (a real PNG, JPEG or WebP within pixel and byte caps; SVG
refused, it is a document that can carry script); audio is probed by ffprobe (one audio
stream, no video, a bounded length). A file that fails is refused with the reason, never
stored."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

from app.templates.files import kind_of

MAX_TEXT_BYTES = 512 * 1024
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_SIDE = 4096  # px; the 1080p frame is 1920 wide, a logo needs far less
MAX_AUDIO_BYTES = 15 * 1024 * 1024
MAX_AUDIO_SECONDS = 600.0
FFPROBE_TIMEOUT_SECONDS = 20
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def asset_problem(path: str, data: bytes) -> str | None:
    """Why `data` cannot be the file `path` (whose path was checked), or None."""
    if _looks_like_svg(data):
        return "SVG is refused: upload the image as PNG, JPEG or WebP"
    kind = kind_of(path)
    if kind == "image":
        return _image_problem(path, data)
    if kind == "audio":
        return _audio_problem(data)
    if len(data) > MAX_TEXT_BYTES:
        return f"a text file has at most {MAX_TEXT_BYTES // 1024} KiB"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start})"
    if "\x00" in text:
        return "a text file must not contain NUL characters"
    return None


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head)


def _image_problem(path: str, data: bytes) -> str | None:
    if len(data) > MAX_IMAGE_BYTES:
        return f"an image has at most {MAX_IMAGE_BYTES // (1024 * 1024)} MiB"
    expected = IMAGE_FORMATS[PurePosixPath(path).suffix.lower()]
    try:
        with warnings.catch_warnings():
            # Pillow's decompression-bomb warning becomes an error: a huge canvas is refused.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                found, size = image.format, image.size
                if max(size) > MAX_IMAGE_SIDE:
                    side = f"{size[0]}x{size[1]}"
                    return f"an image is at most {MAX_IMAGE_SIDE} px on a side (this is {side})"
                image.load()  # decode it whole: a truncated or corrupt file fails here
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "not an image Pillow can decode (PNG, JPEG or WebP)"
    except (OSError, SyntaxError, ValueError) as exc:
        return f"a damaged image: {exc}"
    if found != expected:
        return f"the file is {found} but its name says {expected}"
    return None


def _audio_problem(data: bytes) -> str | None:
    if len(data) > MAX_AUDIO_BYTES:
        return f"an audio file has at most {MAX_AUDIO_BYTES // (1024 * 1024)} MiB"
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return "audio cannot be checked here: ffprobe is not installed"
    with tempfile.TemporaryDirectory(prefix="asset-") as tmp:
        file = Path(tmp) / "upload"
        file.write_bytes(data)
        try:
            run = subprocess.run(
                [ffprobe, "-v", "error", "-print_format", "json", "-show_streams",
                 "-show_format", str(file)],
                capture_output=True, timeout=FFPROBE_TIMEOUT_SECONDS, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return "the audio file took too long to read"
    if run.returncode != 0:
        return "not an audio file ffprobe can read"
    info = json.loads(run.stdout or b"{}")
    kinds = [s.get("codec_type") for s in info.get("streams", [])]
    if kinds.count("audio") != 1 or "video" in kinds:
        return "an audio file has exactly one audio stream and no picture"
    try:
        seconds = float(info.get("format", {}).get("duration", "nan"))
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= MAX_AUDIO_SECONDS:
        return f"an audio file lasts at most {MAX_AUDIO_SECONDS:.0f} s"
    return None
