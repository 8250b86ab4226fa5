"""Publish checks: the whole sample set drawn; a broken draft is caught and explained."""

from __future__ import annotations

import dataclasses
import json

from app.preview import publish_checks
from renderers.templates import TemplateBundle
from renderers.video.spec import Scene


def test_the_shipped_template_passes_every_check_without_a_warning(
    shipped: TemplateBundle,
) -> None:
    report = publish_checks(shipped)  # on the pool, as the studio runs it
    assert report.ok and report.failures == () and report.warnings == ()
    checked = {check.name: check.checked for check in report.checks}
    videos = 5 * 8 * 3  # endings x locales x formats
    assert checked["plan"] == videos and checked["microsite"] == 5 * 8
    assert checked["layers"] > 6 * videos  # every scene each sample shows
    assert report.locales == ("ar", "de", "en", "fr", "he", "it", "th", "zh-Hant")
    as_json = json.loads(json.dumps(report.as_dict()))
    assert as_json["ok"] is True and len(as_json["checks"]) == 3


def test_a_broken_draft_fails_and_the_report_says_where(broken: TemplateBundle) -> None:
    report = publish_checks(broken, workers=1)
    assert not report.ok
    failed = {check.name: check.failed for check in report.checks}
    assert failed == {"plan": 2 * 3, "layers": 2 * 3, "microsite": 0}
    layer = next(f for f in report.failures if f.check == "layers")
    assert (layer.ending, layer.scene) == ("firm", "ending") and "missing" in layer.message
    plan = next(f for f in report.failures if f.check == "plan")
    assert plan.ending == "thanks" and plan.scene is None and "when" in plan.message
    assert {(f.locale, f.format) for f in report.failures if f.check == "plan"} == {
        (locale, fmt) for locale in ("ar", "en") for fmt in ("16:9", "9:16", "1:1")
    }
    assert report.as_dict()["failures"][0]["locale"] in {"ar", "en"}


def test_marks_are_warnings_that_do_not_stop_a_publish(two_locales: TemplateBundle) -> None:
    spec = two_locales.spec
    long = "An offer worded at such length that no box of this size could ever hold it " * 4
    squeezed = Scene.model_validate({"id": "squeezed", "duration": 1, "layers": [
        {"type": "text", "text": long, "box": [0.1, 0.1, 0.3, 0.1], "min_size": 30}]})  # fmt: skip
    bundle = dataclasses.replace(
        two_locales, spec=spec.model_copy(update={"scenes": [*spec.scenes, squeezed]})
    )
    report = publish_checks(bundle, workers=1)
    assert report.ok
    kinds = {(w.mark.kind, w.mark.scene, w.mark.layer) for w in report.warnings}
    assert kinds == {("text_shrunk", "squeezed", 0)}
    assert len(report.warnings) == 5 * 2 * 3  # one per video
