"""What the warm-up draws from the font files (unhinted TrueType fonts, character maps) is made
once and kept on disk: a fresh process with the cache warm opens no font with fontTools and
gets the same bytes; a damaged or half-written entry, or none to be written, is made again;
an updated font file makes a new entry. Real processes, real fonts; no timing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import renderers.video.fonts as fonts
from renderers.video.fontcache import FONT_CACHE_ENV, _checked
from tests.paths import REPO_ROOT

WAIT_S = 120  # a hang guard for the processes below, not a speed check

# A warm-up in a fresh process; prints how many times fontTools opened or saved a font during
# it, then the digests of what it loaded (every face's unhinted font, each regular face's map).
WARM_UP_CHILD = """
import hashlib, json
from fontTools.ttLib import TTFont
calls = {"opened": 0, "saved": 0}
real_init, real_save = TTFont.__init__, TTFont.save
def init(self, *a, **k):
    calls["opened"] += 1
    real_init(self, *a, **k)
def save(self, *a, **k):
    calls["saved"] += 1
    return real_save(self, *a, **k)
TTFont.__init__, TTFont.save = init, save
from renderers.video.fonts import DEFAULT_FONT_FILES, FontTable, _cmap, _unhinted
from renderers.warm import warm_up
warm_up()
during = dict(calls)
table, digests = FontTable.with_overrides({}), {}
for script in DEFAULT_FONT_FILES:
    regular = table.face(script, bold=False)
    digests[f"{script} map"] = hashlib.sha256(_cmap(regular.path, regular.index)).hexdigest()
    for bold in (False, True):
        data = _unhinted(table.face(script, bold).path)
        digests[f"{script} {bold}"] = data and hashlib.sha256(data).hexdigest()
print(json.dumps([during, digests]))
"""


def _python(code: str, cache: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), FONT_CACHE_ENV: str(cache)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> list[dict[str, object]]:
    out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err[-2000:]
    result: list[dict[str, object]] = json.loads(out.splitlines()[-1])
    return result


def _assert_whole(cache: Path) -> None:
    """Entries only, each whole: no temporary left, every digest right."""
    names = [p.name for p in cache.iterdir()]
    assert names and not [n for n in names if n.startswith(".")], names
    assert all(_checked((cache / n).read_bytes()) is not None for n in names)


def test_a_warm_up_in_a_fresh_process_with_a_warm_cache_rewrites_no_font(tmp_path: Path) -> None:
    cache = tmp_path / "fonts"
    # two workers warming up at once on an empty cache: both write, neither reads half
    first = [_finish(p) for p in [_python(WARM_UP_CHILD, cache) for _ in range(2)]]
    assert any(calls["saved"] for calls, _ in first)  # the cache was empty
    assert first[0][1] == first[1][1]
    _assert_whole(cache)
    entries = sorted(p.name for p in cache.iterdir())

    calls, digests = _finish(_python(WARM_UP_CHILD, cache))
    assert calls == {"opened": 0, "saved": 0}  # not one font read or rewritten by fontTools
    assert digests == first[0][1]
    assert sorted(p.name for p in cache.iterdir()) == entries
    # and the entry is exactly what rewriting the font gives
    latin = fonts.FontTable.with_overrides({}).face("latin", bold=False).path
    assert digests["latin False"] == hashlib.sha256(fonts._rewrite(latin) or b"").hexdigest()


Made = Callable[[Path], bytes | None]
KINDS: dict[str, tuple[Made, str]] = {
    # the functions under their in-memory cache, and the name of what they make an entry with
    "unhinted": (lambda p: fonts._unhinted.__wrapped__(p), "_rewrite"),
    "map": (lambda p: fonts._cmap.__wrapped__(p, 0), "_read_cmap"),
}


@pytest.fixture
def thai(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of a small font, and a cache of its own."""
    monkeypatch.setenv(FONT_CACHE_ENV, str(tmp_path / "fonts"))
    face = fonts.FontTable.with_overrides({}).face("thai", bold=False)
    copy = tmp_path / face.path.name
    shutil.copyfile(face.path, copy)
    return copy


def _counted(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Counts the calls of fonts.`name`, the function that makes an entry's bytes."""
    calls: list[int] = []
    real = getattr(fonts, name)

    def counted(*args: object) -> object:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(fonts, name, counted)
    return calls


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("damage", ["cut short", "a byte changed", "empty", "not ours"])
def test_a_damaged_entry_is_made_again(
    thai: Path, monkeypatch: pytest.MonkeyPatch, kind: str, damage: str
) -> None:
    get, maker = KINDS[kind]
    cache = thai.parent / "fonts"
    made = get(thai)
    assert made
    (entry,) = cache.iterdir()
    data = entry.read_bytes()
    damaged = {
        "cut short": data[: len(data) // 2],
        "a byte changed": data[:-1] + bytes([data[-1] ^ 1]),
        "empty": b"",
        "not ours": b"x" * len(data),
    }[damage]
    entry.write_bytes(damaged)
    calls = _counted(monkeypatch, maker)
    assert get(thai) == made and len(calls) == 1
    assert entry.read_bytes() == data  # made again, whole
    assert get(thai) == made and len(calls) == 1  # and read from then on


@pytest.mark.parametrize("kind", KINDS)
def test_a_half_written_temporary_is_never_read(
    thai: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A writer killed mid-entry leaves a temporary under a name of its own, never the entry."""
    get, maker = KINDS[kind]
    cache = thai.parent / "fonts"
    made = get(thai)
    (entry,) = cache.iterdir()
    data = entry.read_bytes()
    entry.unlink()
    key = entry.name.split("-")[0]
    (cache / f".{key}-killed{entry.suffix}").write_bytes(data[: len(data) // 2])
    calls = _counted(monkeypatch, maker)
    assert get(thai) == made and len(calls) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_an_updated_font_file_makes_a_new_entry(
    thai: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    get, maker = KINDS[kind]
    cache = thai.parent / "fonts"
    get(thai)
    calls = _counted(monkeypatch, maker)
    stat = thai.stat()
    os.utime(thai, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched: same bytes
    get(thai)
    assert len(calls) == 1 and len(list(cache.iterdir())) == 2
    with thai.open("ab") as font:  # another size (trailing bytes: still a readable font)
        font.write(b"\0" * 4)
    get(thai)
    assert len(calls) == 2 and len(list(cache.iterdir())) == 3
    get(thai)
    assert len(calls) == 2


@pytest.mark.parametrize("kind", KINDS)
def test_without_a_cache_to_write_fonts_are_made_in_memory(
    thai: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    get, maker = KINDS[kind]
    made = get(thai)
    blocked = thai.parent / "a-file"
    blocked.write_bytes(b"")
    monkeypatch.setenv(FONT_CACHE_ENV, str(blocked / "fonts"))  # cannot be made a directory
    calls = _counted(monkeypatch, maker)
    assert get(thai) == made and len(calls) == 1


def test_the_cache_follows_fonttools(thai: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another fontTools may rewrite a font to other bytes: a new entry, not the old one."""
    import fontTools

    get, maker = KINDS["unhinted"]
    get(thai)
    monkeypatch.setattr(fontTools, "version", "0.0")
    calls = _counted(monkeypatch, maker)
    get(thai)
    assert len(calls) == 1 and len(list((thai.parent / "fonts").iterdir())) == 2
