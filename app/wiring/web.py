"""The web process: `create_app(settings)` wires settings, database, queue, storage and routes."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app import api
from app.api import metrics
from app.customer import actions, pages, stream
from app.customer.friendly import friendly_page
from app.dashboard import experiments as dashboard_experiments
from app.dashboard import figures as dashboard_figures
from app.dashboard import journeys as dashboard_journeys
from app.dashboard import studio, views
from app.infra.errors import (
    ApiError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from app.infra.services import Services
from app.infra.settings import Settings
from app.infra.storage import StorageError
from app.templates.lookup import ensure_shipped
from app.wiring import throttling
from app.wiring.problems import problem_body_response, problem_response
from app.wiring.queues import queue_from_services, video_queue_from_services

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

# Werkzeug's own HTTP errors, answered as the API's problem types.
_HTTP_PROBLEMS: dict[int, type[ApiError]] = {
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def create_app(
    settings: Settings | None = None, *, start_queue: bool = True, import_templates: bool = True
) -> Flask:
    """The Flask app; `start_queue=False` accepts renders without running them (for tests).
    The shipped template bundles become their first versions as the app starts
    (`import_templates`), so accepting a render never needs object storage; tests that
    never render may leave it to the first lookup, which imports them too."""
    settings = settings or Settings.from_env()
    services = Services.build(settings)
    if import_templates:
        _import_templates(services)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["billreel"] = services
    if start_queue:
        services.queue = queue_from_services(services)
        services.video_queue = video_queue_from_services(services)

    api.register(app, services)
    app.register_blueprint(pages.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(stream.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(studio.bp)
    app.register_blueprint(dashboard_journeys.bp)
    app.register_blueprint(dashboard_experiments.bp)
    app.register_blueprint(dashboard_figures.bp)
    app.register_blueprint(metrics.bp)
    app.extensions["billreel.limiter"] = throttling.install(app, services)

    app.before_request(_take_request_id)
    app.after_request(_give_request_id)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    _register_error_handlers(app)
    return app


def _import_templates(services: Services) -> None:
    try:
        ensure_shipped(services)
    except StorageError:  # storage down at start: the first lookup imports them instead
        log.warning("shipped templates not imported at start: storage unavailable")


def _take_request_id() -> None:
    """The caller's X-Request-Id when it is a plain id, else a new one: in the audit trail
    and in the answer, so a billing system and an admin can name the same request."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _give_request_id(response: Response) -> Response:
    if "request_id" in g:
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return problem_response(exc)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if isinstance(exc.response, Response):  # an answer made already (the throttle's 429)
            return exc.response
        status = exc.code or 500
        if request.path.startswith("/r/") and status == 404:
            return friendly_page(404)
        problem_type = _HTTP_PROBLEMS.get(status)
        if problem_type is None:
            generic = ApiError(exc.description)
            body = generic.problem() | {"status": status, "title": exc.name}
            return problem_body_response(body, status, {})
        error = problem_type(exc.description)
        if status == 405 and exc.get_headers():
            error.headers.update({k: v for k, v in exc.get_headers() if k == "Allow"})
        return problem_response(error)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.path})
        return problem_response(InternalError("an unexpected error occurred; it has been logged"))
