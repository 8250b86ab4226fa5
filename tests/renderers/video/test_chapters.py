"""The video's timeline: a titled chapter per scene, calls to action from the scene spec,
and the template checks of both. Planned only: nothing is drawn or encoded here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from renderers.errors import TemplateError
from renderers.story import facts as bill_facts
from renderers.templates import TemplateBundle, load_bundle
from renderers.timeline import Timeline
from renderers.video.chapters import video_timeline
from renderers.video.formats import FPS, get_format
from tests.factories import make_bill
from tests.paths import REPO_ROOT
from tests.videokit import plan

NAME = "bill-explainer"
FIRM = {"bill.status": "overdue", "bill.days_overdue": 45}


@pytest.fixture(scope="module")
def bundle() -> TemplateBundle:
    return load_bundle(NAME)


def timeline(bundle: TemplateBundle, tmp: Path, fmt: str = "16:9", **overrides: object) -> Timeline:
    bill = make_bill(**overrides)
    facts = bill_facts(bill, bundle.locale)
    narration = bundle.narration.filled(facts.locale, facts.placeholders())
    planned = plan(bill, bundle, tmp, fmt)
    return video_timeline(planned, narration, get_format(fmt), payable=facts.asks_payment)


def test_every_locale_titles_every_scene(bundle: TemplateBundle) -> None:
    """Each shipped catalog titles each scene itself: no chapter falls back to English."""
    ids = [scene.id for scene in bundle.spec.scenes]
    for locale in bundle.narration.locales:
        own = bundle.narration.by_locale[locale]
        missing = [i for i in ids if not own.get(f"chapters.{i}", "").strip()]
        assert missing == [], f"{locale}.yaml lacks chapter titles for {missing}"
        if locale != "en":
            same = [i for i in ids if own[f"chapters.{i}"] == bundle.narration.by_locale["en"][
                f"chapters.{i}"]]  # fmt: skip
            assert len(same) <= 1, f"{locale}.yaml: untranslated chapter titles {same}"


def test_chapters_cover_the_video_in_the_bills_language(
    bundle: TemplateBundle, tmp_path: Path
) -> None:
    planned = plan(make_bill(**{"customer.locale": "he-IL"}), bundle, tmp_path)
    got = timeline(bundle, tmp_path, **{"customer.locale": "he-IL"})
    assert [c.scene for c in got.chapters] == [p.scene.id for p in planned]
    assert got.chapters[0].start == 0 and got.chapters[-1].end == got.duration
    assert all(a.end == b.start for a, b in zip(got.chapters, got.chapters[1:], strict=False))
    hebrew = bundle.narration.by_locale["he"]
    assert [c.title for c in got.chapters] == [hebrew[f"chapters.{c.scene}"] for c in got.chapters]
    lines = next(p for p in planned if p.scene.id == "breakdown")
    assert got.lines_at == lines.start / FPS


def test_calls_to_action_follow_the_tone(bundle: TemplateBundle, tmp_path: Path) -> None:
    firm = timeline(bundle, tmp_path, **FIRM)
    ending = next(c for c in firm.chapters if c.scene == "ending")
    assert [c.name for c in firm.ctas] == ["pay", "instalments", "contact"]
    for cta in firm.ctas:  # while the ending plays, from 0.4 s into it
        assert (cta.start, cta.end) == (pytest.approx(ending.start + 0.4), ending.end)
    assert [c.box[0] for c in firm.ctas] == [0.03, 0.35, 0.67]  # a row along the top in 16:9
    pay = timeline(bundle, tmp_path)
    assert [c.name for c in pay.ctas] == ["pay", "contact"]
    assert pay.ctas[1].box == (0.52, 0.03, 0.45, 0.16)  # two share the row


@pytest.mark.parametrize(
    "overrides", [{"bill.status": "paid"}, {"bill.total": "-12.00", "bill.lines": []}]
)
def test_a_bill_that_asks_nothing_gets_no_call_to_action(
    bundle: TemplateBundle, tmp_path: Path, overrides: dict[str, object]
) -> None:
    assert timeline(bundle, tmp_path, **overrides).ctas == ()


def test_boxes_follow_the_format_and_mirror_right_to_left(
    bundle: TemplateBundle, tmp_path: Path
) -> None:
    tall = timeline(bundle, tmp_path, "9:16", **FIRM)
    assert tall.ctas[0].box == (0.15, 0.6, 0.7, 0.08)
    assert (tall.width, tall.height) == (720, 1280)
    rtl = timeline(bundle, tmp_path, **{**FIRM, "customer.locale": "ar-EG"})
    assert rtl.ctas[0].box == pytest.approx((0.67, 0.03, 0.3, 0.16))  # 1 - 0.03 - 0.3


# --- the template checks -----------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for part in ("scenes", "microsite_templates"):
        shutil.copytree(REPO_ROOT / part / NAME, tmp_path / part / NAME)
    return tmp_path


def _edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    file.write_text(text.replace(old, new), encoding="utf-8")


def test_a_scene_without_a_chapter_title_is_refused(root: Path) -> None:
    _edit(root / "scenes" / NAME / "narration" / "en.yaml", '  tip: "A tip to save"\n', "")
    with pytest.raises(TemplateError, match=r"en\.yaml:1: chapters\.tip: required"):
        load_bundle(NAME, root)


def test_a_title_for_no_scene_or_an_empty_one_is_refused(root: Path) -> None:
    catalog = root / "scenes" / NAME / "narration" / "en.yaml"
    _edit(catalog, '  outro: "The end"\n', '  outro: "The end"\n  finale: "Bye"\n')
    with pytest.raises(TemplateError, match=r"en\.yaml:\d+: chapters\.finale: a chapter title"):
        load_bundle(NAME, root)
    _edit(catalog, '  finale: "Bye"\n', "")
    german = root / "scenes" / NAME / "narration" / "de.yaml"
    _edit(german, '  tip: "Ein Spartipp"\n', '  tip: " "\n')
    with pytest.raises(TemplateError, match=r"de\.yaml:\d+: chapters\.tip: .*must not be empty"):
        load_bundle(NAME, root)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("      - name: instalments", "      - name: donate", r"cta\[1\]\.name: Input should be"),
        ("when: has_qr and tone == 'firm'\n        at: 0.4\n        box: [0.03,",
         "when: has_qr and\n        at: 0.4\n        box: [0.03,", r"cta\[0\]\.when: "),
        ("        at: 0.4\n        box: [0.03, 0.03, 0.3,", "        at: 0.4\n        until: 0.2\n"
         "        box: [0.03, 0.03, 0.3,", r"scenes\[6\]\.cta\[0\]: Value error, until must be"),
        ("box: [0.03, 0.03, 0.3, 0.16]", "box: [0.8, 0.03, 0.3, 0.16]", r"within the frame"),
    ],
)  # fmt: skip
def test_calls_to_action_are_checked_when_the_bundle_loads(
    root: Path, old: str, new: str, message: str
) -> None:
    _edit(root / "scenes" / NAME / "scenes.yaml", old, new)
    with pytest.raises(TemplateError, match=message):
        load_bundle(NAME, root)


def test_a_shared_scene_offers_no_call_to_action(root: Path) -> None:
    spec = root / "scenes" / NAME / "scenes.yaml"
    _edit(spec, "    shared: true\n    duration: 2\n    transition:",
          "    shared: true\n    duration: 2\n    cta: [{name: contact, box: [0, 0, 0.2, 0.2]}]\n"
          "    transition:")  # fmt: skip
    with pytest.raises(TemplateError, match="a shared scene has no calls to action"):
        load_bundle(NAME, root)
