"""Which characters a font covers decides the fallback chain; the map is read without the
fonts' glyph names (cheaper), and must hold exactly the code points the font maps."""

from __future__ import annotations

from fontTools.ttLib import TTFont

from renderers.video.fonts import FontTable, _cmap


def test_covered_code_points_are_the_fonts_own() -> None:
    table = FontTable.with_overrides({})
    for script in ("latin", "thai", "arabic", "hebrew", "cjk-tc"):
        face = table.face(script, bold=False)
        with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
            expected = frozenset(font.getBestCmap())
        assert _cmap(face.path, face.index) == expected, script
        assert len(expected) > 50
    assert table.covers("cjk-tc", "帳") and not table.covers("latin", "帳")
