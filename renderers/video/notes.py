"""What drawing had to give way on, told to whoever listens: text that did not fit at its
minimum size, characters no font of the chain has a glyph for.

A real render has no listener: `note` costs one context-variable lookup and the checks made
only for a listener (which glyphs a run lacks) are skipped. A preview listens while it draws
a frame (`listening`), and compose tells which layer is being drawn (`layer`), so every note
names the layer whose sprite gave it: the marks a preview shows are what the renderer did.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

NoteKind = Literal["text_shrunk", "missing_glyph"]


@dataclass(frozen=True)
class Note:
    kind: NoteKind
    layer: int | None  # the layer's index in its scene's `layers` (None: drawn outside one)
    detail: str


_heard: ContextVar[list[Note] | None] = ContextVar("billreel_notes", default=None)
_layer: ContextVar[int | None] = ContextVar("billreel_note_layer", default=None)


def heard() -> bool:
    """Someone listens: worth checking what only a listener wants to know."""
    return _heard.get() is not None


def note(kind: NoteKind, detail: str) -> None:
    notes = _heard.get()
    if notes is not None:
        notes.append(Note(kind, _layer.get(), detail))


@contextmanager
def listening() -> Iterator[list[Note]]:
    """Collect the notes given while the block runs (in this thread or task only)."""
    notes: list[Note] = []
    token = _heard.set(notes)
    try:
        yield notes
    finally:
        _heard.reset(token)


@contextmanager
def layer(index: int) -> Iterator[None]:
    """Notes given in the block are the layer `index`'s (a no-op when nobody listens)."""
    if _heard.get() is None:
        yield
        return
    token = _layer.set(index)
    try:
        yield
    finally:
        _layer.reset(token)
