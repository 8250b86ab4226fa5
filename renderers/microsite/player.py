"""The player's part of the page: the chapter list, the buttons over the video and when each
shows, where the bill's lines are explained, the speed choices and the resume key.

All of it is markup the page's template lays out (with scripts off the chapters are still
links into the video, `#t=` media fragments); the player script (`script.PLAYER_SCRIPT`)
seeks, shows each button in its window and remembers the position. A button is offered
only where it can work: pay with a pay link, the others where the service answers them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from renderers.formatting import format_number
from renderers.outputs import SiteLinks
from renderers.story import Facts
from renderers.timeline import Timeline

SPEEDS = ("0.75", "1", "1.25", "1.5", "2")  # playback rates offered; 1 is chosen
RESUME_KEY_BYTES = 8  # the resume key is opaque: a digest, never the token or the bill


def _seconds(value: float) -> str:
    """A time for an attribute or a media fragment: milliseconds, no trailing zeros."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _clock(value: float) -> str:
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes}:{seconds:02d}"


def _percent(value: float) -> str:
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def _seek(video: str, at: float) -> dict[str, str]:
    return {"start": _seconds(at), "at": _clock(at), "href": f"{video}#t={_seconds(at)}"}


def player_view(
    timeline: Timeline,
    facts: Facts,
    links: SiteLinks,
    t: Mapping[str, str],
    *,
    pay_href: str | None,
    cta_action: Mapping[str, str],
) -> dict[str, Any]:
    """`cta_action`: the page's calls to action that the service answers, by name."""
    ctas = []
    for cta in timeline.ctas if facts.asks_payment else ():
        if cta.name == "pay":
            target, label = pay_href, t["pay.button"]
        else:
            target, label = cta_action.get(cta.name), t[f"cta.{cta.name}"]
        if target is None:
            continue
        place = zip(("left", "top", "width", "height"), cta.box, strict=True)
        ctas.append({
            "name": cta.name, "label": label, "target": target,
            "kind": "link" if cta.name == "pay" else "form",
            "start": _seconds(cta.start), "end": _seconds(cta.end),
            "style": ";".join(f"{side}:{_percent(part)}" for side, part in place),
        })  # fmt: skip
    opaque = f"{links.video}\n{facts.number}".encode()
    digest = hashlib.blake2b(opaque, digest_size=RESUME_KEY_BYTES)
    return {
        "width": timeline.width,
        "height": timeline.height,
        "duration": _seconds(timeline.duration),
        "chapters_src": links.chapters,
        "chapters": [{"title": c.title, **_seek(links.video, c.start)} for c in timeline.chapters],
        "ctas": ctas,
        "lines": _seek(links.video, timeline.lines_at) if timeline.lines_at is not None else None,
        "speeds": [
            {"value": s, "label": format_number(s, facts.locale) + "\u00d7", "chosen": s == "1"}
            for s in SPEEDS
        ],
        "resume": digest.hexdigest(),
    }
