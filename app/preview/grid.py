"""The grid: one scene's settled frame for every sample ending x every locale of the
template x every format, each cell with its thumbnail, its marks, or why it has none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.preview.pictures import thumbnail
from app.preview.pool import run_chunks
from app.preview.samples import ENDINGS, sample_bill, template_locales
from renderers.preview import Mark, Preview
from renderers.templates import TemplateBundle
from renderers.video.formats import FORMAT_NAMES

NOT_SHOWN = "the scene does not show for this sample (its `when` is false)"


class UnknownScene(ValueError):
    """The template has no scene by that id."""


@dataclass(frozen=True)
class Cell:
    ending: str
    locale: str
    format: str
    shown: bool  # the scene shows for this sample (False: see `note`)
    png: bytes | None  # the thumbnail (a quarter of the frame's width and height)
    marks: tuple[Mark, ...]
    error: str | None  # why the frame could not be drawn; None when it was
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        """Everything but the picture, as JSON values."""
        return {
            "ending": self.ending, "locale": self.locale, "format": self.format,
            "shown": self.shown, "marks": [m.as_dict() for m in self.marks],
            "error": self.error, "note": self.note,
        }  # fmt: skip


Coordinate = tuple[str, str, str]  # ending, locale, format


def failure(exc: BaseException) -> str:
    """A drawing failure as the studio shows it (a template error names file, line, path)."""
    return str(exc) or type(exc).__name__


def draw_cell(bundle: TemplateBundle, scene_id: str, at: Coordinate) -> Cell:
    ending, locale, video_format = at
    try:
        preview = Preview(sample_bill(ending, locale), bundle, video_format)
        planned = preview.scene(scene_id)
        if planned is None:
            return Cell(ending, locale, video_format, False, None, (), None, NOT_SHOWN)
        still = preview.settled(planned)
        return Cell(ending, locale, video_format, True, thumbnail(still.image), still.marks, None)
    except Exception as exc:  # a draft's template failing on a sample: the cell says how
        return Cell(ending, locale, video_format, True, None, (), failure(exc))


def draw_cells(bundle: TemplateBundle, scene_id: str, chunk: Sequence[Coordinate]) -> list[Cell]:
    return [draw_cell(bundle, scene_id, at) for at in chunk]


def coordinates(bundle: TemplateBundle) -> list[Coordinate]:
    """Every ending x every locale of the template x every format, in that order."""
    return [
        (ending, locale, video_format)
        for ending in ENDINGS
        for locale in template_locales(bundle)
        for video_format in FORMAT_NAMES
    ]


def grid(bundle: TemplateBundle, scene_id: str, *, workers: int | None = None) -> list[Cell]:
    """The scene `scene_id`'s settled frame over the whole sample set, one cell per ending x
    locale x format (in that order), drawn by `workers` processes (None: one per core)."""
    if scene_id not in {scene.id for scene in bundle.spec.scenes}:
        known = ", ".join(scene.id for scene in bundle.spec.scenes)
        raise UnknownScene(f"the template has no scene {scene_id!r}; it has {known}")
    cells = run_chunks(draw_cells, bundle, scene_id, coordinates(bundle), workers=workers)
    return cells
