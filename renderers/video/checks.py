"""Checks of a scene spec beyond its shape: every expression and text template compiles and
every file it names exists. Errors name the file, the line and the path."""

from __future__ import annotations

from pathlib import Path

from renderers.errors import TemplateError
from renderers.video.expressions import check
from renderers.video.layers import kind_of
from renderers.video.layers.background import Background
from renderers.video.layers.image import Picture
from renderers.video.spec import VideoSpec
from renderers.yamlfile import Key, dotted, line_of


def _fail(message: str, file: Path, lines: dict[Key, int], key: Key) -> TemplateError:
    return TemplateError(message, file=file, line=line_of(lines, key), path=dotted(key))


def check_spec(spec: VideoSpec, file: Path, lines: dict[Key, int]) -> None:
    base = file.parent
    for i, scene in enumerate(spec.scenes):
        sources: list[tuple[Key, str, bool]] = [(("scenes", i, "when"), scene.when, False)]
        if scene.say:
            sources.append((("scenes", i, "say"), scene.say, True))
        for j, layer in enumerate(scene.layers):
            at: Key = ("scenes", i, "layers", j)
            if layer.when is not None:
                sources.append(((*at, "when"), layer.when, False))
            sources += [((*at, name), src, tpl) for name, src, tpl in kind_of(layer).sources(layer)]
            picture = layer.path if isinstance(layer, Picture) else None
            if isinstance(layer, Background):
                picture = layer.image
            if picture is not None:
                field = "path" if isinstance(layer, Picture) else "image"
                target = (base / picture).resolve()
                if not target.is_relative_to(base.resolve()) or not target.is_file():
                    raise _fail(f"no file {picture!r} in the scene directory", file, lines,
                                (*at, field))  # fmt: skip
        for k, cta in enumerate(scene.cta):
            if cta.when is not None:
                sources.append((("scenes", i, "cta", k, "when"), cta.when, False))
        for key, source, template in sources:
            problem = check(source, template=template)
            if problem:
                raise _fail(problem, file, lines, key)
