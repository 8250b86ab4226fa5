"""`/dashboard/experiments`: the account's experiments, and each one's figures and charts.

Server-rendered with inline SVG like the funnels (`app.dashboard.views`): no script. An
experiment's page shows the figures per arm (`app.experiments.summary`), the conversion
and lift with their intervals and the days-to-pay curves as charts, a warning when the
split is broken, and, to a session that may publish templates (admin), a button that
publishes the winning arm's version: a form posted from this page only (its origin is
checked; the session cookie is SameSite=Strict).
"""

from __future__ import annotations

import hmac
import math

import flask
from flask import Blueprint
from werkzeug.wrappers import Response

from app.audit.trail import record
from app.dashboard.views import (
    Chart,
    Label,
    Line,
    Rect,
    Rule,
    _error,
    _go,
    _page,
    _services,
    current_session,
    logged_in_key,
    percent,
    same_origin,
    sees_studio,
)
from app.experiments.collect import judge_experiment
from app.experiments.store import (
    ExperimentInfo,
    ExperimentNotFound,
    get,
    list_experiments,
    record_winner,
)
from app.experiments.summary import ArmFigures, summarize
from app.experiments.survival import ArmDaysToPay
from app.infra.database import utcnow
from app.templates.store import parse_ref, publish

bp = Blueprint("dashboard_experiments", __name__, template_folder="templates")

# Okabe-Ito, as the funnels; the hold-out in grey.
ARM_COLORS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442")
HOLDOUT_COLOR = "#8c8c8c"
CURVE_MAX_DAYS = 90  # the chart's x axis at most; the figures use every day
STATUS_TEXT = {
    "winner": "A winner: {winner} converts better than control, and the evidence holds "
    "however often you look.",
    "control_wins": "Control wins: every version converts worse than control.",
    "keep_going": "No verdict yet: keep the experiment running.",
    "split_broken": "The split is broken: the figures cannot be trusted (see the warning).",
    "guardrail_breached": "A guardrail is breached: complaints or opt-outs rose.",
}
VERDICTS = {
    "better": "better",
    "worse": "worse",
    "inconclusive": "not yet clear",
    "not_enough_data": "too few bills",
}


def colors(arms: list[ArmFigures]) -> dict[str, str]:
    found, palette = {}, iter(ARM_COLORS * 3)
    for arm in arms:
        found[arm.arm] = HOLDOUT_COLOR if arm.holdout else next(palette)
    return found


def _axis(chart: Chart, left: float, right: float, top: float, base: float,
          ticks: list[tuple[float, str]]) -> None:  # fmt: skip
    for x, text in ticks:
        chart.rules.append(Rule(x, top, x, base))
        chart.labels.append(Label(x, base + 16, text, "middle", muted=True))
    chart.rules.append(Rule(left, base, right, base))


def conversion_chart(arms: list[ArmFigures], palette: dict[str, str]) -> Chart:
    """Each arm's conversion (paid in time) as a mark on its anytime-valid interval."""
    row, left, plot_w, top = 40, 90, 300, 10
    height = top + row * len(arms) + 34
    chart = Chart("Paid in time, with its interval", left + plot_w + 80, height)
    base = top + row * len(arms)
    _axis(chart, left, left + plot_w, top, base,
          [(left + plot_w * t, f"{int(t * 100)} %") for t in (0, 0.25, 0.5, 0.75, 1)])  # fmt: skip
    for i, arm in enumerate(arms):
        y = top + i * row + row / 2
        chart.labels.append(Label(left - 10, y + 5, arm.arm, "end"))
        if arm.conversion is None:
            chart.labels.append(Label(left + 6, y + 5, "no bill counted yet", muted=True))
            continue
        low, high = arm.interval.low, arm.interval.high
        tip = f"{arm.arm}: {percent(arm.conversion)} of {arm.counted_bills} bills"
        if low is not None and high is not None:
            low, high = max(low, 0.0), min(high, 1.0)
            tip += f" (interval {percent(low)} to {percent(high)})"
            chart.rects.append(Rect(left + plot_w * low, y - 3, plot_w * (high - low), 6,
                                    palette[arm.arm], tip))  # fmt: skip
        chart.rects.append(Rect(left + plot_w * arm.conversion - 4, y - 10, 8, 20,
                                palette[arm.arm], tip))  # fmt: skip
        chart.labels.append(Label(left + plot_w + 10, y + 5, percent(arm.conversion)))
    return chart


def lift_chart(arms: list[ArmFigures], palette: dict[str, str]) -> Chart:
    """Each arm's relative lift over control, on its anytime-valid interval, around 0."""
    judged = [a for a in arms if not a.control]
    row, left, plot_w, top = 40, 90, 300, 10
    chart = Chart("Lift over control, with its interval", left + plot_w + 80,
                  top + row * max(len(judged), 1) + 34)  # fmt: skip
    bounds = [abs(v) for a in judged for v in (a.lift, a.lift_interval.low, a.lift_interval.high)
              if v is not None and math.isfinite(v)]  # fmt: skip
    reach = max([0.1, *bounds]) * 1.1
    middle = left + plot_w / 2

    def x(value: float) -> float:
        return middle + plot_w / 2 * max(-1.0, min(1.0, value / reach))

    base = top + row * max(len(judged), 1)
    ticks = [(x(v), f"{v * 100:+.0f} %") for v in (-reach, -reach / 2, 0.0, reach / 2, reach)]
    _axis(chart, left, left + plot_w, top, base, ticks)
    for i, arm in enumerate(judged):
        y = top + i * row + row / 2
        chart.labels.append(Label(left - 10, y + 5, arm.arm, "end"))
        if arm.lift is None:
            chart.labels.append(Label(middle + 6, y + 5, "too few bills", muted=True))
            continue
        tip = f"{arm.arm}: {arm.lift * 100:+.1f} % over control"
        low, high = arm.lift_interval.low, arm.lift_interval.high
        if low is not None and high is not None:
            tip += f" (interval {low * 100:+.1f} % to {high * 100:+.1f} %)"
            chart.rects.append(Rect(x(low), y - 3, x(high) - x(low), 6, palette[arm.arm], tip))
        chart.rects.append(Rect(x(arm.lift) - 4, y - 10, 8, 20, palette[arm.arm], tip))
        chart.labels.append(Label(left + plot_w + 10, y + 5, f"{arm.lift * 100:+.1f} %"))
    return chart


