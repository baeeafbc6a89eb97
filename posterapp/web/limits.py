"""Per-client rate limits, counted in Redis when several app servers share the load."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask, blueprints: dict) -> Limiter:
    """Limit making posters and signing in; trust X-Forwarded-For from configured proxies only."""
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # If Redis is away for a moment, serve people rather than fail them.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "posterapp")
    limiter = Limiter(key_func=get_remote_address, app=app)

    @limiter.request_filter
    def reading() -> bool:
        # Only making things is limited; reading (images above all) skips the limiter's work.
        return request.method in {"GET", "HEAD", "OPTIONS"}

    posters = limiter.shared_limit(
        lambda: current_app.config["RATE_LIMIT_POSTERS"], scope="posters", methods=["POST"]
    )
    posters(blueprints["api"])
    posters(blueprints["picker"])
    limiter.limit(lambda: current_app.config["RATE_LIMIT_LOGIN"], methods=["POST"])(
        blueprints["auth"]
    )
    return limiter
