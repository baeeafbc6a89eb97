"""The web layer: one blueprint per feature; routes parse, call ``posterapp.posters``, respond."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from flask_wtf.csrf import CSRFProtect

from .. import settings
from ..assets import Assets
from ..cache import ImageCache
from ..posters import Studio
from ..store import Store
from .images import CachedImages


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

    from . import api, auth, editor, errors, limits, numbers, ops, picker, share

    errors.init_app(app)
    # Only the console acts on behalf of a signed-in person, so only it checks CSRF tokens,
    # and only after the sign-in check: a stranger gets "sign in", not "bad token".
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.extensions["posterapp.csrf"] = CSRFProtect(app)
    limits.init_app(app, {"api": api.bp, "picker": picker.bp, "auth": auth.bp})
    app.wsgi_app = CachedImages(app.wsgi_app, site.cache)
    for blueprint in (picker.bp, share.bp, api.bp, auth.bp, editor.bp, numbers.bp, ops.bp):
        app.register_blueprint(blueprint)


def studio() -> Studio:
    """Return the Studio of the current app."""
    return current_app.extensions["posterapp"]
