"""Per-client rate limits, counted in Redis when several app servers share the load."""

from __future__ import annotations

import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

OUTAGE_LOG_EVERY = 60  # seconds between log lines while Redis stays away


PREVIEW = "picker.preview"


def init_app(app: Flask, blueprints: dict) -> Limiter:
    """Limit making posters and signing in; trust X-Forwarded-For from configured proxies only."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Flask's documented way to add WSGI middleware; its hints call wsgi_app a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    else:
        warn_about_untrusted_proxy(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        # An unreachable Redis must cost a request a moment, not a hung worker.
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
        )
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # If Redis is away, count in this process instead (the same limits, per process) until it
    # is back: letting everything through would switch the limits off just when least wanted.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)  # a last resort, should both fail
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "posterapp")
    limiter = Limiter(key_func=get_remote_address, app=app)
    log_outages(app, limiter)

    @limiter.request_filter
    def reading() -> bool:
        # Only making things is limited; reading (images above all) skips the limiter's work.
        # A live preview is a read that renders, so it is counted like making.
        return request.method in {"GET", "HEAD", "OPTIONS"} and request.endpoint != PREVIEW

    posters = limiter.shared_limit(
        lambda: current_app.config["RATE_LIMIT_POSTERS"], scope="posters", methods=["POST"]
    )
    posters(blueprints["api"])
    posters(blueprints["picker"])
    limiter.limit(lambda: current_app.config["RATE_LIMIT_LOGIN"], methods=["POST"])(
        blueprints["auth"]
    )
    limiter.limit(
        lambda: current_app.config["RATE_LIMIT_PREVIEWS"],
        methods=["GET"],
        exempt_when=lambda: request.endpoint != PREVIEW,
    )(blueprints["picker"])
    return limiter


def log_outages(app: Flask, limiter: Limiter) -> None:
    """While the limiter counts in memory because Redis is away, say so once a minute."""
    last_said = 0.0

    @app.after_request
    def say_if_counting_in_memory(response):
        nonlocal last_said
        # The limiter swaps in its in-memory fallback while its own storage is unreachable.
        if limiter.limiter.storage is limiter.storage:
            return response
        if time.monotonic() - last_said >= OUTAGE_LOG_EVERY:
            last_said = time.monotonic()
            app.logger.warning(
                "连不上 Redis（POSTERAPP_REDIS_URL）：限流暂时只在本进程内计数，"
                "多台服务器或多个进程加起来会放行更多请求。请检查 Redis 是否在运行、地址是否正确；"
                "Redis 恢复后会自动切回。"
            )
        return response


def warn_about_untrusted_proxy(app: Flask) -> None:
    """Warn once when requests come through a proxy that posterapp has not been told about."""
    warned = False

    @app.before_request
    def notice_forwarded_requests() -> None:
        nonlocal warned
        if warned or "X-Forwarded-For" not in request.headers:
            return
        warned = True
        app.logger.warning(
            "请求带有 X-Forwarded-For 头，但 POSTERAPP_TRUSTED_PROXIES=0：posterapp 把代理的地址"
            "当成了每个人的地址，所有人共用一份限流和登录失败次数。请把 POSTERAPP_TRUSTED_PROXIES "
            "设为 posterapp 前面的代理层数（通常是 1）。"
        )
