"""Which visits are not a reader: HEAD, prefetches, known scanners and previewers, bursts.

A bill's e-mail is fetched by machines before a person sees it: the mail provider's link
scanner, a chat app's link preview, a security gateway that opens every link within seconds
of delivery. Those visits are kept (they are evidence of delivery) but flagged, and the
funnel leaves them out.

User agents are recognised by `crawlerdetect`, a maintained port of the CrawlerDetect
pattern list (search engines, link previewers such as Slackbot, WhatsApp, facebookexternalhit,
Outlook's and Yahoo's mail proxies, HTTP libraries), plus the few mail-security scanners
listed in `MAIL_SCANNERS` that it does not know.

The burst rule, measured per render:
- a visit within `DELIVERY_BURST_SECONDS` of the render being finished (its delivery) is
  a machine: no person opens a bill that fast;
- visits from two or more different visitors within `BURST_WINDOW_SECONDS` of each other
  are a scanner fleet fanning out over several addresses; all of them are flagged.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from crawlerdetect import CrawlerDetect

Flag = Literal["head", "prefetch", "bot", "burst"]

DELIVERY_BURST_SECONDS = 10
BURST_WINDOW_SECONDS = 2
# Mail-security gateways that follow links in incoming mail; matched case-insensitively.
MAIL_SCANNERS = (
    "mimecast",
    "proofpoint",
    "barracuda",
    "ironport",
    "forcepoint",
    "trendmicro",
    "symantec",
    "safelinks",
    "sophos",
    "fortiguard",
)
_MAX_USER_AGENT = 1000  # longer strings are not a browser's; spare the regular expressions


@lru_cache(maxsize=1)
def _detector() -> CrawlerDetect:
    return CrawlerDetect()


@lru_cache(maxsize=4096)
def is_bot(user_agent: str | None) -> bool:
    """True for a missing user agent, a known crawler, link previewer or mail scanner."""
    if not user_agent or not user_agent.strip() or len(user_agent) > _MAX_USER_AGENT:
        return True
    lowered = user_agent.lower()
    if any(name in lowered for name in MAIL_SCANNERS):
        return True
    return bool(_detector().isCrawler(user_agent))


def within_delivery_burst(finished_at: datetime | None, now: datetime) -> bool:
    return finished_at is not None and now - finished_at < timedelta(seconds=DELIVERY_BURST_SECONDS)


def request_flag(method: str, user_agent: str | None, purpose: str | None = None) -> Flag | None:
    """The flag a request earns by itself, before the burst rule looks at its neighbours.

    `purpose` is the `Sec-Purpose` (or older `Purpose`) header a browser sends when it
    fetches a link ahead of a click, which is not a visit either.
    """
    if method == "HEAD":
        return "head"
    if purpose and "prefetch" in purpose.lower():
        return "prefetch"
    if is_bot(user_agent):
        return "bot"
    return None
