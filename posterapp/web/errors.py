"""Turn every error into JSON under /api and a page elsewhere, never a stack trace."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import PosterappError, Unavailable

# Plain words for the HTTP errors people can cause.
HTTP_MESSAGES = {
    404: "there is nothing at this address; check the link",
    405: "this address does not take {method} requests",
    413: "the request body is too large",
    429: "too many requests from this address ({limit}); wait a little and try again",
}


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/admin/api/"))


def respond(status: int, code: str, message: str, payload: dict | None = None):
    if wants_json():
        body = payload or {"error": {"code": code, "message": message}}
        return jsonify(body), status
    return render_template("error.html", status=status, message=message), status


def handle_posterapp(error: PosterappError):
    response = respond(error.status_code, error.code, error.message, error.to_dict())
    retry = getattr(error, "retry_after", None)
    return (*response, {"Retry-After": str(retry)}) if retry else response


def handle_database(error: sa.exc.DBAPIError):
    """The database is away (restarting, unreachable): a 503 to retry, not a 500."""
    from flask import current_app

    current_app.logger.warning("database unavailable on %s: %s", request.path, error.orig)
    return handle_posterapp(
        Unavailable("the database is not reachable right now; please try again in a moment")
    )


def handle_http(error: HTTPException):
    if isinstance(error, CSRFError):
        message = (
            f"the form's security token is missing or stale ({error.description}); "
            "reload the page and try again"
        )
        return respond(400, "csrf_failed", message)
    status = error.code or 500
    template = HTTP_MESSAGES.get(status)
    message = (
        template.format(method=request.method, limit=error.description)
        if template
        else (error.description or "")
    )
    code = (error.name or "error").lower().replace(" ", "_")
    response = respond(status, code, message)
    if status == 405 and error.valid_methods:
        body, status = response
        return body, status, {"Allow": ", ".join(error.valid_methods)}
    return response


def handle_unexpected(error: Exception):
    from flask import current_app

    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return respond(500, "internal_error", "something went wrong on our side; please try again")


def init_app(app: Flask) -> None:
    app.register_error_handler(PosterappError, handle_posterapp)
    app.register_error_handler(sa.exc.OperationalError, handle_database)
    app.register_error_handler(sa.exc.InterfaceError, handle_database)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
