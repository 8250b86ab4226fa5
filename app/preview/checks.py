"""What must hold before a draft is published, checked over the whole sample set.

For every sample ending x every locale the template has x every format:

    plan       the video plans: every scene's and layer's `when` evaluates, narration fills
    layers     every layer of every scene that shows draws, as it looks settled
    microsite  the sample's microsite page renders (per ending x locale; it has no format)

A failure names the ending, locale, format, scene and the message; marks (text shrunk past
its minimum, glyphs missing, boxes off the frame) are warnings, which do not stop a publish.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.preview.grid import Coordinate, failure
from app.preview.pool import run_chunks
from app.preview.samples import ENDINGS, sample_bill, template_locales
from app.preview.site import site_html
from renderers.preview import LayerMemo, Mark, Preview
from renderers.templates import TemplateBundle
from renderers.video.formats import FORMAT_NAMES

CHECKS = {
    "plan": "every sample's video plans in every locale and format",
    "layers": "every layer of every scene shown draws, settled",
    "microsite": "every sample's microsite renders in every locale",
}


@dataclass(frozen=True)
class Failure:
    check: str
    ending: str
    locale: str
    format: str | None  # None: the microsite
    scene: str | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"check": self.check, "ending": self.ending, "locale": self.locale,
                "format": self.format, "scene": self.scene, "message": self.message}  # fmt: skip


@dataclass(frozen=True)
class MarkWarning:
    ending: str
    locale: str
    format: str
    mark: Mark

    def as_dict(self) -> dict[str, object]:
        return {"ending": self.ending, "locale": self.locale, "format": self.format,
                **self.mark.as_dict()}  # fmt: skip


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    checked: int  # how many items (videos, scenes, pages) it checked
    failed: int

    @property
    def passed(self) -> bool:
        return self.failed == 0


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]
    failures: tuple[Failure, ...]
    warnings: tuple[MarkWarning, ...]
    endings: tuple[str, ...]
    locales: tuple[str, ...]
    formats: tuple[str, ...]
    seconds: float  # how long the checks took (wall clock)

    @property
    def ok(self) -> bool:
        return all(check.passed for check in self.checks)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checks": [{"name": c.name, "description": c.description, "checked": c.checked,
                        "failed": c.failed, "passed": c.passed} for c in self.checks],
            "failures": [f.as_dict() for f in self.failures],
            "warnings": [w.as_dict() for w in self.warnings],
            "samples": {"endings": list(self.endings), "locales": list(self.locales),
                        "formats": list(self.formats)},
            "seconds": round(self.seconds, 3),
        }  # fmt: skip


@dataclass
class _Tally:
    """One chunk's outcome: counts per check, failures, warnings (picklable)."""

    checked: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHECKS, 0))
    failed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHECKS, 0))
    failures: list[Failure] = field(default_factory=list)
    warnings: list[MarkWarning] = field(default_factory=list)

    def count(self, check: str, error: Failure | None = None) -> None:
        self.checked[check] += 1
        if error is not None:
            self.failed[check] += 1
            self.failures.append(error)


def _video(bundle: TemplateBundle, at: Coordinate, drawn: LayerMemo, tally: _Tally) -> None:
    ending, locale, video_format = at
    try:
        preview = Preview(sample_bill(ending, locale), bundle, video_format)
    except Exception as exc:  # the draft's template failing on a sample is what is checked
        tally.count("plan", Failure("plan", ending, locale, video_format, None, failure(exc)))
        return
    tally.count("plan")
    for planned in preview.planned:
        try:
            marks = preview.layer_marks(planned, drawn)
        except Exception as exc:
            problem = Failure("layers", ending, locale, video_format, planned.scene.id,
                              failure(exc))  # fmt: skip
            tally.count("layers", problem)
            continue
        tally.count("layers")
        tally.warnings += [MarkWarning(ending, locale, video_format, mark) for mark in marks]


def _page(bundle: TemplateBundle, ending: str, locale: str, tally: _Tally) -> None:
    try:
        site_html(bundle, ending, locale)
        tally.count("microsite")
    except Exception as exc:
        tally.count("microsite", Failure("microsite", ending, locale, None, None, failure(exc)))


Group = tuple[str, str]  # locale, format: the videos of every ending in them


def check_groups(bundle: TemplateBundle, _: None, groups: Sequence[Group]) -> list[_Tally]:
    """One tally per group: every ending's video in the group's locale and format, and in
    the first format the microsite too (it has none). A layer drawn the same for several
    endings (a title, a shared scene) is drawn once (`Preview.layer_marks`)."""
    tallies = []
    for locale, video_format in groups:
        tally, drawn = _Tally(), LayerMemo()
        for ending in ENDINGS:
            _video(bundle, (ending, locale, video_format), drawn, tally)
            if video_format == FORMAT_NAMES[0]:
                _page(bundle, ending, locale, tally)
        tallies.append(tally)
    return tallies


def publish_checks(bundle: TemplateBundle, *, workers: int | None = None) -> Report:
    """Check the bundle over the whole sample set (see the module's docstring); spread over
    `workers` processes (None: one per core)."""
    started = time.perf_counter()
    groups = [(locale, f) for locale in template_locales(bundle) for f in FORMAT_NAMES]
    tallies = run_chunks(check_groups, bundle, None, groups, workers=workers)
    checks: list[Check] = []
    failures: list[Failure] = []
    warnings: list[MarkWarning] = []
    for name, description in CHECKS.items():
        checked = sum(t.checked[name] for t in tallies)
        failed = sum(t.failed[name] for t in tallies)
        checks.append(Check(name, description, checked, failed))
    for tally in tallies:
        failures += tally.failures
        warnings += tally.warnings
    return Report(
        tuple(checks), tuple(failures), tuple(warnings), ENDINGS,
        tuple(template_locales(bundle)), FORMAT_NAMES, time.perf_counter() - started,
    )  # fmt: skip


_reports: dict[str, Report] = {}
_reports_lock = threading.Lock()
REPORTS_KEPT = 16


def publish_checks_of(bundle: TemplateBundle, digest: str) -> Report:
    """`publish_checks` of a version's content, checked once per process: the checks are a
    function of the files (named by their `digest`) and of this process's code and fonts."""
    with _reports_lock:
        known = _reports.get(digest)
    if known is not None:
        return known
    report = publish_checks(bundle)
    with _reports_lock:
        if len(_reports) >= REPORTS_KEPT:
            _reports.pop(next(iter(_reports)))
        _reports[digest] = report
    return report


def publish_outcome(bundle: TemplateBundle, digest: str) -> dict[str, object]:
    """The publish checks as the store's publish report takes them (a named, JSON-able check
    with `ok`), for the API and the studio alike."""
    report = publish_checks_of(bundle, digest)
    return {"name": "every sample renders (the grid of every scene)", **report.as_dict(),
            "cells": sum(c.checked for c in report.checks)}  # fmt: skip
