"""What `billreel simulate` prints: the planted truth, the service's experiment report beside
`judge` over the simulator's own bills, and the run's figures."""

from __future__ import annotations

from typing import Any

from app.simulation.run import Result

COMPARED = ("customers", "bills", "counted_bills", "paid_in_time", "paid_bills", "amount_paid")


def differences(report: dict[str, Any], truth: dict[str, Any]) -> list[str]:
    """Where the service's report and the ground truth's disagree on what was counted."""
    found = []
    for field in ("status", "winner", "crossovers"):
        if report[field] != truth[field]:
            found.append(f"{field}: service {report[field]!r}, truth {truth[field]!r}")
    if report["srm"]["observed"] != truth["srm"]["observed"]:
        found.append(
            f"split: service {report['srm']['observed']}, truth {truth['srm']['observed']}"
        )
    for ours, theirs in zip(report["arms"], truth["arms"], strict=True):
        for field in ("arm", *COMPARED, "verdict"):
            if ours[field] != theirs[field]:
                found.append(
                    f"{ours['arm']} {field}: service {ours[field]!r}, truth {theirs[field]!r}"
                )
    return found


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def text(result: Result) -> str:
    t, r = result.truth, result.report
    lines = [
        f"Simulated {t['customers']} customers (seed {t['seed']}) through the service: "
        f"experiment {result.experiment_id}, billing run {result.batch_id}",
        f"Planted: treatment {t['lift_points']:+.1f} points on the first bill (persuades "
        f"{_pct(t['persuaded_share'])} of the bills that would miss their deadline); "
        f"skew {_pct(t['skew'])} of the treatment arm's customers never rendered",
        f"Expected paid by the due date on the first bill, without an effect: "
        f"{_pct(t['expected_control_rate'])}; customers by arm (assignment): "
        f"{t['customers_by_arm']}; kinds: {t['kinds']}; paid: {t['paid']}",
        f"Renders never run (skew): {result.lost_renders}; renders in another arm's version: "
        f"{result.misplaced}",
        "",
        f"Experiment report (GET /v1/experiments/{result.experiment_id}) at {r['as_of']}:",
        f"  status {r['status']}, winner {r['winner'] or '-'}; split check: observed "
        f"{r['srm']['observed']}, expected {[round(e, 1) for e in r['srm']['expected']]}, "
        f"p = {_num(r['srm']['p_value'], 4)}, flagged {'YES' if r['srm']['flagged'] else 'no'}",
        f"  {'arm':<10} {'customers':>9} {'bills':>6} {'counted':>7} {'in time':>7} "
        f"{'conversion':>10} {'lift':>8} {'interval':>18} {'beats ctl':>9} {'verdict':<16}",
    ]
    for arm in r["arms"]:
        low, high = arm["lift_interval"]["low"], arm["lift_interval"]["high"]
        interval = "-" if low is None or high is None else f"[{low:+.3f}, {high:+.3f}]"
        lines.append(
            f"  {arm['arm']:<10} {arm['customers']:>9} {arm['bills']:>6} "
            f"{arm['counted_bills']:>7} {arm['paid_in_time']:>7} {_pct(arm['conversion']):>10} "
            f"{_num(arm['lift']):>8} {interval:>18} {_pct(arm['chance_to_beat_control']):>9} "
            f"{arm['verdict'] or '(control)':<16}"
        )
    found = differences(r, result.ground_truth)
    lines.append(
        "  ground truth (judge over the simulator's own bills): "
        + ("the same counts, split and verdicts" if not found else "DIFFERS: " + "; ".join(found))
    )
    lines += ["", f"Figures (GET /v1/figures?batch={result.batch_id}):"]
    for group in result.figures["groups"]:
        within = ", ".join(f"{w['days']} d {_pct(w['rate'])}" for w in group["paid_within"])
        days = group["days_to_pay"]
        lines += [
            f"  {group['group']}: {group['bills']} bills, {group['paid']} paid; paid by the due "
            f"date {_pct(group['paid_by_due']['rate'])}; within {within}",
            f"  days to pay: median {_num(days['median'], 1)}, p90 {_num(days['p90'], 1)}; "
            f"amount due {group['amount_due'] / 100:.2f} {group['currency']}, recovered "
            f"after the due date {group['amount_recovered'] / 100:.2f}; DSO "
            f"{_num(group['dso']['days'], 2)} days"
            + (
                f" ({change['change']:+.2f} against the {change['against'].replace('_', ' ')})"
                if (change := group["dso"]["change"])
                else ""
            ),
        ]
        for cure in group["cure"]:
            lines.append(
                f"  cure after {cure['name'] or cure['step']}: {cure['overdue']} overdue, "
                f"{_pct(cure['within']['rate'])} paid within {cure['within']['days']} days"
            )
    return "\n".join(lines)
