"""The shared-scene cache under parallel renders, and segment timing: real processes, real
ffmpeg.

Renders running at once must never write the same temporary file, and a cache entry is
either absent or whole (written under a temporary name of its own, then renamed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from renderers.video.cache import CACHE_DIR_ENV, cached
from renderers.video.compose import Run
from renderers.video.encode import encode_runs
from renderers.video.formats import Format
from tests.paths import REPO_ROOT
from tests.realparts import require
from tests.videokit import gray_means

WAIT_S = 60  # a hang guard for the processes below, not a speed check

# One render in its own process; prints every file its ffmpeg processes wrote (the last
# argument of each ffmpeg command line that writes one; not `ffmpeg -version`).
RENDER_CHILD = """
import json, subprocess, sys
from pathlib import Path
written = []
real_init = subprocess.Popen.__init__
def spy(self, args, *a, **k):
    if isinstance(args, list) and "ffmpeg" in Path(str(args[0])).name and args[-1] != "-version":
        written.append(str(Path(args[-1]).resolve()))
    real_init(self, args, *a, **k)
subprocess.Popen.__init__ = spy
from renderers import render
from renderers.templates import load_bundle
bill = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
render(bill, load_bundle("bill-explainer"), ["video"], Path(sys.argv[2]))
print(json.dumps(written))
"""

# Two processes make the same entry at once; each waits for the other inside `make`, so
# both are writing their temporary files at the same time.
RACE_CHILD = """
import sys, time
from pathlib import Path
from renderers.video.cache import cached
directory, me, other = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
def make(temporary):
    (directory / f"{me}.temp").write_text(str(temporary))
    deadline = time.monotonic() + 60
    while not (directory / f"{other}.temp").exists():
        if time.monotonic() > deadline:
            raise SystemExit("the other process never started writing")
        time.sleep(0.01)
    with temporary.open("wb") as out:
        for _ in range(64):
            out.write(b"x" * 16384)
            for entry in directory.glob("k*.mp4"):  # the other's entry, if any, is whole
                assert entry.stat().st_size == 64 * 16384, "half an entry"
    return temporary
print(cached(directory, "k", make))
"""


def _python(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=WAIT_S * 5)
    assert proc.returncode == 0, err[-2000:]
    return out.strip().splitlines()[-1]


def test_entry_made_at_once_by_two_processes_is_whole(tmp_path: Path) -> None:
    procs = [
        _python(RACE_CHILD, str(tmp_path), me, other) for me, other in (("a", "b"), ("b", "a"))
    ]
    finals = [Path(_finish(p)) for p in procs]
    assert finals[0] == finals[1] and finals[0].parent == tmp_path
    temporaries = [(tmp_path / f"{name}.temp").read_text() for name in ("a", "b")]
    assert temporaries[0] != temporaries[1]  # each wrote a temporary of its own
    assert finals[0].stat().st_size == 64 * 16384
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.temp", "b.temp", finals[0].name]


def test_failed_make_leaves_nothing(tmp_path: Path) -> None:
    def make(temporary: Path) -> Path:
        temporary.write_bytes(b"half")
        raise RuntimeError("ffmpeg died")

    with pytest.raises(RuntimeError):
        cached(tmp_path, "k", make)
    assert list(tmp_path.iterdir()) == []


def test_two_renders_at_once_share_no_temporary_file(tmp_path: Path) -> None:
    require("ffmpeg")
    bill = tmp_path / "bill.json"
    bill.write_text((REPO_ROOT / "examples" / "it_overdue.json").read_text(encoding="utf-8"))
    cache = tmp_path / "cache"
    env = {CACHE_DIR_ENV: str(cache)}
    workdirs = [tmp_path / "one", tmp_path / "two"]
    procs = [_python(RENDER_CHILD, str(bill), str(w), env=env) for w in workdirs]
    written = [set(json.loads(_finish(p))) for p in procs]

    assert written[0] and not written[0] & written[1]
    for files, workdir in zip(written, workdirs, strict=True):
        # each file is in the render's own work directory or a temporary of its own in the
        # cache (a dot name, renamed into place)
        for name in files:
            path = Path(name)
            assert path.is_relative_to(workdir.resolve()) or (
                path.parent == cache.resolve() and path.name.startswith(".")
            ), name
    entries = sorted(p.name for p in cache.iterdir())
    assert entries and not [e for e in entries if e.startswith(".")]  # no temporaries left
    assert any(e.endswith(".m4a") for e in entries)  # the audio bed is shared as well
    video = [(w / "video.mp4").read_bytes() for w in workdirs]
    assert video[0] == video[1]  # deterministic, whichever process made the entries

    # A third render finds every shared part in the cache: ffmpeg writes only its own files.
    third = tmp_path / "three"
    again = json.loads(_finish(_python(RENDER_CHILD, str(bill), str(third), env=env)))
    assert again and all(Path(n).is_relative_to(third.resolve()) for n in again)
    assert sorted(p.name for p in cache.iterdir()) == entries
    assert (third / "video.mp4").read_bytes() == video[0]


@pytest.mark.parametrize("variable_rate", [False, True])
def test_every_frame_of_a_segment_is_where_it_belongs(tmp_path: Path, variable_rate: bool) -> None:
    """Runs of held images come out frame for frame, at a constant 30 fps when decoded (a
    rounding slip in the timestamps once dropped a frame and doubled its neighbour)."""
    require("ffmpeg")
    fmt = Format("16:9", 160, 90)
    # 133 frames, 49 distinct images; 123 is a frame number the slip hit
    counts = [1, 1, 2, 1, 5, 1, 1, 3, 1, 1] * 4 + [7, 42] + [1] * 6 + [4]
    levels = [16 + 4 * i for i in range(len(counts))]
    runs = [Run(Image.new("RGB", (fmt.width, fmt.height), (v, v, v)), c)
            for v, c in zip(levels, counts, strict=True)]  # fmt: skip
    out = encode_runs(runs, counts, fmt, tmp_path / "part.mp4", variable_rate=variable_rate)
    decoded = gray_means(out, (fmt.width, fmt.height))
    expected = [v for v, c in zip(levels, counts, strict=True) for _ in range(c)]
    assert len(decoded) == len(expected)
    assert all(abs(d - e) < 1.5 for d, e in zip(decoded, expected, strict=True)), decoded


def test_a_shared_scene_key_follows_the_encoder_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A segment coded with other settings (or at the other frame rate) must never be joined
    to new ones: either changes the shared scene's cache key."""
    import renderers.video.encode as encode
    from renderers.templates import load_bundle
    from renderers.video import Job, _shared_key
    from renderers.video.formats import get_format
    from tests.factories import make_bill
    from tests.videokit import plan

    bundle = load_bundle("bill-explainer")
    job = Job(bundle.name, bundle.spec, bundle.scenes_dir, {})
    shared = next(p for p in plan(make_bill(), bundle, tmp_path) if p.scene.shared)
    key = _shared_key(job, get_format("16:9"), shared)
    assert _shared_key(job, get_format("16:9"), shared) == key
    crf = encode.VIDEO_SETTINGS.index("-crf") + 1
    other = [*encode.VIDEO_SETTINGS[:crf], "30", *encode.VIDEO_SETTINGS[crf + 1 :]]
    monkeypatch.setattr(encode, "VIDEO_SETTINGS", other)
    assert _shared_key(job, get_format("16:9"), shared) != key
    monkeypatch.undo()
    monkeypatch.setattr(encode, "VARIABLE_RATE", not encode.VARIABLE_RATE)
    assert _shared_key(job, get_format("16:9"), shared) != key


