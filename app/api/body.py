"""Reading request bodies: content type, size and strict JSON, each with its own status."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from app.infra.errors import (
    FieldError,
    InvalidInput,
    MalformedRequest,
    UnsupportedMediaType,
    join_pointer,
)
from app.intake import json_input


def require_content_type(*allowed: str) -> None:
    if request.mimetype not in allowed:
        got = request.mimetype or "none"
        raise UnsupportedMediaType(f"Content-Type must be {' or '.join(allowed)}, got {got}")


def read_json_body() -> tuple[Any, bytes]:
    """The parsed JSON body and its raw bytes; 413 past the size limit, 400 when not JSON."""
    require_content_type("application/json")
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        return json_input.loads(raw), raw
    except json_input.MalformedJson as exc:
        raise MalformedRequest(f"the body is not valid JSON: {exc}") from exc


Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], raw: Any) -> Model:
    """`raw` as `model`, or 422 with every problem at its JSON Pointer (never the input)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = [
            FieldError(join_pointer("", *e["loc"]), e["msg"])
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidInput(errors) from None
