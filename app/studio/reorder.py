"""Moving a scene in `scenes.yaml` as lines of text, so its comments move with it.

ruamel.yaml keeps a comment written above an item as the end of the item before it: moved as
data, "# The ending: ..." would leave with the scene above the ending. Here an item is its
lines from the comments just above its `- ` to the next item's, cut and put back whole.
"""

from __future__ import annotations

import itertools

import yaml

from app.studio.errors import EditRefused


def _item_lines(text: str) -> tuple[list[int], int]:
    """The first line (0-based) of each item of the top-level `scenes` list, and the line after
    the list's last item."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise EditRefused("scenes", f"scenes.yaml does not parse: {exc}") from exc
    if not isinstance(root, yaml.MappingNode):
        raise EditRefused("scenes", "scenes.yaml is not a mapping")
    for key, value in root.value:
        if key.value == "scenes":
            if not isinstance(value, yaml.SequenceNode) or value.flow_style:
                raise EditRefused("scenes", "the scene list is not a block list: use the code view")
            starts = [item.start_mark.line for item in value.value]
            return starts, value.end_mark.line + (1 if value.end_mark.column else 0)
    raise EditRefused("scenes", "scenes.yaml has no scene list")


def move_item(text: str, index: int, to: int) -> str:
    """`text` with scene `index` moved to position `to` (both 0-based)."""
    lines = text.splitlines(keepends=True)
    starts, end = _item_lines(text)
    if not (0 <= index < len(starts) and 0 <= to < len(starts)):
        raise EditRefused("scenes", f"a position from 0 to {len(starts) - 1}")
    # Each item takes the comment lines directly above it.
    cuts = []
    for start in starts:
        while start > 0 and lines[start - 1].lstrip().startswith("#"):
            start -= 1
        cuts.append(start)
    cuts.append(end)
    chunks = [lines[a:b] for a, b in itertools.pairwise(cuts)]
    gaps = [sum(1 for line in c if not line.strip()) for c in chunks[:-1]]

    def bare(chunk: list[str]) -> list[str]:
        while chunk and not chunk[-1].strip():
            chunk = chunk[:-1]
        return chunk

    blank = "\n" if gaps and all(gaps) else ""
    tail = chunks[-1][len(bare(chunks[-1])) :]
    order = [bare(c) for c in chunks]
    order.insert(to, order.pop(index))
    body: list[str] = []
    for i, chunk in enumerate(order):
        body += chunk
        if i < len(order) - 1 and blank:
            body.append(blank)
    return "".join(lines[: cuts[0]] + body + tail + lines[end:])
