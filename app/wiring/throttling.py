"""Throttling, with Flask-Limiter: requests per API key, and guessing slowed down.

- every `/v1` request counts against its key (`BILLREEL_RATE_LIMIT`);
- a failed login (401 on `/v1`, or on the dashboard's login) counts against the client's
  address, the API and the dashboard together (`BILLREEL_LOGIN_FAILURE_LIMIT`), and against
  the prefix of the key tried, from every address together
  (`BILLREEL_KEY_PREFIX_FAILURE_LIMIT`);
- a customer link with an unknown token (404 under `/r/`) counts against the client's
  address (`BILLREEL_LINK_MISS_LIMIT`).

Past a limit every request it counts gets 429 with `Retry-After` (problem+json on the API, a
page on the dashboard and the customer links) until its window ends, the right key too: a
throttle that let a right guess through would not slow guessing. The counters are Redis's
when `BILLREEL_REDIS_URL` is set, else the database's, so every API process shares them.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import cast

from flask import Blueprint, Flask, Response, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address

from app.customer.friendly import friendly_page
from app.infra.errors import RateLimited
from app.infra.ratelimit import storage_uri
from app.infra.services import Services
from app.wiring.problems import problem_response

KEY_PREFIX_CHARS = 10  # as many as a key list shows: the prefix of one key
NO_KEY = "-"  # the bucket of requests that present no key at all


def install(app: Flask, services: Services) -> Limiter:
    """The limiter of this app, with every limit of the module docstring on its routes."""
    settings = services.settings
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=storage_uri(settings.redis_url),
        storage_options={} if settings.redis_url else {"database": services.db},  # type: ignore[dict-item]
        strategy="fixed-window",
        key_prefix="billreel-limits",
        on_breach=_breached,
    )
    v1, dashboard = _blueprint(app, "v1"), _blueprint(app, "dashboard")
    limiter.limit(settings.rate_limit, key_func=_key_bucket)(v1)
    failed_login = limiter.shared_limit(
        settings.login_failure_limit,
        scope="login-failures",
        key_func=get_remote_address,
        deduct_when=_unauthorized,
    )
    around_prefix = limiter.shared_limit(
        settings.key_prefix_failure_limit,
        scope="key-prefix-failures",
        key_func=_key_prefix,
        deduct_when=_unauthorized,
    )
    for blueprint in (v1, dashboard):
        failed_login(blueprint)
        around_prefix(blueprint)
    link_miss = limiter.shared_limit(
        settings.link_miss_limit,
        scope="link-misses",
        key_func=get_remote_address,
        deduct_when=lambda response: response.status_code == 404,
    )
    for name in ("links", "customer_actions"):
        link_miss(_blueprint(app, name))
    return limiter


def _blueprint(app: Flask, name: str) -> Blueprint:
    return cast(Blueprint, app.blueprints[name])


def _presented_key() -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return secret.strip()
    if request.path == "/dashboard/login" and request.method == "POST":
        return request.form.get("api_key", "").strip()
    return ""


def _key_bucket() -> str:
    """The key's own bucket: a digest, so no secret is ever a counter's name."""
    return _bucket(_presented_key())


def _key_prefix() -> str:
    return _bucket(_presented_key()[:KEY_PREFIX_CHARS])


def _bucket(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] if text else NO_KEY


def _unauthorized(response: Response) -> bool:
    return response.status_code == 401


def _breached(limit: RequestLimit) -> Response:
    """The 429 itself; Flask-Limiter sends it only when it is a Flask `Response`."""
    # reset_at is rounded up to the next second; the wait is never longer than the window.
    window = limit.limit.get_expiry()
    retry_after = max(1, min(window, math.ceil(limit.reset_at - time.time())))
    if request.path.startswith(("/r/", "/dashboard")):
        answer = friendly_page(429)
        answer.headers["Retry-After"] = str(retry_after)
    else:
        answer = problem_response(RateLimited(retry_after, "too many tries; see Retry-After"))
    return Response(answer.get_data(), status=answer.status_code, headers=answer.headers)
