"""Renderer exceptions: one tree with one root, knowing nothing of HTTP.

    RenderError                 the render could not produce its outputs
    ├── TemplateError           a template bundle is invalid (names file, line and path)
    │   └── TemplateNotFound    no template bundle by that name
    ├── FontError               a font file of the font table is missing or unreadable
    └── EncodeError             ffmpeg failed (carries the tail of its log)

`app` catches `RenderError` and records the subclass name as the failure code.
"""

from __future__ import annotations

from pathlib import Path


class RenderError(Exception):
    """Root of every renderer failure."""


class TemplateError(RenderError):
    """A template bundle file is invalid; says which file, line and path inside it."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.path = path
        where = self.file or ""
        if where and line is not None:
            where = f"{where}:{line}"
        parts = [p for p in (where, path) if p]
        super().__init__(f"{': '.join(parts)}: {message}" if parts else message)


class TemplateNotFound(TemplateError):
    """No template bundle has this name."""


class FontError(RenderError):
    """A font of the font table cannot be found or read."""


class EncodeError(RenderError):
    """ffmpeg exited non-zero or produced no file."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        self.log_tail = log_tail
        super().__init__(f"{message}\n{log_tail}" if log_tail else message)
