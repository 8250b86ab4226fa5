"""WebVTT cues from word timings: one cue per sentence, long sentences cut where a reader
would pause.

A cue starts when its first word sounds and ends when its last word stops (word timings are
trimmed to the voice), so it sits within the audio's own tolerance; a cue never spans two
scene lines.

Engines mark words where they think words are, which is not always where a caption may be
cut: eSpeak NG marks Thai syllables mid-word, and the parts of a number ("84,20")
separately. So marks are first glued into units that end at a space (a zero-width one too,
which Thai text may carry between words), or next to CJK text (written without spaces, it
may be cut between any two characters).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from renderers.voice.speech import Speech
from renderers.webvtt import Cue, write_captions

# Latin, CJK (ideographic full stop, fullwidth forms), Arabic question mark.
SENTENCE_ENDS = frozenset(".!?\u2026\u3002\uff01\uff1f\u061f")
# Latin, CJK (ideographic and fullwidth comma, semicolon, colon), Arabic comma and semicolon.
PHRASE_MARKS = frozenset(",;:\u3001\uff0c\uff1b\uff1a\u060c\u061b\u2013\u2014")
# Marks that end a sentence or phrase without a space after them.
CLOSED_MARKS = frozenset("\u3001\u3002\uff01\uff0c\uff1a\uff1b\uff1f")
CLOSING_QUOTES = "\"')\u00bb\u201d\u2019\u300d\u300f"  # may follow a sentence's last mark
MAX_CHARS = 42  # columns per cue; a CJK character takes two (as on screen)
MIN_PIECE_CHARS = 10  # a long sentence is not cut so as to leave a scrap shorter than this
PAUSE_SECONDS = 0.09  # a gap this long between two words is a place to cut
ZERO_WIDTH_SPACE = "\u200b"  # marks where Thai words meet, for line breaking

Word = tuple[float, float, str]


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def width(text: str) -> int:
    """Columns `text` takes on screen: CJK two, combining marks (Thai vowels above) none."""
    return sum(0 if unicodedata.combining(c) else 2 if _wide(c) else 1 for c in text)


def _breakable(before: str, after: str) -> bool:
    """May a cue end after the text `before` when `after` follows?"""
    if not before or not after:
        return True
    last = before[-1]
    if last.isspace() or last in CLOSED_MARKS or ZERO_WIDTH_SPACE in (last, after[0]):
        return True
    return _wide(last) or _wide(after[0])


def _units(words: Sequence[Word]) -> list[Word]:
    """Words glued until a place where a line may break (see the module docstring)."""
    units: list[Word] = []
    for word in words:
        if units and not _breakable(units[-1][2], word[2]):
            start, _, text = units[-1]
            units[-1] = (start, word[1], text + word[2])
        else:
            units.append(word)
    return units


def _ends_with(text: str, marks: frozenset[str]) -> bool:
    bare = text.rstrip().rstrip(CLOSING_QUOTES)
    return bool(bare) and bare[-1] in marks


def _ends_sentence(unit: str, following: str | None) -> bool:
    """A full stop ends a sentence unless it ends an ordinal or abbreviation: "30. November",
    "ค.ศ. 2026", "e.g. this". CJK full stops always do."""
    if not _ends_with(unit, SENTENCE_ENDS):
        return False
    if following is None or unit.rstrip()[-1] in CLOSED_MARKS:
        return True
    stripped = unit.rstrip().rstrip(CLOSING_QUOTES)
    if stripped.endswith(".") and stripped[:-1].isdigit():
        return False
    first = following.lstrip()[:1]
    return not (first.isdigit() or first.islower())


def _text(words: Sequence[Word]) -> str:
    return " ".join("".join(w[2] for w in words).split()).strip(ZERO_WIDTH_SPACE)


def _cue(words: Sequence[Word]) -> Cue:
    return (words[0][0], words[-1][1], _text(words))


def _split(units: Sequence[Word], max_chars: int) -> list[list[Word]]:
    """A sentence in pieces of at most `max_chars` columns (a single unit may be wider).

    Each piece is cut at a phrase mark if one fits, else at a pause in the voice, else
    anywhere; of those, nearest to an even share of the sentence, and never so as to leave a
    scrap shorter than MIN_PIECE_CHARS when that can be avoided.
    """
    total = width(_text(units))
    if len(units) < 2 or total <= max_chars:
        return [list(units)]
    share = total / -(-total // max_chars)
    cuts = []
    for at in range(1, len(units)):
        left, right = width(_text(units[:at])), width(_text(units[at:]))
        if left > max_chars and at > 1:
            break
        if _ends_with(units[at - 1][2], PHRASE_MARKS):
            rank = 0
        elif units[at][0] - units[at - 1][1] >= PAUSE_SECONDS:
            rank = 1
        else:
            rank = 2
        cuts.append((min(left, right) < MIN_PIECE_CHARS, rank, abs(left - share), -at))
    at = -min(cuts)[3]
    return [list(units[:at]), *_split(units[at:], max_chars)]


def _line_cues(words: Sequence[Word], max_chars: int) -> list[Cue]:
    units = _units(words)
    sentences: list[list[Word]] = [[]]
    for index, unit in enumerate(units):
        sentences[-1].append(unit)
        following = units[index + 1][2] if index + 1 < len(units) else None
        if following is not None and _ends_sentence(unit[2], following):
            sentences.append([])
    cues = [
        _cue(piece) for sentence in sentences if sentence for piece in _split(sentence, max_chars)
    ]
    return [cue for cue in cues if cue[2]]


def caption_cues(
    speeches: Sequence[Speech], starts: Sequence[float], *, max_chars: int = MAX_CHARS
) -> list[Cue]:
    """(start s, end s, text) cues on the video's timeline, in order, never overlapping."""
    if len(speeches) != len(starts):
        raise ValueError(f"caption_cues: {len(speeches)} speeches but {len(starts)} starts")
    if max_chars < 1:
        raise ValueError(f"caption_cues: max_chars must be at least 1, not {max_chars}")
    cues: list[Cue] = []
    for speech, start in zip(speeches, starts, strict=True):
        timed = [(start + a, start + b, text) for a, b, text in speech.words]
        cues.extend(_line_cues(timed, max_chars))
    cues.sort(key=lambda cue: cue[0])
    # A late word of one line must not run over the next cue's start.
    return [
        (a, min(b, cues[i + 1][0]) if i + 1 < len(cues) else b, text)
        for i, (a, b, text) in enumerate(cues)
    ]


def write_vtt(cues: Iterable[Cue], path: Path) -> None:
    """Write the cues as a WebVTT file (UTF-8)."""
    write_captions(list(cues), path)
