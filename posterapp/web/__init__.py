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
        render_budget=float(app.config["RENDER_BUDGET"]),
    )
    site.ensure_published(Path(app.config["CATALOG"]))
    app.extensions["posterapp"] = site
    console = flag(app.config["CONSOLE"])
    if flag(app.config["PRODUCTION"]):
        refuse_unsafe_production(app, store, console)

    from . import api, auth, editor, errors, headers, limits, numbers, ops, picker, share

    errors.init_app(app)
    headers.init_app(app)
    # Only the console acts on behalf of a signed-in person, so only it checks CSRF tokens,
    # and only after the sign-in check: a stranger gets "sign in", not "bad token".
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.extensions["posterapp.csrf"] = CSRFProtect(app)
    limits.init_app(app, {"api": api.bp, "picker": picker.bp, "auth": auth.bp})
    app.wsgi_app = CachedImages(app.wsgi_app, site.cache)
    for blueprint in (picker.bp, share.bp, api.bp, ops.bp):
        app.register_blueprint(blueprint)
    if console:
        for blueprint in (auth.bp, editor.bp, numbers.bp):
            app.register_blueprint(blueprint)


def flag(value) -> bool:
    """Read a yes/no setting given as a bool or as text like "true", "1", "off"."""
    return (
        value
        if isinstance(value, bool)
        else str(value).strip().lower() in {"1", "true", "yes", "on"}
    )


def refuse_unsafe_production(app: Flask, store: Store, console: bool) -> None:
    """In production, stop at start-up rather than run with a guessable key or an open door."""
    key = str(app.config.get("SECRET_KEY") or "")
    if key == settings.SECRET_KEY.default or len(key) < 32:
        raise RuntimeError(
            "POSTERAPP_SECRET_KEY must be a long random value in production (32+ characters), "
            "e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if console and store.user_count() == 0:
        raise RuntimeError(
            "the console (/admin) is on but has no staff accounts: create one with "
            "`posterapp admin add-user NAME`, or set POSTERAPP_CONSOLE=false"
        )


def studio() -> Studio:
    """Return the Studio of the current app."""
    return current_app.extensions["posterapp"]
