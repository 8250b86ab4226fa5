"""The read-only data scene expressions see: the bill's facts for personal scenes, only the
locale's plain strings for shared ones (so no customer data can reach a shared cache entry)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from renderers.charts import consumption_chart
from renderers.formatting import to_decimal
from renderers.qr import EpcError, epc_payload
from renderers.story import Facts


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def bill_values(
    bill: Mapping[str, Any], facts: Facts, narration: Mapping[str, str]
) -> dict[str, Any]:
    details = bill.get("bill", {})
    chart = consumption_chart(bill, 36)
    try:
        has_epc = epc_payload(bill) is not None
    except EpcError:
        has_epc = False
    payment = bill.get("payment") or {}
    tip = facts.tips[0] if facts.tips else None
    return {
        "t": MappingProxyType(dict(narration)),
        "locale": facts.locale,
        "lang": facts.lang,
        "currency": facts.currency,
        "tone": facts.tone,
        "status": details.get("status"),
        "days_overdue": details.get("days_overdue") or 0,
        "segment": (bill.get("customer") or {}).get("segment"),
        "name": facts.name,
        "number": facts.number,
        "total": to_decimal(details.get("total", "0")),
        "amount": facts.amount,
        "due_date": facts.due_date,
        "issued_on": facts.issued_on,
        "payable": facts.asks_payment,
        "has_qr": facts.asks_payment and (has_epc or bool(payment.get("url"))),
        "lines": tuple(
            MappingProxyType({"label": line.label, "amount": line.amount, "value": line.value})
            for line in facts.lines
        ),
        "tip": MappingProxyType({"title": tip.title, "body": tip.body}) if tip else None,
        "consumption": _chart_values(chart),
        "bill": _frozen(bill),
    }


def _chart_values(chart: Any) -> Mapping[str, Any] | None:
    if chart is None:
        return None
    return MappingProxyType({
        "unit": chart.unit,
        "current": chart.current.value,
        "last_year": chart.last_year,
        "peer_average": chart.peer_average,
        "vs_last_year": chart.change_vs_last_year,
        "vs_peers": chart.change_vs_peers,
        "months": len(chart.months),
    })  # fmt: skip


def shared_values(locale: Any, catalog: Mapping[str, str]) -> dict[str, Any]:
    """Only strings without {fields}: nothing a customer's data could have filled in."""
    plain = {k: v for k, v in catalog.items() if "{" not in v}
    return {"t": MappingProxyType(plain), "locale": locale, "currency": "XXX",
            "total": Decimal(0)}  # fmt: skip


def scene_values(base: Mapping[str, Any], index: int, count: int) -> dict[str, Any]:
    return {
        **base,
        "scene": MappingProxyType(
            {"index": index, "count": count, "before": index / count, "done": (index + 1) / count}
        ),
    }
