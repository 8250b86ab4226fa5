"""From a bill's facts and the scene spec to the list of cards the video shows.

A card holds exactly the strings drawn on it, so the captions are the card's own text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from renderers.formatting import format_money
from renderers.story import TONES, Facts, Tone
from renderers.video.frame import FPS
from renderers.video.spec import (
    ActionScene,
    AmountScene,
    GreetingScene,
    LinesScene,
    Scene,
    VideoSpec,
)

# Narration keys each scene type reads; the fallback catalog must define all of them.
NARRATION_KEYS: Mapping[str, tuple[str, ...]] = {
    "greeting": ("greeting.title", "greeting.subtitle"),
    "amount": tuple(f"amount.{t}.{part}" for t in TONES for part in ("title", "note")),
    "lines": ("lines.title", "lines.other"),
    "action": tuple(f"action.{t}.{part}" for t in TONES for part in ("title", "note")),
}
REQUIRED_NARRATION = tuple(k for keys in NARRATION_KEYS.values() for k in keys)


@dataclass(frozen=True)
class Card:
    kind: str
    first_frame: int  # frames from the start of the video
    frames: int
    tone: Tone
    title: str
    value: str | None = None
    note: str | None = None
    rows: tuple[tuple[str, str], ...] = ()  # (label, formatted amount)

    @property
    def start(self) -> float:
        return self.first_frame / FPS

    @property
    def end(self) -> float:
        return (self.first_frame + self.frames) / FPS

    @property
    def duration(self) -> float:
        return self.frames / FPS

    def caption(self) -> str:
        """The card's text, as shown, one element per line."""
        parts = [self.title, self.value, *(f"{label}: {amount}" for label, amount in self.rows)]
        parts.append(self.note)
        return "\n".join(p for p in parts if p)


def _rows(facts: Facts, scene: LinesScene, other: str) -> tuple[tuple[str, str], ...]:
    lines = list(facts.lines)
    if len(lines) <= scene.max_rows:
        return tuple((line.label, line.amount) for line in lines)
    shown, rest = lines[: scene.max_rows - 1], lines[scene.max_rows - 1 :]
    rest_total = sum((line.value for line in rest), Decimal(0))
    return (
        *((line.label, line.amount) for line in shown),
        (other, format_money(rest_total, facts.currency, facts.locale)),
    )


def _card(scene: Scene, facts: Facts, text: Mapping[str, str], start: int) -> Card | None:
    t = facts.tone
    n = round(scene.duration * FPS)
    if isinstance(scene, GreetingScene):
        return Card(
            "greeting", start, n, t,
            title=text["greeting.title"], note=text["greeting.subtitle"],
        )  # fmt: skip
    if isinstance(scene, AmountScene):
        return Card(
            "amount", start, n, t,
            title=text[f"amount.{t}.title"], value=facts.amount, note=text[f"amount.{t}.note"],
        )  # fmt: skip
    if isinstance(scene, LinesScene):
        if not facts.lines:
            return None
        return Card(
            "lines", start, n, t,
            title=text["lines.title"], rows=_rows(facts, scene, text["lines.other"]),
        )  # fmt: skip
    if isinstance(scene, ActionScene):
        return Card(
            "action", start, n, t,
            title=text[f"action.{t}.title"], note=text[f"action.{t}.note"],
        )  # fmt: skip
    raise AssertionError(f"unhandled scene type {scene!r}")


def plan_cards(spec: VideoSpec, facts: Facts, narration: Mapping[str, str]) -> list[Card]:
    """The cards in order, each with its start time; `narration` is already filled."""
    cards: list[Card] = []
    start = 0
    for scene in spec.scenes:
        card = _card(scene, facts, narration, start)
        if card is not None:
            cards.append(card)
            start += card.frames
    return cards
