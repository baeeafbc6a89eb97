"""The web layer: one blueprint per feature; routes parse, call ``posterapp.posters``, respond."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from .. import settings
from ..assets import Assets
from ..cache import ImageCache
from ..posters import Studio
from ..store import Store


def init_app(app: Flask) -> None:
    """Open the store, load the active catalog and register blueprints and error handlers."""
    data = Path(app.config["DATA_DIR"])
    store = Store(settings.database_url(data, app.config["DATABASE_URL"]))
    store.create_schema()
    site = Studio(
        store=store,
        cache=ImageCache(data / "images"),
        public_url=app.config["PUBLIC_URL"],
        assets=Assets(Path(app.config["ASSETS_DIR"]), uploads=store.upload),
    )
    site.ensure_published(Path(app.config["CATALOG"]))
    app.extensions["posterapp"] = site

    from . import api, errors, picker, share

    errors.init_app(app)
    app.register_blueprint(picker.bp)
    app.register_blueprint(share.bp)
    app.register_blueprint(api.bp)


def studio() -> Studio:
    """Return the Studio of the current app."""
    return current_app.extensions["posterapp"]
