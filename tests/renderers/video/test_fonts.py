"""Which characters a font covers decides the fallback chain; the map is read without the
fonts' glyph names (cheaper), and must hold exactly the code points the font maps."""

from __future__ import annotations

import io

from fontTools.ttLib import TTFont

from renderers.video.fonts import FontTable, _cmap, _mapped, _unhinted, pil_font


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
    assert "帳" in table.coverage("cjk-tc") and "帳" not in table.coverage("latin")


def test_truetype_fonts_are_drawn_without_their_glyphs_hinting() -> None:
    """The glyphs' hinting programs are left out (FreeType ran them at every measure and
    draw), their outlines and every other table kept; the font and control value programs
    stay, or FreeType would auto-hint the font instead. A CJK collection (CFF outlines) is
    loaded from its file as it is."""
    table = FontTable.with_overrides({})
    for script in ("latin", "thai", "arabic", "hebrew"):
        for bold in (False, True):
            face = table.face(script, bold)
            data = _unhinted(face.path)
            assert data is not None, script
            with TTFont(face.path) as hinted, TTFont(io.BytesIO(data)) as bare:
                assert bare.getGlyphOrder() == hinted.getGlyphOrder()
                assert bare.getBestCmap() == hinted.getBestCmap()
                assert {"fpgm", "prep", "GSUB", "GPOS"} <= set(bare.keys()), script
                programs = [hinted["glyf"][g].program for g in hinted.getGlyphOrder()
                            if hasattr(hinted["glyf"][g], "program")]  # fmt: skip
                assert any(len(p.getBytecode()) for p in programs), script  # it was hinted
                for name in bare.getGlyphOrder():
                    glyph, original = bare["glyf"][name], hinted["glyf"][name]
                    assert not (hasattr(glyph, "program") and glyph.program.getBytecode())
                    assert glyph.getCoordinates(bare["glyf"])[0] == original.getCoordinates(
                        hinted["glyf"])[0], (script, name)  # fmt: skip
            assert pil_font(face, 40).font_bytes == data  # what is drawn with
    cjk = table.face("cjk-tc", bold=False)
    assert _unhinted(cjk.path) is None
    assert pil_font(cjk, 40).path == str(cjk.path)
