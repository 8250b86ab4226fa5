"""WebVTT from cues (start, end, text): captions (narration word timings or on-screen text)
and chapters (a title per scene).

One writer for the video renderer and the narration, so their files never differ in form.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

Cue = tuple[float, float, str]


def _timestamp(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def _escape(text: str) -> str:
    # WebVTT cue text: '&' and '<' start markup; '>' is escaped so '-->' cannot appear.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(cues: Sequence[Cue], ids: Sequence[str] | None = None) -> str:
    """The file; each cue is identified by its number, or by `ids` (no '-->', no newline)."""
    blocks = ["WEBVTT"]
    for index, (start, end, text) in enumerate(cues, start=1):
        body = "\n".join(_escape(line) for line in text.splitlines() if line.strip())
        if body:
            name = ids[index - 1] if ids is not None else str(index)
            blocks.append(f"{name}\n{_timestamp(start)} --> {_timestamp(end)}\n{body}")
    return "\n\n".join(blocks) + "\n"


def write_captions(cues: Sequence[Cue], path: Path) -> Path:
    path.write_text(webvtt(cues), encoding="utf-8")
    return path
