"""`/dashboard/figures`: a credit manager's figures (`app.collection`) per run or by dimension,
with server-drawn SVG charts: days-to-pay curves, paid by the due date and within 7/15/30
days, cure rate per journey step. No script, like every dashboard page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.collection.dimensions import DIMENSIONS
from app.collection.figures import DEFAULT_CURE_DAYS, FiguresInputError, figures
from app.collection.report import checked, csv_text
from app.dashboard.views import (
    HEADERS,
    MIN_CHART_WIDTH,
    Chart,
    Label,
    Rect,
    Rule,
    _error,
    _go,
    _page,
    _services,
    logged_in_key,
    percent,
)
from app.infra.database import Batch
from app.intake import currency_digits

bp = Blueprint("dashboard_figures", __name__, template_folder="templates")

RUNS_LISTED = 50  # runs offered in the picker, newest first
MAX_CURVES = 8  # more lines than this are not told apart; the table still has every group
DIMENSION_LABELS = {
    "batch": "Billing run",
    "segment": "Segment",
    "tone": "Tone",
    "template_version": "Template version",
    "step": "Journey step",
}
assert set(DIMENSION_LABELS) <= set(DIMENSIONS)
# Okabe-Ito: told apart with every common colour-vision deficiency.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442", "#000")
CHAR_PX = 7.5  # the width of one character of the charts' labels, about
DEADLINE_COLORS = ("#0072b2", "#56b4e9", "#009e73", "#e69f00")  # by due, 7, 15, 30 days


@dataclass(frozen=True)
class Line:
    points: str  # SVG polyline points
    color: str
    name: str


@dataclass
class CurveChart:
    title: str
    width: int
    height: int
    lines: list[Line] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)


def money(minor: int, currency: str) -> str:
    """Minor units as the amount a person reads: 28000 EUR -> "280.00 EUR"."""
    digits = currency_digits(currency)
    return f"{minor / 10**digits:,.{digits}f} {currency}"


def short(text: str, width: float) -> str:
    """`text` cut to what fits in `width` pixels of the charts' 13 px type, with an ellipsis."""
    fits = max(4, int(width / CHAR_PX))
    return text if len(text) <= fits else text[: fits - 1] + "…"


def group_name(group: dict[str, Any], single_currency: bool) -> str:
    name = "none" if group["group"] is None else str(group["group"])
    if group.get("label"):
        name = f"{name} {group['label']}"
    return name if single_currency else f"{name} ({group['currency']})"


def curves_chart(groups: list[dict[str, Any]], names: list[str]) -> CurveChart:
    """The share still unpaid after each day since issue: one step line per group."""
    left, top, plot_w, plot_h, bottom = 48, 12, 900, 240, 44
    chart = CurveChart(
        "Days to pay: share still unpaid, days since the bill was issued",
        left + plot_w + 16,
        top + plot_h + bottom,
    )
    last = max([p["day"] for g in groups for p in g["days_to_pay"]["curve"]] or [1]) or 1
    base = top + plot_h
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = base - plot_h * tick
        chart.rules.append(Rule(left, y, left + plot_w, y))
        chart.labels.append(Label(left - 6, y + 4, f"{int(tick * 100)} %", "end", muted=True))
    step = max(1, round(last / 6 / 5) * 5)
    for day in range(0, last + 1, step):
        x = left + plot_w * day / last
        chart.labels.append(Label(x, base + 18, f"{day} d", "middle", muted=True))
    for i, (g, name) in enumerate(zip(groups[:MAX_CURVES], names, strict=False)):
        curve = g["days_to_pay"]["curve"]
        if not curve:
            continue
        points: list[str] = []
        previous = None
        for p in curve:  # a step function: across at the old level, then down
            x, y = left + plot_w * p["day"] / last, base - plot_h * p["unpaid"]
            if previous is not None:
                points.append(f"{x:.1f},{previous:.1f}")
            points.append(f"{x:.1f},{y:.1f}")
            previous = y
        color = PALETTE[i % len(PALETTE)]
        chart.lines.append(Line(" ".join(points), color, name))
        chart.legend.append((name, color))
    chart.labels.append(Label(left + plot_w / 2, base + 38, "days since issue", "middle", True))
    return chart


def deadlines_chart(groups: list[dict[str, Any]], names: list[str]) -> Chart:
    """Per group: the share paid by the due date and within 7, 15 and 30 days of it."""
    bar, gap, left, top, plot_h, bottom = 18, 30, 44, 12, 180, 52
    group_w = max(bar * 4 + gap, 130)
    width = max(MIN_CHART_WIDTH, left + group_w * max(len(groups), 1) + gap)
    chart = Chart(
        "Paid by the due date and within 7, 15, 30 days of it", width, top + plot_h + bottom
    )
    base = top + plot_h
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = base - plot_h * tick
        chart.rules.append(Rule(left, y, width - 8, y))
        chart.labels.append(Label(left - 6, y + 4, f"{int(tick * 100)} %", "end", muted=True))
    for n, (g, name) in enumerate(zip(groups, names, strict=True)):
        x0 = left + (group_w - bar * 4) / 2 + n * group_w
        shares = [("by due", g["paid_by_due"])] + [(f"{w['days']} d", w) for w in g["paid_within"]]
        for s, (what, share) in enumerate(shares):
            rate = share["rate"]
            height = plot_h * (rate or 0)
            known = percent(rate) if rate is not None else "not known yet"
            tip = f"{name}, paid {what}: {known} of {share['eligible']}"
            chart.rects.append(
                Rect(x0 + s * bar, base - height, bar - 2, height, DEADLINE_COLORS[s], tip)
            )
        middle = x0 + bar * 2
        chart.labels.append(Label(middle, base + 18, short(name, group_w - 8), "middle"))
        chart.labels.append(
            Label(
                middle,
                base + 36,
                f"{g['bills']} bill" + ("" if g["bills"] == 1 else "s"),
                "middle",
                True,
            )
        )
    chart.legend = list(
        zip(
            ["By the due date", "Within 7 d", "Within 15 d", "Within 30 d"],
            DEADLINE_COLORS,
            strict=True,
        )
    )
    return chart