def test_entries_follow_the_ffmpeg_build_and_the_font_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another ffmpeg may code the same frames to other bytes, and an updated font (or
    another fontTools rewriting it) draws other pixels: either makes new entries instead of
    joining old ones to new segments."""
    import fontTools

    import renderers.video.cache as cache
    from renderers.templates import load_bundle
    from renderers.video import Job, _shared_key
    from renderers.video.fonts import FontOverride, FontTable
    from renderers.video.formats import get_format
    from tests.factories import make_bill
    from tests.videokit import plan

    bundle = load_bundle("bill-explainer")
    job = Job(bundle.name, bundle.spec, bundle.scenes_dir, {})
    shared = next(p for p in plan(make_bill(), bundle, tmp_path) if p.scene.shared)
    key = _shared_key(job, get_format("16:9"), shared)
    monkeypatch.setattr(cache, "ffmpeg_build", lambda exe: "ffmpeg version 99")
    assert _shared_key(job, get_format("16:9"), shared) != key
    monkeypatch.undo()
    monkeypatch.setattr(fontTools, "version", "0.0")
    assert _shared_key(job, get_format("16:9"), shared) != key
    monkeypatch.undo()
    assert _shared_key(job, get_format("16:9"), shared) == key

    latin = FontTable.with_overrides({}).face("latin", bold=False).path
    copy = tmp_path / latin.name
    copy.write_bytes(latin.read_bytes())
    table = FontTable.with_overrides({"latin": FontOverride(regular=str(copy))})
    locale = shared.ctx.typesetter.locale
    before = table.fingerprint(locale)
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 10**9))
    assert table.fingerprint(locale) != before


def test_a_shared_scene_key_follows_its_strings_and_assets(tmp_path: Path) -> None:
    """A studio edit of a shared scene's title or of the logo must draw that scene anew, never
    join the old segment: the narration strings and the asset bytes are in the key."""
    import shutil

    from renderers.templates import load_bundle
    from renderers.video import Job, _shared_key
    from renderers.video.formats import get_format
    from tests.factories import make_bill
    from tests.paths import REPO_ROOT
    from tests.videokit import plan

    for folder in ("scenes", "microsite_templates"):
        shutil.copytree(REPO_ROOT / folder / "bill-explainer", tmp_path / folder / "bill-explainer")
    bundle = load_bundle("bill-explainer", root=tmp_path)
    catalog = dict(bundle.narration.by_locale["en"])
    job = Job(bundle.name, bundle.spec, bundle.scenes_dir, catalog)
    shared = next(p for p in plan(make_bill(), bundle, tmp_path / "w") if p.scene.shared)
    key = _shared_key(job, get_format("16:9"), shared)
    retitled = Job(bundle.name, bundle.spec, bundle.scenes_dir, catalog | {"intro.title": "New"})
    assert _shared_key(retitled, get_format("16:9"), shared) != key
    logo = bundle.scenes_dir / "assets" / "logo.png"
    logo.write_bytes(logo.read_bytes() + b"\0")  # other bytes, same name
    assert _shared_key(job, get_format("16:9"), shared) != key
