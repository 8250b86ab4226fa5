"""WebVTT captions: one cue per card, its on-screen text over its exact time span."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from renderers.video.plan import Card


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def _escape(text: str) -> str:
    # WebVTT cue text: '&' and '<' start markup; '>' is escaped so '-->' cannot appear.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(cards: Sequence[Card]) -> str:
    blocks = ["WEBVTT"]
    for index, card in enumerate(cards, start=1):
        text = "\n".join(_escape(line) for line in card.caption().splitlines() if line.strip())
        blocks.append(f"{index}\n{_timestamp(card.start)} --> {_timestamp(card.end)}\n{text}")
    return "\n\n".join(blocks) + "\n"


def write_captions(cards: Sequence[Card], path: Path) -> Path:
    path.write_text(webvtt(cards), encoding="utf-8")
    return path
