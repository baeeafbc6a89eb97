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
        message = "sign in to the console first"
        return jsonify({"error": {"code": "unauthorized", "message": message}}), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def check_csrf() -> None:
    """Refuse a state-changing request without this session's CSRF token (400)."""
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        current_app.extensions["posterapp.csrf"].protect()


def _safe_next(target: str | None) -> str:
    # Only ever send people back into the console: never to another site.
    if target and target.startswith("/admin") and not target.startswith("/admin/login"):
        return target
    return url_for("numbers.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    store = studio().store
    no_accounts = store.user_count() == 0
    if request.method == "GET":
        return render_template("admin/login.html", no_accounts=no_accounts, name="")
    check_csrf()
    name = request.form.get("name", "").strip()
    client = request.remote_addr or "unknown"
    wait = staff.locked_for(store, name, client)
    if wait:
        message = f"密码错误次数太多，请 {wait // 60} 分钟后再试。"
        page = render_template("admin/login.html", error=message, name=name)
        return page, 429, {"Retry-After": str(wait)}
    if not staff.check_login(store, name, request.form.get("password", ""), client):
        page = render_template("admin/login.html", error="用户名或密码不对。", name=name)
        return page, 401
    session.clear()  # a fresh session at sign-in: nothing carried over from before
    session["staff"] = name
    session.permanent = True
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    check_csrf()
    session.clear()
    return redirect(url_for("auth.login"))
