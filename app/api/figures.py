"""`GET /v1/figures`: a credit manager's figures by run, segment, tone, template version or
journey step (`app.collection`), as JSON, or as CSV (`Accept: text/csv` or `?format=csv`).

`?by=` names the dimension (default `batch`), `?batch=` one billing run (its previous run is
the baseline of the DSO change), `?cure_days=` the cure window after a step (default 7).
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, Response, request
from pydantic import BaseModel, ConfigDict, Field

from app.api.body import validated
from app.api.context import account_id, services
from app.collection.figures import DEFAULT_CURE_DAYS, MAX_CURE_DAYS, FiguresInputError, figures
from app.collection.report import FiguresOut, checked, csv_text
from app.infra.errors import FieldError, InvalidInput

__all__ = ["FiguresOut", "bp"]

bp = Blueprint("figures", __name__)

CSV = "text/csv"


class FiguresQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field("batch", max_length=40)
    batch: str | None = Field(None, min_length=1, max_length=40)
    cure_days: int = Field(DEFAULT_CURE_DAYS, ge=1, le=MAX_CURE_DAYS)
    format: Literal["json", "csv"] | None = None


def wants_csv(query: FiguresQuery) -> bool:
    if query.format is not None:
        return query.format == "csv"
    # JSON unless CSV is asked for by name: `*/*` and no Accept header get JSON.
    return request.accept_mimetypes.best_match(["application/json", CSV]) == CSV


@bp.get("/figures")
def get_figures() -> Any:
    query = validated(FiguresQuery, request.args.to_dict())
    try:
        with services().db.session() as session:
            body = checked(
                figures(session, account_id(), query.by, query.batch, cure_days=query.cure_days)
            )
    except FiguresInputError as exc:
        raise InvalidInput([FieldError(f"/{exc.field}", exc.detail)]) from None
    if not wants_csv(query):
        return body
    response = Response(csv_text(body), content_type="text/csv; charset=utf-8")
    name = f"figures-by-{query.by}" + (f"-{query.batch}" if query.batch else "")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.headers["Vary"] = "Accept"
    return response
