"""posterapp: personal "美好生活" posters from a catalog of choices, with a QR code to share.

Served as ``gunicorn 'posterapp:create_app()'``; configured from ``POSTERAPP_*`` variables.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask

from . import settings


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure an instance of the Flask application."""
    app = Flask(__name__)
    app.config.from_mapping({name: s.default for name, s in settings.SETTINGS.items()})
    app.config.update(
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,  # a catalog or an icon; the API allows far less
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.config.from_prefixed_env("POSTERAPP")
    if test_config:
        app.config.update(test_config)
    # Cookies go only over https when people reach posterapp over https.
    app.config["SESSION_COOKIE_SECURE"] = str(app.config["PUBLIC_URL"]).startswith("https://")
    app.json.ensure_ascii = False

    from .web import init_app

    init_app(app)
    return app


def data_dir(app: Flask) -> Path:
    return Path(app.config["DATA_DIR"])
