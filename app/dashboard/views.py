"""`/dashboard`: the batch funnels as charts and the template studio, behind an API-key login.

The funnels are server-rendered HTML with inline SVG charts: no script at all, and a CSP that
allows none. Logging in exchanges an API key for an HttpOnly, SameSite=Strict cookie naming a
session kept on the server (`app.access.sessions`): logging out, an idle or a too-long
session, an admin, or revoking the key ends it everywhere, and the old cookie opens nothing.
The key's scope decides what the session sees: a billing key the funnels, a marketing key
the studio (`app.dashboard.studio`, no customer data), an admin key both.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import flask
from flask import Blueprint, current_app, redirect, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.access.keys import authenticate
from app.access.scopes import allows
from app.access.sessions import (
    LiveSession,
    SessionLimits,
    end_session,
    live_session,
    start_session,
)
from app.analytics.funnel import FUNNEL_STEPS, PROGRESS_MARKS, TIME_TO_PAY_BUCKETS
from app.analytics.report import batch_report, csv_text
from app.audit.trail import record
from app.infra.database import Batch
from app.infra.services import Services

bp = Blueprint("dashboard", __name__, template_folder="templates")

COOKIE = "billreel_dashboard"
RECENT_BATCHES = 50  # batches listed on the front page, newest first
MIN_CHART_WIDTH = 480  # px: a half-width card on a laptop; phones scale the SVG down
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}
STEP_LABELS = {
    "delivered": "Delivered",
    "opened": "Opened",
    "video_started": "Video started",
    "video_completed": "Video completed",
    "pay_click": "Pay clicked",
    "paid": "Paid",
}
# Okabe-Ito colours: told apart with every common colour-vision deficiency.
STEP_COLORS = {
    "delivered": "#8c8c8c",
    "opened": "#0072b2",
    "video_started": "#56b4e9",
    "video_completed": "#009e73",
    "pay_click": "#e69f00",
    "paid": "#d55e00",
}
BUCKET_LABELS = {
    "under_1h": "< 1 h",
    "1h_to_1d": "1 h-1 d",
    "1d_to_3d": "1-3 d",
    "3d_to_7d": "3-7 d",
    "7d_to_14d": "7-14 d",
    "14d_to_30d": "14-30 d",
    "30d_or_more": "≥ 30 d",
}
assert set(BUCKET_LABELS) == {label for label, _ in TIME_TO_PAY_BUCKETS}


# --- charts: geometry here, SVG elements in the templates -----------------------------------


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    color: str
    tip: str  # the SVG <title>: what a pointer or a screen reader gets


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"
    muted: bool = False


@dataclass(frozen=True)
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Line:
    """A polyline (a survival curve's steps, say); `points` as SVG wants them."""

    points: list[tuple[float, float]]
    color: str
    tip: str

    @property
    def svg_points(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)


@dataclass
class Chart:
    title: str
    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


def percent(rate: float) -> str:
    return f"{rate * 100:.1f} %"


def funnel_chart(title: str, counts: dict[str, int]) -> Chart:
    """One horizontal bar per step, its length the share of delivered bills."""
    row, label_w, bar_w, top = 34, 150, 520, 8
    chart = Chart(title, label_w + bar_w + 120, top * 2 + row * len(FUNNEL_STEPS))
    delivered = counts["delivered"]
    for i, step in enumerate(FUNNEL_STEPS):
        y = top + i * row
        share = counts[step] / delivered if delivered else 0.0
        tip = f"{STEP_LABELS[step]}: {counts[step]} ({percent(share)})"
        chart.labels.append(Label(label_w - 10, y + 21, STEP_LABELS[step], "end"))
        chart.rects.append(Rect(label_w, y + 4, bar_w, 24, "#eef1f4", tip))
        chart.rects.append(Rect(label_w, y + 4, max(bar_w * share, 0), 24, STEP_COLORS[step], tip))
        value = f"{counts[step]}" + ("" if step == "delivered" else f" · {percent(share)}")
        chart.labels.append(Label(label_w + bar_w + 8, y + 21, value))
    return chart


def grouped_rates_chart(title: str, groups: list[tuple[str, dict[str, float], int]]) -> Chart:
    """Per group (tone, template version), one bar per step: its rate of the group's bills."""
    steps = FUNNEL_STEPS[1:]
    bar, gap, left, top, plot_h, bottom = 16, 30, 44, 12, 180, 52
    group_w = bar * len(steps) + gap
    width = max(MIN_CHART_WIDTH, left + group_w * max(len(groups), 1) + gap)
    chart = Chart(title, width, top + plot_h + bottom)
    base = top + plot_h
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = base - plot_h * tick
        chart.rules.append(Rule(left, y, width - 8, y))
        chart.labels.append(Label(left - 6, y + 4, f"{int(tick * 100)} %", "end", muted=True))
    for g, (name, group_rates, delivered) in enumerate(groups):
        x0 = left + gap / 2 + g * group_w
        for s, step in enumerate(steps):
            rate = group_rates[step]
            height = plot_h * rate
            tip = f"{name}, {STEP_LABELS[step]}: {percent(rate)} of {delivered}"
            chart.rects.append(
                Rect(x0 + s * bar, base - height, bar - 2, height, STEP_COLORS[step], tip)
            )
        middle = x0 + (bar * len(steps)) / 2
        chart.labels.append(Label(middle, base + 18, name, "middle"))
        chart.labels.append(Label(middle, base + 36, f"{delivered} bills", "middle", muted=True))
    chart.legend = [(STEP_LABELS[s], STEP_COLORS[s]) for s in steps]
    return chart


def columns_chart(title: str, columns: list[tuple[str, int]], total: int, color: str) -> Chart:
    """Vertical bars with their counts, scaled to `total` (or the largest column)."""
    col, left, top, plot_h, bottom = 64, 16, 24, 150, 30
    chart = Chart(title, max(MIN_CHART_WIDTH, left * 2 + col * len(columns)), top + plot_h + bottom)
    scale = max([total, *(count for _, count in columns), 1])
    base = top + plot_h
    chart.rules.append(Rule(left, base, chart.width - left, base))
    for i, (name, count) in enumerate(columns):
        x = left + i * col
        height = plot_h * count / scale
        chart.rects.append(Rect(x + 10, base - height, col - 20, height, color, f"{name}: {count}"))
        chart.labels.append(Label(x + col / 2, base - height - 6, str(count), "middle"))
        chart.labels.append(Label(x + col / 2, base + 20, name, "middle", muted=True))
    return chart


def batch_charts(body: dict[str, Any]) -> list[Chart]:
    delivered = body["funnel"]["delivered"]
    by_tone = [(p["tone"], p["rates"], p["funnel"]["delivered"]) for p in body["by_tone"]]
    by_version = [
        (p["template_version"], p["rates"], p["funnel"]["delivered"])
        for p in body["by_template_version"]
    ]
    progress = [(f"{mark} %", body["video_progress"][mark]) for mark in PROGRESS_MARKS]
    waits = [(BUCKET_LABELS[b["bucket"]], b["count"]) for b in body["time_to_pay"]["buckets"]]
    return [
        funnel_chart("Funnel: bills that reached each step", body["funnel"]),
        grouped_rates_chart("By tone: share of each tone's bills", by_tone),
        grouped_rates_chart("By template version: share of each version's bills", by_version),
        columns_chart("Video watched to", progress, delivered, STEP_COLORS["video_completed"]),
        columns_chart("Time from delivery to payment", waits, 0, STEP_COLORS["paid"]),
    ]


# --- login ---------------------------------------------------------------------------------


def _services() -> Services:
    services: Services = current_app.extensions["billreel"]
    return services


def _limits() -> SessionLimits:
    settings = _services().settings
    return SessionLimits(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_hours),
    )


