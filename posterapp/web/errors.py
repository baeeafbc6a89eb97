"""Turn every error into JSON under /api and a page elsewhere, never a stack trace.

The words are for people, in their language (``posterapp.i18n``); the JSON ``code`` and
``field`` are for programs and stay the same in every language.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Flask, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .. import i18n
from ..errors import PosterappError, Unavailable
from ..i18n import _


def http_message(status: int) -> str:
    """Say in plain words what an HTTP error means for the person and what to do next."""
    if status == 404:
        return _("这个页面不存在，回首页挑选你的美好生活吧")
    if status == 405:
        return _("这个页面不能这样打开，回首页重新开始吧")
    if status == 413:
        return _("发送的内容太多了，精简一些再试吧")
    if 400 <= status < 500:
        return _("这个请求没法处理，回首页重新开始吧")
    return _("出了点小问题，请稍后再试一次")


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/admin/api/"))


def respond(status: int, code: str, message: str, payload: dict | None = None):
    headers = {"Vary": "Accept-Language"}  # the words depend on it
    if wants_json():
        body = payload or {"error": {"code": code, "message": message}}
        return jsonify(body), status, headers
    page = render_template("error.html", status=status, code=code, message=message)
    return page, status, headers


def handle_posterapp(error: PosterappError):
    if error.for_staff and not request.path.startswith("/admin"):
        # A stale image address names a catalog version: people need plain words, not that.
        return respond(error.status_code, error.code, http_message(error.status_code))
    body, status, headers = respond(error.status_code, error.code, error.message, error.to_dict())
    retry = getattr(error, "retry_after", None)
    if retry:
        headers["Retry-After"] = str(retry)
    return body, status, headers


def handle_database(error: sa.exc.DBAPIError):
    """The database is away (restarting, unreachable): a 503 to retry, not a 500."""
    current_app.logger.warning("database unavailable on %s: %s", request.path, error.orig)
    return handle_posterapp(Unavailable())


def handle_http(error: HTTPException):
    if isinstance(error, CSRFError):
        # Only the console checks tokens; a stale one almost always means a page left open.
        message = _("页面打开太久了，请刷新后再试一次")
        return respond(400, "csrf_failed", message)
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_")
    if status == 429:
        return too_many_requests(code)
    body, status, headers = respond(status, code, http_message(status))
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return body, status, headers


def too_many_requests(code: str):
    """Say how many seconds to wait, and send the same number as Retry-After."""
    seconds = retry_seconds()
    g.retry_seconds = seconds
    message = _("操作太频繁啦，请 %(wait)s后再试", wait=i18n.wait_text(seconds))
    body, status, headers = respond(429, code, message)
    headers["Retry-After"] = str(seconds)
    return body, status, headers


def retry_seconds() -> int:
    """Return the seconds until the limit that refused this request lets it through again."""
    for limiter in current_app.extensions.get("limiter", ()):
        try:
            limit = limiter.current_limit
            if limit is not None:
                return max(1, int(limit.reset_at - time.time()))
        except Exception:  # the limiter's storage is away: fall back to a short wait
            current_app.logger.warning("could not read the rate limit's reset time")
    return 60


def keep_retry_after(response):
    """Send the wait the message promised: the limiter sets Retry-After again after us."""
    seconds = g.get("retry_seconds")
    if seconds is not None:
        response.headers["Retry-After"] = str(seconds)
    return response


def handle_unexpected(error: Exception):
    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return respond(500, "internal_error", _("出了点小问题，请稍后再试一次"))


def init_app(app: Flask) -> None:
    # The words of every error depend on the person's language, so the locale comes first.
    i18n.init_app(app)
    app.register_error_handler(PosterappError, handle_posterapp)
    app.register_error_handler(sa.exc.OperationalError, handle_database)
    app.register_error_handler(sa.exc.InterfaceError, handle_database)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
    # Registered before the limiter's own after_request, so it runs after it (Flask runs
    # them in reverse) and has the last word on Retry-After.
    app.after_request(keep_retry_after)
