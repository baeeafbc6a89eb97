"""posterapp: personal "美好生活" posters from a catalog of choices, with a QR code to share.

Served as ``gunicorn 'posterapp:create_app()'``; configured from ``POSTERAPP_*`` variables
(``posterapp.settings``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from . import settings

if TYPE_CHECKING:  # Flask is imported by create_app: gunicorn's master reads only settings
    from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure an instance of the Flask application.

    Raise :class:`settings.SettingsError` (a RuntimeError) naming every bad setting.
    """
    from flask import Flask
    from flask.json.provider import DefaultJSONProvider

    test_config = test_config or {}
    # The environment, read and checked once; a test's values replace it and are checked too.
    values = settings.load(overrides=test_config)
    app = Flask(__name__)
    app.config.update(values.config())
    app.config.update(
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,  # a catalog or an icon; the API allows far less
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.config.update({k: v for k, v in test_config.items() if k not in settings.FIELDS})
    # Cookies go only over https when people reach posterapp over https.
    app.config["SESSION_COOKIE_SECURE"] = values.PUBLIC_URL.startswith("https://")
    assert isinstance(app.json, DefaultJSONProvider)  # Flask's own: nothing replaces it
    app.json.ensure_ascii = False

    from .web import init_app

    init_app(app)
    return app


def data_dir(app: Flask) -> Path:
    return Path(app.config["DATA_DIR"])
