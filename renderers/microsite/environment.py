"""The one Jinja environment for microsite templates: sandboxed, autoescaping, strict.

Templates are data that marketing edits; customer data reaches them only as variables.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

PAGE_TEMPLATE = "index.html.j2"


@lru_cache(maxsize=16)  # one environment per template directory: templates compile once
def site_environment(directory: Path) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(directory),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
