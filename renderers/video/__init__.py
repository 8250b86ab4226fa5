"""The video renderer: cards drawn once with Pillow, encoded by one ffmpeg process.

plan (cards from facts and narration) -> cards (Pillow, one image each)
    -> encode (ffmpeg: loop, fade, concat, audio bed) -> video.mp4
    -> poster.jpg (the amount card) and captions.vtt (each card's text and span)
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from renderers.story import Facts
from renderers.video.captions import write_captions
from renderers.video.cards import draw_card
from renderers.video.encode import Segment, encode_video
from renderers.video.fonts import FontTable
from renderers.video.plan import Card, plan_cards
from renderers.video.spec import VideoSpec
from renderers.video.text import Typesetter

POSTER_QUALITY = 88  # JPEG quality of the poster
POSTER_CARD = "amount"  # the card that stands for the whole video


@dataclass(frozen=True)
class VideoFiles:
    video: Path
    poster: Path
    captions: Path
    cards: tuple[Card, ...]


def render_video(
    facts: Facts, spec: VideoSpec, narration: Mapping[str, str], workdir: Path
) -> VideoFiles:
    """Write workdir/video.mp4, poster.jpg and captions.vtt for one bill."""
    cards = plan_cards(spec, facts, narration)
    typesetter = Typesetter(FontTable.with_overrides(spec.fonts), facts.locale)
    poster = workdir / "poster.jpg"
    # Stills live in a directory of this render's own, removed when encoded.
    with tempfile.TemporaryDirectory(prefix=".cards-", dir=workdir) as tmp:
        segments = []
        for index, card in enumerate(cards):
            image = draw_card(card, typesetter, spec.theme)
            still = Path(tmp) / f"card{index}.rgb"
            still.write_bytes(image.tobytes())
            segments.append(Segment(still, card.frames))
            if card.kind == POSTER_CARD or index == 0:
                image.save(poster, "JPEG", quality=POSTER_QUALITY, optimize=True)
        video = encode_video(
            segments, spec.audio, spec.fade, spec.theme.background, workdir / "video.mp4"
        )
    captions = write_captions(cards, workdir / "captions.vtt")
    return VideoFiles(video=video, poster=poster, captions=captions, cards=tuple(cards))
