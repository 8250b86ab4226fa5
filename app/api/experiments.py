"""`/v1/experiments`: experiments between template versions, judged by payment.

An experiment is made a draft (`POST /v1/experiments`), started, and stopped; while it runs,
every render of its template named by NAME goes into the arm its customer is in
(`app.experiments.placement`). `GET /v1/experiments/{id}` carries its report as it stands
now (`app.experiments.collect`, `summary`). `publish-winner` publishes the winning arm's
version as the template's own (`app.templates.store.publish`): it needs a key that may
publish templates (admin); it stops the experiment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from flask import Blueprint, Response, g
from pydantic import BaseModel, ConfigDict, Field

from app.api import idempotency
from app.api.body import read_json_body, validated
from app.api.context import account_id, once_per_idempotency_key, services
from app.experiments.arms import MAX_ARMS, ExperimentInputError
from app.experiments.collect import judge_experiment
from app.experiments.records import DEFAULT_OVERDUE_WINDOW_DAYS
from app.experiments.store import (
    MAX_ARM_NAME_CHARS,
    MAX_NAME_CHARS,
    MAX_OVERDUE_WINDOW_DAYS,
    ArmSpec,
    ExperimentInfo,
    ExperimentNotFound,
    StateRefused,
    create,
    get,
    list_experiments,
    record_winner,
    start,
    stop,
)
from app.experiments.summary import Summary, summarize
from app.infra.database import utcnow
from app.infra.errors import Conflict, FieldError, InvalidInput, NotFound
from app.journeys.store import JourneyNotFound
from app.journeys.store import resolve as resolve_journey
from app.templates.lookup import find_version
from app.templates.store import VersionNotFound, parse_ref, publish

bp = Blueprint("experiments", __name__)

ARM_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class ArmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_ARM_NAME_CHARS, pattern=ARM_NAME)
    version: str | None = Field(
        None, description="NAME@N: a published or older version of the experiment's template; "
        "none for the hold-out",
    )  # fmt: skip
    weight: float = Field(1.0, gt=0, allow_inf_nan=False, description="Share of traffic, "
                          "relative to the other arms' weights")  # fmt: skip
    holdout: bool = Field(False, description="Gets the plain microsite only: no video")


class ExperimentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    template: str = Field(description="The template whose renders are split (by NAME)")
    journey: str | None = Field(None, description="Only this journey's step `journey_step`")
    journey_step: int | None = Field(None, ge=1, description="The step's position, from 1")
    arms: list[ArmIn] = Field(min_length=2, max_length=MAX_ARMS)
    control: str | None = Field(None, description="The control arm; default the first")
    metric: Literal["paid_in_time"] = Field(
        "paid_in_time",
        description="Paid by the due date, or within `overdue_window_days` of delivery for "
        "a bill delivered overdue",
    )
    overdue_window_days: int = Field(DEFAULT_OVERDUE_WINDOW_DAYS, ge=1, le=MAX_OVERDUE_WINDOW_DAYS)


class ArmOut(BaseModel):
    name: str
    version: str | None = Field(description="NAME@N; null for the hold-out")
    weight: float
    holdout: bool
    control: bool


class ExperimentOut(BaseModel):
    id: str
    name: str
    template: str
    journey: str | None
    journey_step: int | None
    metric: Literal["paid_in_time"]
    overdue_window_days: int
    state: Literal["draft", "running", "stopped"]
    control: str
    winner: str | None = Field(description="The arm whose version was published")
    author: str
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    arms: list[ArmOut]


class ExperimentList(BaseModel):
    data: list[ExperimentOut]


class ExperimentWithReport(ExperimentOut):
    report: Summary = Field(
        description="The figures now: per arm the conversion (paid in time) with its "
        "anytime-valid interval, relative lift, chance to beat control, expected loss; the "
        "sample ratio mismatch check; days to pay as Kaplan-Meier curves"
    )


class WinnerPublished(BaseModel):
    experiment: ExperimentOut
    published: str = Field(description="NAME@N: now the template's published version")
    checked: dict[str, Any] = Field(description="What publishing checked")


def experiment_body(info: ExperimentInfo) -> dict[str, Any]:
    return ExperimentOut(
        id=info.id, name=info.name, template=info.template, journey=info.journey,
        journey_step=info.journey_step, metric=info.metric,
        overdue_window_days=info.overdue_window_days, state=info.state, control=info.control,
        winner=info.winner, author=info.author, created_at=info.created_at,
        started_at=info.started_at, stopped_at=info.stopped_at,
        arms=[
            ArmOut(name=a.name, version=a.version_ref, weight=a.weight, holdout=a.holdout,
                   control=a.name == info.control)
            for a in info.arms
        ],
    ).model_dump(mode="json")  # fmt: skip


def current_summary(info: ExperimentInfo) -> Summary:
    with services().db.session() as session:
        return summarize(judge_experiment(session, info, utcnow()), info.versions())


def _json(body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return Response(
        idempotency.json_bytes(body),
        status=status,
        headers={"Content-Type": "application/json", **headers},
    )


def _owned(experiment_id: str) -> ExperimentInfo:
    try:
        return get(services().db, account_id(), experiment_id)
    except ExperimentNotFound as exc:
        raise NotFound(str(exc)) from exc


def _arm_specs(body: ExperimentIn) -> list[ArmSpec]:
    """Each arm's version found, of the experiment's template; every problem at once."""
    errors: list[FieldError] = []
    try:
        name, number = parse_ref(body.template)
        if number is not None:
            raise ValueError("an experiment splits a template named by NAME, not NAME@N")
        find_version(services(), name)
    except (VersionNotFound, ValueError) as exc:
        raise InvalidInput([FieldError("/template", str(exc))]) from exc
    specs = []
    for i, arm in enumerate(body.arms):
        version_id = version_ref = None
        if arm.version is not None:
            at = f"/arms/{i}/version"
            try:
                arm_name, number = parse_ref(arm.version)
                if number is None or arm_name != name:
                    raise ValueError(f"must be {name}@N: a version of the experiment's template")
                version = find_version(services(), arm.version)
                version_id, version_ref = version.id, version.ref
            except (VersionNotFound, ValueError) as exc:
                errors.append(FieldError(at, str(exc)))
        specs.append(ArmSpec(arm.name, arm.weight, arm.holdout, version_id, version_ref))
    if body.journey is not None:
        try:
            with services().db.session() as session:
                resolve_journey(session, account_id(), body.journey)
        except (JourneyNotFound, ValueError) as exc:
            errors.append(FieldError("/journey", str(exc)))
    if errors:
        raise InvalidInput(errors)
    return specs


@bp.get("/experiments")
def experiments_list() -> dict[str, Any]:
    found = list_experiments(services().db, account_id())
    return {"data": [experiment_body(info) for info in found]}


@bp.post("/experiments")
def experiment_create() -> Response:
    return once_per_idempotency_key(_create)


def _create() -> Response:
    raw, _ = read_json_body()
    body = validated(ExperimentIn, raw)
    specs = _arm_specs(body)
    try:
        info = create(
            services().db, account_id(), name=body.name, template=body.template, arms=specs,
            control=body.control, author=g.api_key_name, journey=body.journey,
            journey_step=body.journey_step, overdue_window_days=body.overdue_window_days,
            metric=body.metric,
        )  # fmt: skip
    except ExperimentInputError as exc:
        raise InvalidInput([FieldError(f"/{exc.field}", exc.detail)]) from exc
    return _json(experiment_body(info), 201, Location=f"/v1/experiments/{info.id}")


@bp.get("/experiments/<experiment_id>")
def experiment_get(experiment_id: str) -> dict[str, Any]:
    info = _owned(experiment_id)
    return experiment_body(info) | {"report": current_summary(info).as_dict()}


@bp.post("/experiments/<experiment_id>/start")
def experiment_start(experiment_id: str) -> Response:
    return once_per_idempotency_key(lambda: _change(experiment_id, start))


@bp.post("/experiments/<experiment_id>/stop")
def experiment_stop(experiment_id: str) -> Response:
    return once_per_idempotency_key(lambda: _change(experiment_id, stop))


def _change(experiment_id: str, change: Callable[..., ExperimentInfo]) -> Response:
    _owned(experiment_id)
    try:
        info = change(services().db, account_id(), experiment_id)
    except StateRefused as exc:
        raise Conflict(str(exc)) from exc
    return _json(experiment_body(info))


@bp.post("/experiments/<experiment_id>/publish-winner")
def publish_winner(experiment_id: str) -> Response:
    """Publish the winning arm's version; a key that may publish templates only."""
    return once_per_idempotency_key(lambda: _publish_winner(experiment_id))


def _publish_winner(experiment_id: str) -> Response:
    info = _owned(experiment_id)
    summary = current_summary(info)
    if summary.winner is None:
        raise Conflict(f"there is no winner to publish: the experiment's status is "
                       f"{summary.status!r}")  # fmt: skip
    arm = info.arm(summary.winner)
    assert arm.version_ref is not None  # the hold-out is never the winner
    name, number = parse_ref(arm.version_ref)
    assert number is not None
    version, checked = publish(services(), name, number, author=g.api_key_name)
    info = record_winner(services().db, account_id(), info.id, arm.name)
    body = WinnerPublished(
        experiment=ExperimentOut.model_validate(experiment_body(info)),
        published=version.ref,
        checked=checked,
    )
    return _json(body.model_dump(mode="json"))
