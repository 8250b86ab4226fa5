"""Which characters a font covers decides the fallback chain; the map is read without the
fonts' glyph names (cheaper), and must hold exactly the code points the font maps."""

from __future__ import annotations

from fontTools.ttLib import TTFont

from renderers.video.fonts import FontTable, _cmap, _mapped


def test_covered_code_points_are_the_fonts_own() -> None:
    table = FontTable.with_overrides({})
    for script in ("latin", "thai", "arabic", "hebrew", "cjk-tc"):
        face = table.face(script, bold=False)
        with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
            expected = frozenset(font.getBestCmap())
        bitmap = _cmap(face.path, face.index)
        mapped = {c for c in range(len(bitmap) * 8) if _mapped(bitmap, c)}
        assert mapped == expected, script
        assert len(expected) > 50 and not _mapped(bitmap, len(bitmap) * 8)
    assert table.covers("cjk-tc", "帳") and not table.covers("latin", "帳")
