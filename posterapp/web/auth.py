"""Staff sign-in for the console: login, logout, and the check every console route runs."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .. import staff
from . import studio

bp = Blueprint("auth", __name__, url_prefix="/admin")


def require_staff():
    """Before every console request: 401 for the console's API, the login page otherwise."""
    name = session.get("staff")
    if name and studio().store.password_hash(name) is not None:
        g.staff = name
        check_csrf()
        return None
    session.pop("staff", None)
    if request.path.startswith("/admin/api/"):
        message = "请先登录活动后台，再进行这个操作"
        return jsonify({"error": {"code": "unauthorized", "message": message}}), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def check_csrf() -> None:
    """Refuse a state-changing request without this session's CSRF token (400)."""
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        current_app.extensions["posterapp.csrf"].protect()


def _safe_next(target: str | None) -> str | None:
    """Return where to go after signing in: ``target`` inside the console, or None if unsafe."""
    if not target:
        return url_for("numbers.dashboard")
    # Only ever back into the console, never to another site; and no control characters or
    # backslashes, which no console address has and which cannot go into a Location header.
    inside = target.startswith("/admin") and not target.startswith("/admin/login")
    if not inside or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    return target


def wait_text(seconds: int) -> str:
    """Say how long to wait the way people do: "12 分 30 秒", "15 分钟", "40 秒"."""
    minutes, seconds = divmod(seconds, 60)
    if not minutes:
        return f"{seconds} 秒"
    return f"{minutes} 分 {seconds} 秒" if seconds else f"{minutes} 分钟"


def _lockout_message(lockout: staff.Lockout) -> str:
    wait = wait_text(lockout.seconds)
    if lockout.whole_address:
        return f"从这个网络地址登录失败的次数太多，请 {wait}后再试。"
    return f"密码错误次数太多，请 {wait}后再试。"


BAD_NEXT = "这个登录链接里的跳转地址不对。请直接登录，登录后会带你到后台首页。"


@bp.route("/login", methods=["GET", "POST"])
def login():
    store = studio().store
    no_accounts = store.user_count() == 0
    target = _safe_next(request.args.get("next"))
    if request.method == "GET":
        if target is None:
            # A doctored link: say so, and let the form sign in without it.
            page = render_template(
                "admin/login.html", error=BAD_NEXT, name="", action=url_for("auth.login")
            )
            return page, 400
        return render_template("admin/login.html", no_accounts=no_accounts, name="")
    check_csrf()
    name = request.form.get("name", "").strip()
    client = request.remote_addr or "unknown"
    lockout = staff.locked_for(store, name, client)
    if lockout:
        page = render_template("admin/login.html", error=_lockout_message(lockout), name=name)
        return page, 429, {"Retry-After": str(lockout.seconds)}
    if not staff.check_login(store, name, request.form.get("password", ""), client):
        page = render_template("admin/login.html", error="用户名或密码不对。", name=name)
        return page, 401
    session.clear()  # a fresh session at sign-in: nothing carried over from before
    session["staff"] = name
    session.permanent = True
    return redirect(target or url_for("numbers.dashboard"))


@bp.post("/logout")
def logout():
    check_csrf()
    session.clear()
    return redirect(url_for("auth.login"))
