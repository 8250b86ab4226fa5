"""Template bundles: `scenes/NAME/` (video) and `microsite_templates/NAME/` (site), as data.

A bundle is loaded and checked whole: the scene spec, every narration and message catalog, and
the page template. Any problem is a `TemplateError` naming the file, the line and the path.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import jinja2
from babel import Locale, UnknownLocaleError
from pydantic import ValidationError

from renderers.catalog import Catalogs, load_catalogs
from renderers.errors import TemplateError, TemplateNotFound
from renderers.microsite.environment import PAGE_TEMPLATE, site_environment
from renderers.microsite.messages import load_site_messages
from renderers.story import PLACEHOLDERS
from renderers.video.chapters import chapter_key, check_chapter_titles
from renderers.video.checks import check_spec
from renderers.video.layers import LAYER_TYPES
from renderers.video.spec import REQUIRED_NARRATION, VideoSpec
from renderers.yamlfile import Key, dotted, line_of, load_yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SCENES = "scenes"
MICROSITES = "microsite_templates"
SPEC_FILE = "scenes.yaml"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

# Bundles loaded in this process, by location, with the digest of their files: loading and
# checking one costs about 0.13 CPU-s, reading its 25 files to see it is unchanged 1 ms.
_loaded: dict[tuple[Path, Path], tuple[bytes, TemplateBundle]] = {}
_loaded_lock = threading.Lock()


@dataclass(frozen=True)
class TemplateBundle:
    name: str
    version: int
    scenes_dir: Path
    microsite_dir: Path
    locale: str  # the default locale, for bills without customer.locale
    spec: VideoSpec
    narration: Catalogs
    messages: Catalogs

    @property
    def versioned_name(self) -> str:
        return f"{self.name}@{self.version}"


def template_names(root: Path | None = None) -> list[str]:
    """Names of the bundles under `root` (those with a scene spec and a microsite)."""
    base = root or REPO_ROOT
    scenes = base / SCENES
    if not scenes.is_dir():
        return []
    return sorted(
        d.name
        for d in scenes.iterdir()
        if NAME_PATTERN.match(d.name)
        and (d / SPEC_FILE).is_file()
        and (base / MICROSITES / d.name).is_dir()
    )


def _spec(file: Path, name: str) -> VideoSpec:
    data, lines = load_yaml(file)
    try:
        spec = VideoSpec.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        key: Key = tuple(p for p in first["loc"] if isinstance(p, str | int))
        # A discriminated union adds the tag name to the path; the file has no such key.
        key = tuple(k for k in key if k not in LAYER_TYPES)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise TemplateError(
            f"{first['msg']}{more}", file=file, line=line_of(lines, key), path=dotted(key)
        ) from exc
    if spec.name is not None and spec.name != name:
        raise TemplateError(
            f"name {spec.name!r} differs from the directory {name!r}",
            file=file, line=line_of(lines, ("name",)), path="name",
        )  # fmt: skip
    check_spec(spec, file, lines)
    try:
        Locale.parse(spec.locale, sep="-")
    except (ValueError, UnknownLocaleError) as exc:
        raise TemplateError(
            "not a known locale tag", file=file, line=line_of(lines, ("locale",)), path="locale"
        ) from exc
    return spec


def _check_page(directory: Path) -> None:
    env = site_environment(directory)
    try:
        env.get_template(PAGE_TEMPLATE)
    except jinja2.TemplateSyntaxError as exc:
        file = directory / (exc.name or PAGE_TEMPLATE)
        raise TemplateError(exc.message or "syntax error", file=file, line=exc.lineno) from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(
            f"template {exc.name} not found", file=directory / PAGE_TEMPLATE
        ) from exc


def _digest(*directories: Path) -> bytes:
    """Every file under the directories, names and contents: any edit changes it."""
    h = hashlib.blake2b(digest_size=20)
    for directory in directories:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            name = path.relative_to(directory).as_posix().encode()
            data = path.read_bytes()
            h.update(b"%d:%s%d:" % (len(name), name, len(data)))
            h.update(data)
    return h.digest()


def load_bundle(name: str, root: Path | None = None) -> TemplateBundle:
    """Load and check the bundle `name`; TemplateNotFound if there is none. A bundle whose
    files have not changed since this process last loaded it is that same bundle (they are
    immutable): a worker loads its bundles once, its renders read them (see warm.py)."""
    base = root or REPO_ROOT
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise TemplateNotFound(f"no template named {name!r}")
    scenes_dir = base / SCENES / name
    microsite_dir = base / MICROSITES / name
    if not (scenes_dir / SPEC_FILE).is_file() or not microsite_dir.is_dir():
        raise TemplateNotFound(f"no template named {name!r}")
    digest = _digest(scenes_dir, microsite_dir)
    with _loaded_lock:
        known = _loaded.get((scenes_dir, microsite_dir))
    if known is not None and known[0] == digest:
        return known[1]
    bundle = _load(name, scenes_dir, microsite_dir)
    with _loaded_lock:
        _loaded[(scenes_dir, microsite_dir)] = (digest, bundle)
    return bundle


def _load(name: str, scenes_dir: Path, microsite_dir: Path) -> TemplateBundle:
    spec = _spec(scenes_dir / SPEC_FILE, name)
    chapters = tuple(chapter_key(scene.id) for scene in spec.scenes)  # a title per scene
    narration = load_catalogs(
        scenes_dir / "narration", required=(*REQUIRED_NARRATION, *chapters),
        placeholders=PLACEHOLDERS,
    )  # fmt: skip
    check_chapter_titles(spec, narration)
    messages = load_site_messages(microsite_dir / "messages")
    _check_page(microsite_dir)
    return TemplateBundle(
        name=name,
        version=spec.version,
        scenes_dir=scenes_dir,
        microsite_dir=microsite_dir,
        locale=spec.locale,
        spec=spec,
        narration=narration,
        messages=messages,
    )
