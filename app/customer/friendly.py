"""The page a customer reads for a link that is unknown, expired or not ready yet."""

from __future__ import annotations

from werkzeug.wrappers import Response

CUSTOMER_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">{refresh}
<title>{title}</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b1f24}}
main{{max-width:32rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:12px}}
h1{{font-size:1.4rem;margin:0 0 .5rem}}
</style></head>
<body><main><h1>{title}</h1><p>{text}</p></main></body></html>
"""


def friendly_page(status: int, *, preparing: bool = False) -> Response:
    """A page a customer can read, for links that are unknown, expired, not ready or throttled."""
    if preparing:
        title = "Your bill is being prepared"
        text = "This page will refresh by itself in a few seconds."
        refresh = '\n<meta http-equiv="refresh" content="10">'
    elif status == 429:
        title = "Please wait a moment"
        text = (
            "There were too many tries from your connection. Wait a few minutes and open the "
            "link again; your bills are always available from your account."
        )
        refresh = ""
    elif status == 410:
        title = "This link has expired"
        text = (
            "Links to a bill's video and page are kept for a limited time only, to protect "
            "your data. Your bills are always available from your account or from customer "
            "service."
        )
        refresh = ""
    else:
        title = "This link is not available"
        text = (
            "The link may have expired or been mistyped. Your latest bill is always "
            "available from your account or from customer service."
        )
        refresh = ""
    response = Response(
        _PAGE.format(title=title, text=text, refresh=refresh), status=status, mimetype="text/html"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers.update(CUSTOMER_HEADERS)
    return response
