"""Staff accounts for admins: list, add, disable, enable, remove, role, password; the audit log."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from .. import staff
from ..errors import PosterappError
from . import studio
from .auth import client_address

bp = Blueprint("accounts", __name__, url_prefix="/admin")

SHANGHAI = ZoneInfo("Asia/Shanghai")
AUDIT_SHOWN = 200


def _page(error: str = "", form: dict | None = None, status: int = 200):
    page = render_template(
        "admin/accounts.html",
        accounts=studio().store.accounts(),
        roles=staff.ROLES,
        duties=staff.ROLE_DUTIES,
        error=error,
        form=form or {},
        min_password=staff.MIN_PASSWORD,
        shanghai=SHANGHAI,
    )
    return page, status


@bp.get("/accounts")
def accounts():
    return _page()


@bp.post("/accounts")
def add():
    form = {key: request.form.get(key, "").strip() for key in ("name", "role")}
    try:
        staff.add_user(
            studio().store,
            form["name"],
            request.form.get("password", ""),
            form["role"],
            by=g.staff,
            address=client_address(),
        )
    except PosterappError as error:
        return _page(error.message, form, error.status_code)
    flash(
        f"已新建账号 {form['name']}（{staff.ROLE_NAMES[form['role']]}），把密码当面或私信告诉本人。"
    )
    return redirect(url_for("accounts.accounts"), 303)


ACTIONS = ("disable", "enable", "remove", "role", "password")


@bp.post("/accounts/<name>/<action>")
def change(name: str, action: str):
    store, who = studio().store, {"by": g.staff, "address": client_address()}
    try:
        if action == "disable":
            staff.set_disabled(store, name, True, **who)
            done = f"已停用 {name}，它的登录已经全部失效。"
        elif action == "enable":
            staff.set_disabled(store, name, False, **who)
            done = f"已恢复 {name}，可以重新登录了。"
        elif action == "remove":
            if request.form.get("confirm") != name:
                return _page(f"要删除 {name}，请在确认框里输入账号名 {name}。", status=400)
            staff.remove(store, name, **who)
            done = f"已删除 {name}。它发布过的版本仍然留在版本历史里。"
        elif action == "role":
            role = request.form.get("role", "")
            staff.set_role(store, name, role, **who)
            done = f"{name} 现在是{staff.ROLE_NAMES[role]}；需要重新登录一次。"
        elif action == "password":
            staff.reset_password(store, name, request.form.get("password", ""), **who)
            done = f"已给 {name} 设了新密码，它原来的登录已经全部失效。"
        else:
            return _page("没有这个操作，请用页面上的按钮。", status=404)
    except PosterappError as error:
        return _page(error.message, status=error.status_code)
    flash(done)
    if name == g.staff and action != "enable":
        # Changing your own account ends your own sessions too.
        return redirect(url_for("auth.login"), 303)
    return redirect(url_for("accounts.accounts"), 303)


@bp.get("/audit")
def audit_log():
    return render_template(
        "admin/audit.html",
        entries=studio().store.audit_entries(AUDIT_SHOWN),
        actions=staff.AUDIT_ACTIONS,
        shown=AUDIT_SHOWN,
        shanghai=SHANGHAI,
    )