def curve_chart(curves: list[ArmDaysToPay], palette: dict[str, str]) -> Chart:
    """Kaplan-Meier: the share of each arm's bills still unpaid, by days since delivery."""
    left, top, plot_w, plot_h, bottom = 44, 12, 410, 200, 30
    chart = Chart("Still unpaid, by days since delivery (Kaplan-Meier)", left + plot_w + 20,
                  top + plot_h + bottom)  # fmt: skip
    days = min(max([7, *(p.day for c in curves for p in c.curve)]), CURVE_MAX_DAYS)
    base = top + plot_h

    def xy(day: float, unpaid: float) -> tuple[float, float]:
        return left + plot_w * day / days, base - plot_h * unpaid

    for t in (0, 0.25, 0.5, 0.75, 1.0):
        y = base - plot_h * t
        chart.rules.append(Rule(left, y, left + plot_w, y))
        chart.labels.append(Label(left - 6, y + 4, f"{int(t * 100)} %", "end", muted=True))
    step = 7 if days <= 42 else 15 if days <= 90 else 30
    for day in range(0, days + 1, step):
        chart.labels.append(Label(xy(day, 0)[0], base + 16, f"{day} d", "middle", muted=True))
    for curve in curves:
        points: list[tuple[float, float]] = []
        before: float | None = None
        for point in curve.curve:
            if point.day > days:
                break
            if before is not None:  # a step: across at the old level, then down
                points.append(xy(point.day, before))
            points.append(xy(point.day, point.unpaid))
            before = point.unpaid
        if len(points) > 1:
            tip = f"{curve.arm}: {curve.paid} of {curve.bills} bills paid"
            chart.lines.append(Line(points, palette[curve.arm], tip))
    chart.legend = [(c.arm, palette[c.arm]) for c in curves]
    return chart


def _owned(experiment_id: str, account: str) -> ExperimentInfo | None:
    try:
        info = get(_services().db, account, experiment_id)
    except ExperimentNotFound:
        return None
    return info if hmac.compare_digest(info.account, account) else None


@bp.get("/dashboard/experiments")
def experiments() -> Response:
    account = logged_in_key()
    if account is None:
        return _go("/dashboard")
    found = list_experiments(_services().db, account)
    return _page("dashboard/experiments.html", experiments=found)


@bp.get("/dashboard/experiments/<experiment_id>")
def experiment(experiment_id: str) -> Response:
    account = logged_in_key()
    if account is None:
        return _go("/dashboard")
    info = _owned(experiment_id, account)
    if info is None:
        return _error(404, "There is no such experiment for this API key.")
    with _services().db.session() as session:
        report = judge_experiment(session, info, utcnow())
    summary = summarize(report, info.versions())
    palette = colors(summary.arms)
    charts = [
        conversion_chart(summary.arms, palette),
        lift_chart(summary.arms, palette),
        curve_chart(report.days_to_pay.arms, palette),
    ]
    may_publish = sees_studio(current_session()) and summary.winner is not None
    return _page(
        "dashboard/experiment.html", info=info, summary=summary, charts=charts,
        palette=palette, status_text=STATUS_TEXT[summary.status].format(winner=summary.winner),
        verdicts=VERDICTS, percent=percent, may_publish=may_publish and info.winner is None,
        published=flask.request.args.get("published") == "1" and info.winner is not None,
    )  # fmt: skip


@bp.post("/dashboard/experiments/<experiment_id>/publish-winner")
def publish_winner(experiment_id: str) -> Response:
    if not same_origin():
        return _error(403, "This form can only be sent from the dashboard itself.")
    session = current_session()
    account = logged_in_key()
    if session is None or account is None:
        return _go("/dashboard")
    if not sees_studio(session):
        return _error(403, "Publishing a template needs a key that may publish templates.")
    info = _owned(experiment_id, account)
    if info is None:
        return _error(404, "There is no such experiment for this API key.")
    with _services().db.session() as db_session:
        summary = summarize(judge_experiment(db_session, info, utcnow()), info.versions())
    if summary.winner is None:
        return _error(409, "There is no winner to publish (any more).")
    ref = info.arm(summary.winner).version_ref
    assert ref is not None  # the hold-out is never the winner
    name, number = parse_ref(ref)
    assert number is not None
    version, _ = publish(_services(), name, number, author=session.key_name)
    record_winner(_services().db, account, info.id, summary.winner)
    record(
        _services().db, actor_type="session", actor_id=session.id, account=account,
        action="experiment.publish_winner", target=info.id,
        request_id=flask.g.get("request_id"), status=303,
    )  # fmt: skip
    assert version.ref == ref
    return _go(f"/dashboard/experiments/{info.id}?published=1")
