"""Response bodies of the API as pydantic models: the OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

# `cancelled`: the render's batch was cancelled before it started.
RenderStatus = Literal["queued", "rendering", "done", "failed", "cancelled"]


class RenderLinks(BaseModel):
    microsite: str | None = Field(None, description="The customer's microsite (tracked link)")
    video: str | None = Field(None, description="H.264/AAC MP4, seekable")
    poster: str | None = None
    captions: str | None = Field(None, description="WebVTT captions of the narration")
    chapters: str | None = Field(None, description="WebVTT chapters: one cue per scene, titled")
    stream: str | None = Field(
        None,
        description="HLS playlist (fMP4) of a video made on open; it grows while the video "
        "is coded (beyond the contract)",
    )


class RenderError(BaseModel):
    code: str
    message: str


class RenderJourney(BaseModel):
    """The reminder journey a render belongs to (beyond the contract)."""

    id: str = Field(description="The bill's journey: GET /v1/renders/{id}/journey for all of it")
    journey: str = Field(description="NAME@N, the version the bill follows")
    status: Literal["active", "stopped", "completed"]
    step: int | None = Field(None, description="The step this render is; null: the bill's own")


class RenderVideo(BaseModel):
    """A video made when the page is first opened (`"video": "on_open"`, beyond the contract)."""

    mode: Literal["on_open"]
    status: Literal["waiting", "queued", "rendering", "done", "failed"] = Field(
        description="waiting: the page has not been opened by a person yet; then queued, "
        "rendering (playable as HLS from its first scene), done (video.mp4 too) or failed"
    )


class RenderOut(BaseModel):
    id: str
    status: RenderStatus
    template: str = Field(description="Template name and version, e.g. bill-explainer@1")
    external_id: str | None
    customer_id: str
    outputs: list[Literal["video", "microsite"]]
    links: RenderLinks
    error: RenderError | None
    batch_id: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    journey: RenderJourney | None = Field(None, description="Only for a render on a journey")
    video: RenderVideo | None = Field(None, description="Only for a video made on open")


class LineRejection(BaseModel):
    line: int = Field(ge=1, description="Line number in the NDJSON body, counting from 1")
    errors: list[FieldErrorOut]


class FieldErrorOut(BaseModel):
    pointer: str = Field(description="JSON Pointer (RFC 6901) into the request or the line")
    detail: str


class BatchAccepted(BaseModel):
    id: str
    accepted: int
    rejected: list[LineRejection]


class BatchCounts(BaseModel):
    id: str
    accepted: int
    rejected: int
    queued: int
    rendering: int
    done: int
    failed: int
    created_at: datetime


class BatchResultLine(BaseModel):
    id: str
    external_id: str | None
    customer_id: str
    status: RenderStatus
    links: RenderLinks


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldErrorOut] | None = None


class Health(BaseModel):
    status: Literal["ok"]


LineRejection.model_rebuild()
