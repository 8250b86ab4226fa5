"""The message keys the page template may rely on; the fallback catalog must define them."""

from renderers.story import TONES

REQUIRED_MESSAGES: tuple[str, ...] = (
    "page.title",
    "greeting",
    "intro",
    *(f"status.{t}" for t in TONES),
    *(f"total.{t}" for t in TONES),
    "due_date",
    "period",
    "lines.heading",
    "lines.item",
    "lines.amount",
    "lines.total",
    "video.heading",
    "video.captions",
    "video.fallback",
    "pay.button",
    "firm.instalments",
    "tips.heading",
    "footer",
)
