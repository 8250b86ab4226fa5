"""problem+json answers (RFC 9457) for the API's errors, wherever in the app they arise."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from app.infra.errors import PROBLEM_CONTENT_TYPE, ApiError


def problem_response(error: ApiError) -> Response:
    return problem_body_response(error.problem(), error.status, error.headers)


def problem_body_response(body: dict[str, Any], status: int, headers: dict[str, str]) -> Response:
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_CONTENT_TYPE
    )
    response.headers.update(headers)
    return response
