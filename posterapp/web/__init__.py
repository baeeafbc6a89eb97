"""The web layer: one blueprint per feature; routes parse, call ``posterapp.posters``, respond."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFProtect

from .. import settings, urls
from ..assets import Assets
from ..cache import ImageCache
from ..posters import Studio
from ..render import caches, text
from ..store import Store
from .images import CachedImages


def init_app(app: Flask) -> None:
    """Open the store, load the active catalog and register blueprints and error handlers."""
    app.jinja_env.globals["urls"] = urls  # every template builds public paths with it
    caches.tune_malloc()
    data = Path(app.config["DATA_DIR"])
    store = Store(settings.database_url(data, app.config["DATABASE_URL"]))
    store.create_schema()
    site = Studio(
        store=store,
        cache=ImageCache(data / "images"),
        public_url=app.config["PUBLIC_URL"],
        assets=Assets(Path(app.config["ASSETS_DIR"]), uploads=store.upload),
        render_budget=app.config["RENDER_BUDGET"],
    )
    site.ensure_published(Path(app.config["CATALOG"]))
    report_catalog_file(app, store, Path(app.config["CATALOG"]))
    teardown = let_go()
    app.teardown_request(teardown)
    teardown(None)  # loading the catalog segmented its texts: jieba can go
    app.extensions["posterapp"] = site
    site.blocking = thread_pool_call() or site.blocking
    console = app.config["CONSOLE"]  # a bool: settings.load read the text
    if app.config["PRODUCTION"]:
        refuse_unsafe_production(app, store, console)
    else:
        warn_about_other_hosts(app)

    from . import (
        accounts,
        api,
        auth,
        delivery,
        editor,
        errors,
        go,
        headers,
        inputs,
        limits,
        numbers,
        ops,
        picker,
        share,
    )  # fmt: skip

    inputs.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    delivery.init_app(app)
    # Only the console acts on behalf of a signed-in person, so only it checks CSRF tokens,
    # and only after the sign-in check: a stranger gets "sign in", not "bad token".
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.extensions["posterapp.csrf"] = CSRFProtect(app)
    limits.init_app(app, {"api": api.bp, "picker": picker.bp, "auth": auth.bp})
    # Flask's documented way to add WSGI middleware; its hints call wsgi_app a method.
    app.wsgi_app = CachedImages(app.wsgi_app, site.cache)  # type: ignore[method-assign]
    for blueprint in (picker.bp, share.bp, go.bp, api.bp, ops.bp):
        app.register_blueprint(blueprint)
    if console:
        for blueprint in (auth.bp, editor.bp, numbers.bp, accounts.bp):
            app.register_blueprint(blueprint)


def let_go() -> Callable[[BaseException | None], None]:
    """Return a teardown that keeps a worker's memory flat between requests.

    It frees jieba's dictionary if the request loaded it (a preview of edited text) and
    hands freed heap back to the system (``caches.trim``): at once after freeing the
    dictionary, else at most once a second.
    """
    last = [0.0]

    def teardown(error: BaseException | None) -> None:
        freed = text.release_segmenter()
        now = time.monotonic()
        if freed or now - last[0] >= 1:
            last[0] = now
            caches.trim()

    return teardown


def thread_pool_call() -> Callable[..., Any] | None:
    """Under gevent's patches (gunicorn's gevent workers), return a way to run blocking I/O
    in a thread of the hub's pool, the current greenlet waiting for it; else None."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("threading"):
        return None
    gevent = sys.modules["gevent"]  # imported with gevent.monkey

    def call(function, *args):
        return gevent.get_hub().threadpool.apply(function, args)

    return call


def report_catalog_file(app: Flask, store: Store, path: Path) -> None:
    """Say at start-up when the catalog file is not what is live, and how to publish it.

    The live catalog is what staff published (in the console or with ``posterapp publish``);
    editing the file on the server changes nothing until it is published, which surprises
    people who expect a restart to pick it up.
    """
    live = store.live()
    try:
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError):
        return
    if live is None or live.source == text:
        return
    app.logger.warning(
        "目录文件 %s 和正在使用的目录（#%s，%s 发布）不一样：改这个文件不会自动生效。"
        "要让它上线，请运行 posterapp publish %s（会先检查，并记入版本历史）；"
        "或者在后台“编辑目录”里修改后发布。",
        path,
        live.id,
        live.who,
        path,
    )


def refuse_unsafe_production(app: Flask, store: Store, console: bool) -> None:
    """In production, stop at start-up rather than run with the console open to no one.

    The address and the secret key are checked with the other settings (settings.load).
    """
    if console and store.user_count() == 0:
        raise RuntimeError(
            "活动后台（/admin）开着，但还没有员工账号：请先运行 "
            "`posterapp admin add-user 名字` 创建一个，或者设置 POSTERAPP_CONSOLE=false 关掉后台。"
        )


def warn_about_other_hosts(app: Flask) -> None:
    """Outside production, warn (once per host) when reached at another address than PUBLIC_URL.

    Every QR code and link starts with PUBLIC_URL and is stored with the poster, so posters
    made while testing on another address point somewhere their viewers may not reach.
    """
    public = str(app.config["PUBLIC_URL"])
    try:
        expected = urlsplit(public).netloc.lower()
    except ValueError:
        expected = ""
    seen: set[str] = set()

    @app.before_request
    def notice_other_host() -> None:
        host = request.host.lower()
        if host == expected or host in seen or len(seen) >= 20:  # a bound against junk Hosts
            return
        seen.add(host)
        app.logger.warning(
            "有人通过 %s 访问 posterapp，但 POSTERAPP_PUBLIC_URL 是 %s：这时做出的海报，二维码"
            "和链接都会指向 %s，并且永久保存。请把 POSTERAPP_PUBLIC_URL 设成大家真正访问的地址。",
            host,
            public,
            public,
        )


def studio() -> Studio:
    """Return the Studio of the current app."""
    return current_app.extensions["posterapp"]