def cure_steps(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each step's cure over every group shown: the counts add up, so the rates can be had."""
    steps: dict[str, dict[str, Any]] = {}
    for g in groups:
        for c in g["cure"]:
            s = steps.setdefault(
                c["step"],
                {
                    "step": c["step"],
                    "name": c["name"],
                    "overdue": 0,
                    "next": [0, 0],
                    "within": [0, 0],
                },
            )
            s["overdue"] += c["overdue"]
            s["next"][0] += c["before_next"]["cured"]
            s["next"][1] += c["before_next"]["eligible"]
            s["within"][0] += c["within"]["cured"]
            s["within"][1] += c["within"]["eligible"]
    return list(steps.values())


def cure_chart(steps: list[dict[str, Any]], cure_days: int) -> Chart:
    bar, gap, left, top, plot_h, bottom = 26, 34, 44, 12, 180, 52
    group_w = max(bar * 2 + gap, 130)
    width = max(MIN_CHART_WIDTH, left + group_w * max(len(steps), 1) + gap)
    chart = Chart(
        "Cure rate after each step: of the bills it found overdue, those paid",
        width,
        top + plot_h + bottom,
    )
    base = top + plot_h
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = base - plot_h * tick
        chart.rules.append(Rule(left, y, width - 8, y))
        chart.labels.append(Label(left - 6, y + 4, f"{int(tick * 100)} %", "end", muted=True))
    colors = ("#009e73", "#cc79a7")
    for n, s in enumerate(steps):
        x0 = left + (group_w - bar * 2) / 2 + n * group_w
        for k, (what, (cured, eligible)) in enumerate(
            (("before the next step", s["next"]), (f"within {cure_days} d", s["within"]))
        ):
            rate = cured / eligible if eligible else None
            height = plot_h * (rate or 0)
            known = f"{percent(rate)} of {eligible}" if rate is not None else "not known yet"
            tip = f"{s['step']} {s['name'] or ''}, cured {what}: {known}"
            chart.rects.append(Rect(x0 + k * bar, base - height, bar - 3, height, colors[k], tip))
        middle = x0 + bar
        chart.labels.append(
            Label(middle, base + 18, short(s["name"] or s["step"], group_w - 8), "middle")
        )
        chart.labels.append(Label(middle, base + 36, f"{s['overdue']} overdue", "middle", True))
    chart.legend = [("Before the next step", colors[0]), (f"Within {cure_days} days", colors[1])]
    return chart


def _query() -> tuple[str, str | None] | Response:
    by = request.args.get("by", "batch")
    batch = request.args.get("batch") or None
    if by not in DIMENSION_LABELS:
        return _error(422, "There are no figures by that: choose one of the list.")
    return by, batch


def _figures(account: str, by: str, batch: str | None) -> dict[str, Any] | Response:
    try:
        with _services().db.session() as session:
            return checked(figures(session, account, by, batch, cure_days=DEFAULT_CURE_DAYS))
    except FiguresInputError:
        return _error(404, "There is no such billing run for this API key.")


@bp.get("/dashboard/figures")
def page() -> Response:
    account = logged_in_key()
    if account is None:
        return _go("/dashboard")
    query = _query()
    if isinstance(query, Response):
        return query
    by, batch = query
    body = _figures(account, by, batch)
    if isinstance(body, Response):
        return body
    with _services().db.session() as session:
        runs = list(
            session.scalars(
                select(Batch)
                .where(Batch.api_key_id == account)
                .order_by(Batch.created_at.desc())
                .limit(RUNS_LISTED)
            )
        )
    groups = body["groups"]
    single = len({g["currency"] for g in groups}) <= 1
    names = [group_name(g, single) for g in groups]
    steps = cure_steps(groups)
    return _page(
        "dashboard/figures.html",
        body=body,
        groups=list(zip(groups, names, strict=True)),
        by=by,
        batch=batch,
        runs=runs,
        dimensions=DIMENSION_LABELS,
        percent=percent,
        money=money,
        curves=curves_chart(groups, names),
        deadlines=deadlines_chart(groups, names),
        cure=cure_chart(steps, body["cure_days"]) if steps else None,
        steps=steps,
    )


@bp.get("/dashboard/figures.csv")
def page_csv() -> Response:
    account = logged_in_key()
    if account is None:
        return _go("/dashboard")
    query = _query()
    if isinstance(query, Response):
        return query
    body = _figures(account, *query)
    if isinstance(body, Response):
        return body
    response = Response(csv_text(body), content_type="text/csv; charset=utf-8")
    response.headers.update(HEADERS)
    response.headers["Content-Disposition"] = f'attachment; filename="figures-by-{query[0]}.csv"'
    return response
