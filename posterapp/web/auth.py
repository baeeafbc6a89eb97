"""Staff sign-in for the console: login, logout, and the check every console request passes.

Every request under /admin goes through ``guard`` (registered for the whole app, so a console
route cannot forget it): it needs a live session, then the role that ``CONSOLE_ROLES`` gives
the route's endpoint. A console route missing from that table is refused to everyone, admins
too, until someone decides who may use it: a forgotten entry fails closed, never open.
"""

from __future__ import annotations

import hashlib
import secrets

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
from ..store import Account, now
from . import studio

bp = Blueprint("auth", __name__, url_prefix="/admin")

# Who may use each console endpoint: the lowest role that may (see posterapp/staff.py).
PUBLIC = {"auth.login"}
CONSOLE_ROLES = {
    "auth.logout": "viewer",
    "numbers.dashboard": "viewer",
    "numbers.export_csv": "viewer",
    "numbers.numbers_json": "viewer",
    "editor.edit": "editor",
    "editor.draft_get": "editor",
    "editor.draft_save": "editor",
    "editor.draft_discard": "editor",
    "editor.validate": "editor",
    "editor.form": "editor",
    "editor.preview": "editor",
    "editor.upload": "editor",
    "editor.uploads": "editor",
    "editor.upload_file": "editor",
    "editor.delete_upload": "editor",
    "editor.history": "editor",
    "editor.publish": "publisher",
    "editor.publish_api": "publisher",
    "editor.confirm_rollback": "publisher",
    "editor.rollback": "publisher",
    "accounts.accounts": "admin",
    "accounts.add": "admin",
    "accounts.change": "admin",
    "accounts.audit_log": "admin",
}


def in_console() -> bool:
    return request.path == "/admin" or request.path.startswith("/admin/")


def needed_role(endpoint: str | None) -> str | None:
    """Return the lowest role allowed at ``endpoint``; None: nobody (no entry in the table)."""
    return CONSOLE_ROLES.get(endpoint or "")


def can(endpoint: str) -> bool:
    """Tell whether the signed-in person may open ``endpoint`` (for links in templates)."""
    needed = needed_role(endpoint)
    return needed is not None and staff.allows(g.get("role"), needed)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def signed_in() -> Account | None:
    """Return the account of this request's session, if the session is still live."""
    token = session.get("sid")
    if not isinstance(token, str) or not token:
        return None
    since = now() - current_app.permanent_session_lifetime
    return studio().store.session_account(_token_hash(token), since)


def guard():
    """Before every console request: sign-in, then role, then the CSRF token."""
    if not in_console() or request.endpoint in PUBLIC or g.get("console_checked"):
        return None
    account = signed_in()
    if account is None:
        session.clear()
        if request.path.startswith("/admin/api/"):
            message = "请先登录活动后台，再进行这个操作"
            return jsonify({"error": {"code": "unauthorized", "message": message}}), 401
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    g.staff, g.role, g.console_checked = account.name, account.role, True
    if request.url_rule is None:
        return None  # no such console page: the 404 (or 405) follows
    needed = needed_role(request.endpoint)
    if needed is None or not staff.allows(account.role, needed):
        return forbidden(account.role, needed)
    check_csrf()
    return None


bp.before_app_request(guard)
# Kept for the blueprints that register it; the app-wide guard has done the work by then.
require_staff = guard


def forbidden(role: str, needed: str | None):
    """Refuse with 403, saying whose permission it takes."""
    have = staff.ROLE_NAMES.get(role, role)
    if needed is None:
        message = "这个页面还没有设置谁能使用，所以暂时谁都不能用。请告诉技术同事。"
    else:
        message = (
            f"你的账号是“{have}”，这个操作需要“{staff.ROLE_NAMES[needed]}”或更高的权限。"
            "需要的话，请找管理员调整。"
        )
    if request.path.startswith("/admin/api/"):
        return jsonify({"error": {"code": "forbidden", "message": message}}), 403
    return render_template("admin/forbidden.html", message=message), 403


def check_csrf() -> None:
    """Refuse a state-changing request without this session's CSRF token (400)."""
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        current_app.extensions["posterapp.csrf"].protect()


def audit(action: str, detail: str = "", who: str | None = None) -> None:
    """Write down what the signed-in person just did, and from which address."""
    name = who if who is not None else g.get("staff", "")
    staff.audit(studio().store, name, action, detail, client_address())


def client_address() -> str:
    return request.remote_addr or "unknown"


@bp.app_context_processor
def console_roles():
    return {"can": can, "role_names": staff.ROLE_NAMES}


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
DISABLED = "这个账号已经停用了。需要的话，请找管理员恢复。"


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
    client = client_address()
    lockout = staff.locked_for(store, name, client)
    if lockout:
        page = render_template("admin/login.html", error=_lockout_message(lockout), name=name)
        return page, 429, {"Retry-After": str(lockout.seconds)}
    if not staff.check_login(store, name, request.form.get("password", ""), client):
        audit("sign_in_failed", "用户名或密码不对", who=name)
        page = render_template("admin/login.html", error="用户名或密码不对。", name=name)
        return page, 401
    account = store.account(name)
    if account is None or account.disabled:
        audit("sign_in_failed", "账号已停用", who=name)
        return render_template("admin/login.html", error=DISABLED, name=name), 403
    session.clear()  # a fresh session at sign-in: nothing carried over from before
    token = secrets.token_urlsafe(32)
    store.start_session(
        name, _token_hash(token), older_than=now() - current_app.permanent_session_lifetime
    )
    session["staff"] = name
    session["sid"] = token
    session.permanent = True
    audit("sign_in", who=name)
    return redirect(target or url_for("numbers.dashboard"))


@bp.post("/logout")
def logout():
    # The guard has checked the session and the CSRF token. Deleting the session's row ends
    # it everywhere, also in any copy of the cookie.
    studio().store.end_session(_token_hash(session["sid"]))
    audit("sign_out")
    session.clear()
    return redirect(url_for("auth.login"))
