"""Read a YAML data file and remember the line of every value, so errors can point at it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from renderers.errors import TemplateError

Key = tuple[str | int, ...]
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _walk(node: yaml.Node, key: Key, lines: dict[Key, int]) -> None:
    lines[key] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k_node, v_node in node.value:
            _walk(v_node, (*key, str(k_node.value)), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*key, index), lines)


def load_yaml(path: Path) -> tuple[Any, dict[Key, int]]:
    """The data of a YAML file (safe loader) and a map from key path to 1-based line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"cannot read: {exc}", file=path) from exc
    # One pass: the file is composed once (libyaml's parser when PyYAML has it: a warm-up
    # reads every bundle) and its data built from that node, with the safe constructor.
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise TemplateError(f"invalid YAML: {exc.problem or exc}", file=path, line=line) from exc
    except yaml.YAMLError as exc:
        raise TemplateError(f"invalid YAML: {exc}", file=path) from exc
    finally:
        loader.dispose()
    lines: dict[Key, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def dotted(key: Sequence[str | int]) -> str:
    """('scenes', 2, 'duration') -> 'scenes[2].duration'."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def line_of(lines: dict[Key, int], key: Sequence[str | int]) -> int | None:
    """The line of `key`, or of its nearest ancestor present in the file."""
    probe = tuple(key)
    while probe not in lines and probe:
        probe = probe[:-1]
    return lines.get(probe)
