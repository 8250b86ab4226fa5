"""A template version's files: `dict[path, bytes]` with two top folders, `scenes/` (today's
`scenes/NAME/`) and `microsite/` (today's `microsite_templates/NAME/`).

Paths are checked before anything is stored: segments of `A-Z a-z 0-9 _ . -`, none hidden,
under one of the two folders, with a known suffix, so a bundle can be written to disk and
its files named in object keys without escaping anything.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from renderers.templates import MICROSITES, REPO_ROOT, SCENES

Files = Mapping[str, bytes]

SCENES_DIR = "scenes"
MICROSITE_DIR = "microsite"
TOP_DIRS = {SCENES_DIR: SCENES, MICROSITE_DIR: MICROSITES}  # bundle folder -> repository folder
REQUIRED_FILES = ("scenes/scenes.yaml", "microsite/index.html.j2")

TEXT_SUFFIXES = frozenset({".yaml", ".yml", ".j2", ".html", ".css", ".po", ".pot", ".txt", ".md"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})
AUDIO_SUFFIXES = frozenset({".ogg", ".oga", ".mp3", ".wav", ".m4a", ".flac"})
SUFFIXES = TEXT_SUFFIXES | IMAGE_SUFFIXES | AUDIO_SUFFIXES

MAX_FILES = 300
MAX_DEPTH = 5  # folders below scenes/ or microsite/
MAX_PATH_CHARS = 200
MAX_TOTAL_BYTES = 50 * 1024 * 1024  # a whole version: the music is most of it

_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")


class BundleRefused(ValueError):
    """Files that cannot be a template version; `problems` name each file and what is wrong."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


def path_problem(path: str) -> str | None:
    """Why `path` cannot name a file of a version, or None when it can."""
    if not isinstance(path, str) or not path:
        return "a file path must be a non-empty string"
    if len(path) > MAX_PATH_CHARS:
        return f"a file path has at most {MAX_PATH_CHARS} characters"
    parts = path.split("/")
    if parts[0] not in TOP_DIRS:
        return "a file lives under scenes/ or microsite/"
    if len(parts) < 2 or len(parts) > MAX_DEPTH + 2:
        return f"a file lives at most {MAX_DEPTH} folders below scenes/ or microsite/"
    if not all(_SEGMENT.fullmatch(p) for p in parts):
        return "each part of a path is A-Z a-z 0-9 _ . - and does not start with a dot"
    if PurePosixPath(path).suffix.lower() not in SUFFIXES:
        return f"unknown file type; one of {', '.join(sorted(SUFFIXES))}"
    return None


def kind_of(path: str) -> str:
    """text, image or audio, by suffix (paths are checked first)."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in AUDIO_SUFFIXES:
        return "audio"
    return "text"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_list(files: Files) -> dict[str, dict[str, int | str]]:
    """What the database keeps of each file: its SHA-256 and size."""
    return {
        path: {"sha256": sha256(data), "size": len(data)} for path, data in sorted(files.items())
    }


def digest_of_list(listing: Mapping[str, Mapping[str, int | str]]) -> str:
    """A version's content address: the SHA-256 of its sorted (path, file SHA-256) pairs."""
    h = hashlib.sha256()
    for path in sorted(listing):
        h.update(f"{path}\0{listing[path]['sha256']}\n".encode())
    return h.hexdigest()


def digest(files: Files) -> str:
    return digest_of_list(file_list(files))


def shipped_files(name: str, root: Path | None = None) -> dict[str, bytes]:
    """The bundle `name` as the repository ships it (scenes/NAME, microsite_templates/NAME)."""
    base = root or REPO_ROOT
    files: dict[str, bytes] = {}
    for top, folder in TOP_DIRS.items():
        directory = base / folder / name
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            files[f"{top}/{path.relative_to(directory).as_posix()}"] = path.read_bytes()
    return files


def write_tree(files: Files, name: str, root: Path) -> None:
    """Lay the files out as the renderers read bundles: root/scenes/NAME and
    root/microsite_templates/NAME."""
    for path, data in files.items():
        top, rest = path.split("/", 1)
        target = root / TOP_DIRS[top] / name / rest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for top in TOP_DIRS.values():  # a bundle without microsite files is still a directory
        (root / top / name).mkdir(parents=True, exist_ok=True)


def materialize(files: Files, name: str, root: Path) -> Path:
    """`write_tree` into `root` made whole at once: a temporary folder renamed into place, so
    a reader never sees half a bundle and two writers of the same digest both succeed."""
    if root.is_dir():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root.parent))
    write_tree(files, name, tmp)
    try:
        os.rename(tmp, root)
    except OSError:  # another process made it first: same digest, same files
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return root
