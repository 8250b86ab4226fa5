"""Is a set of files a template version that renders? Every problem names its file, and its
line and key path where there is one, so the studio can show it where it is.

The checks: paths and sizes (`files`), each asset (`assets`), every YAML file parsed, every
error of the scene spec (not only the first), then the whole bundle loaded as a worker
loads it (`renderers.templates`), which checks narration, messages and the page template.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import ValidationError

from app.templates.assets import asset_problem
from app.templates.files import (
    MAX_FILES,
    MAX_TOTAL_BYTES,
    REQUIRED_FILES,
    TOP_DIRS,
    Files,
    path_problem,
    write_tree,
)
from renderers.errors import TemplateError
from renderers.templates import NAME_PATTERN, load_bundle
from renderers.video.layers import LAYER_TYPES
from renderers.video.spec import VideoSpec
from renderers.yamlfile import Key, dotted, line_of, load_yaml


@dataclass(frozen=True)
class Problem:
    file: str | None  # a path of the version, e.g. "scenes/narration/it.yaml"
    line: int | None
    path: str | None  # the key inside the file, e.g. "scenes[2].duration"
    message: str

    def as_dict(self) -> dict[str, str | int | None]:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message}


def name_problem(name: str) -> str | None:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return "a template name is 1 to 64 of a-z 0-9 -, starting with a letter or digit"
    return None


def file_problems(files: Files) -> list[Problem]:
    """Problems of the files themselves, before any is stored: paths, sizes, assets."""
    problems: list[Problem] = []
    if len(files) > MAX_FILES:
        problems.append(Problem(None, None, None, f"a version has at most {MAX_FILES} files"))
    total = sum(len(data) for data in files.values())
    if total > MAX_TOTAL_BYTES:
        mib = MAX_TOTAL_BYTES // (1024 * 1024)
        problems.append(Problem(None, None, None, f"a version has at most {mib} MiB of files"))
    for path, data in sorted(files.items()):
        wrong = path_problem(path)
        if wrong is None and not isinstance(data, bytes):
            wrong = "file contents must be bytes"
        if wrong is None:
            wrong = asset_problem(path, data)
        if wrong is not None:
            problems.append(Problem(path, None, None, wrong))
    return problems


def validate(files: Files, name: str) -> list[Problem]:
    """Every problem of `files` as the version `name`; empty: it loads as a worker loads it."""
    wrong_name = name_problem(name)
    if wrong_name:
        return [Problem(None, None, None, wrong_name)]
    problems = file_problems(files)
    problems += [
        Problem(f, None, None, "this file is required") for f in REQUIRED_FILES if f not in files
    ]
    if problems:
        return problems
    with tempfile.TemporaryDirectory(prefix="template-check-") as tmp:
        root = Path(tmp)
        write_tree(files, name, root)
        problems += _yaml_problems(files, name, root)
        if problems:
            return problems
        try:
            load_bundle(name, root=root)
        except TemplateError as exc:
            problems.append(_problem(exc, name, root))
    return problems


def _yaml_problems(files: Files, name: str, root: Path) -> list[Problem]:
    problems: list[Problem] = []
    for path in sorted(files):
        if PurePosixPath(path).suffix.lower() not in (".yaml", ".yml"):
            continue
        disk = _disk_path(path, name, root)
        try:
            data, lines = load_yaml(disk)
        except TemplateError as exc:
            problems.append(Problem(path, exc.line, exc.path, exc.message))
            continue
        if path == "scenes/scenes.yaml":
            problems += _spec_problems(path, data, lines)
    return problems


def _spec_problems(path: str, data: object, lines: dict[Key, int]) -> list[Problem]:
    try:
        VideoSpec.model_validate(data)
    except ValidationError as exc:
        out = []
        for error in exc.errors():
            key: Key = tuple(p for p in error["loc"] if isinstance(p, str | int))
            key = tuple(k for k in key if k not in LAYER_TYPES)  # the union's tag is no key
            out.append(Problem(path, line_of(lines, key), dotted(key) or None, error["msg"]))
        return out
    return []


def _disk_path(path: str, name: str, root: Path) -> Path:
    top, rest = path.split("/", 1)
    return root / TOP_DIRS[top] / name / rest


def _problem(exc: TemplateError, name: str, root: Path) -> Problem:
    """The renderer names files on disk; the studio knows them by their version path."""
    file = exc.file
    if file:
        for top, folder in TOP_DIRS.items():
            base = str(root / folder / name)
            if file == base or file.startswith(base + "/"):
                file = top + file[len(base) :]
                break
        else:
            file = None
    return Problem(file, exc.line, exc.path, exc.message)