def current_session() -> LiveSession | None:
    """This browser's live dashboard session, or None (the login form)."""
    if "dashboard_session" not in flask.g:  # looked up once a request
        flask.g.dashboard_session = live_session(
            _services().db, request.cookies.get(COOKIE, ""), _limits()
        )
    found: LiveSession | None = flask.g.dashboard_session
    return found


def logged_in_key() -> str | None:
    """The account of this browser's live session when it may see the funnels, else None."""
    session = current_session()
    return session.account if session is not None and allows(session.scope, "billing") else None


def sees_studio(session: LiveSession | None) -> bool:
    return session is not None and allows(session.scope, "templates.write")


def same_origin() -> bool:
    """Forms are posted by this site's own pages only (no cross-site login or logout)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is None or (origin != "null" and urlsplit(origin).netloc == request.host)


def _page(template: str, status: int = 200, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers.update(HEADERS)
    return response


def _error(status: int, text: str) -> Response:
    return _page("dashboard/error.html", status, code=status, text=text)


def _go(path: str) -> Response:
    response = redirect(path, code=303)
    response.headers.update(HEADERS)
    return response


@bp.get("/dashboard")
def index() -> Response:
    key_id = logged_in_key()
    if key_id is None:
        if sees_studio(current_session()):  # marketing: templates only, no customer data
            return _go("/dashboard/studio")
        return _page("dashboard/login.html")
    with _services().db.session() as session:
        batches = list(
            session.scalars(
                select(Batch)
                .where(Batch.api_key_id == key_id)
                .order_by(Batch.created_at.desc())
                .limit(RECENT_BATCHES)
            )
        )
    return _page("dashboard/batches.html", batches=batches, studio=sees_studio(current_session()))


@bp.post("/dashboard/login")
def login() -> Response:
    if not same_origin():
        return _error(403, "This form can only be sent from the dashboard itself.")
    secret = request.form.get("api_key", "").strip()
    key = authenticate(_services().db, secret) if secret else None
    if key is None:
        return _page("dashboard/login.html", 401, error="This API key is unknown or revoked.")
    old = request.cookies.get(COOKIE)
    if old:  # a new login never reuses a session: no fixation
        end_session(_services().db, token=old, reason="logout")
    started = start_session(_services().db, key)
    record(
        _services().db,
        actor_type="key",
        actor_id=key.id,
        account=key.account,
        action="session.start",
        target=started.id,
        request_id=flask.g.get("request_id"),
        status=303,
    )
    response = _go("/dashboard" if allows(key.scope, "billing") else "/dashboard/studio")
    response.set_cookie(
        COOKIE,
        started.token,
        max_age=_services().settings.session_hours * 3600,
        path="/dashboard",
        secure=request.is_secure or (_services().settings.public_url or "").startswith("https:"),
        httponly=True,
        samesite="Strict",
    )
    return response


@bp.post("/dashboard/logout")
def logout() -> Response:
    if not same_origin():
        return _error(403, "This form can only be sent from the dashboard itself.")
    token = request.cookies.get(COOKIE)
    # Ended on the server: the cookie, kept or copied, opens nothing again.
    ended = end_session(_services().db, token=token, reason="logout") if token else None
    if ended is not None:
        record(
            _services().db,
            actor_type="session",
            actor_id=ended.id,
            account=ended.account,
            action="session.logout",
            target=ended.id,
            request_id=flask.g.get("request_id"),
            status=303,
        )
    response = _go("/dashboard")
    response.delete_cookie(COOKIE, path="/dashboard", httponly=True, samesite="Strict")
    return response


def _owned_batch(batch_id: str) -> tuple[Batch, dict[str, Any]] | Response | None:
    key_id = logged_in_key()
    if key_id is None:
        return None
    with _services().db.session() as session:
        batch = session.get(Batch, batch_id)
        if batch is None or not hmac.compare_digest(batch.api_key_id, key_id):
            return _error(404, "There is no such batch for this API key.")
        body = batch_report(session, batch.id)
    return batch, body


@bp.get("/dashboard/batches/<batch_id>")
def batch_page(batch_id: str) -> Response:
    found = _owned_batch(batch_id)
    if found is None:
        return _go("/dashboard")
    if isinstance(found, Response):
        return found
    batch, body = found
    return _page(
        "dashboard/batch.html",
        batch=batch,
        body=body,
        charts=batch_charts(body),
        steps=FUNNEL_STEPS,
        step_labels=STEP_LABELS,
        percent=percent,
    )


@bp.get("/dashboard/batches/<batch_id>/analytics.csv")
def batch_csv(batch_id: str) -> Response:
    found = _owned_batch(batch_id)
    if found is None:
        return _go("/dashboard")
    if isinstance(found, Response):
        return found
    batch, body = found
    response = Response(csv_text(body), content_type="text/csv; charset=utf-8")
    response.headers.update(HEADERS)
    response.headers["Content-Disposition"] = f'attachment; filename="{batch.id}-analytics.csv"'
    return response
