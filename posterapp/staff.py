"""Staff accounts for the campaign console: names, roles, passwords, slowing down guessing.

Roles go up in steps, each allowed what the one below may do and more:

    viewer     查看者   the numbers (数据)
    editor     编辑     the catalog editor, drafts, previews and icon uploads; not publishing
    publisher  发布者   publishing and rollback
    admin      管理员   accounts and the audit log

Every change to an account ends that account's sessions at once (see Store.change_account),
and is written to the audit log with who did it and from where.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

from .errors import Conflict, SelectionError
from .store import Account, Store, now

ROLES = ("viewer", "editor", "publisher", "admin")  # lowest first
ROLE_NAMES = {"viewer": "查看者", "editor": "编辑", "publisher": "发布者", "admin": "管理员"}
ROLE_DUTIES = {
    "viewer": "只看数据",
    "editor": "编辑目录、预览、上传图标，不能发布",
    "publisher": "编辑，并且能发布和回滚",
    "admin": "全部，包括管理账号和查看操作记录",
}
MIN_PASSWORD = 10
# Wrong passwords are counted per account *and address* together, so nobody elsewhere can lock
# a colleague out by guessing at their name; an address guessing at many names is held back by
# its own, higher limit. Both count the failures of the last WINDOW.
MAX_FAILURES = 5  # per account from one address
MAX_ADDRESS_FAILURES = 20  # per address, whatever the names
WINDOW = dt.timedelta(minutes=15)
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,31}")
# Checked against when the account does not exist, so a wrong name costs as long as a wrong
# password and does not reveal which names exist.
_DUMMY_HASH = generate_password_hash("posterapp-no-such-user")


def allows(role: str | None, needed: str) -> bool:
    """Tell whether ``role`` may do what needs at least ``needed``."""
    return role in ROLES and needed in ROLES and ROLES.index(role) >= ROLES.index(needed)


def audit(store: Store, who: str, action: str, detail: str = "", address: str = "") -> None:
    """Write down who did what, from where (see AUDIT_ACTIONS for the actions)."""
    store.add_audit(who, action, detail, address)


# What the audit log's actions are called on the console's 操作记录 page.
AUDIT_ACTIONS = {
    "sign_in": "登录",
    "sign_in_failed": "登录失败",
    "sign_out": "退出",
    "publish": "发布",
    "rollback": "回滚",
    "upload": "上传图标",
    "account_add": "新建账号",
    "account_remove": "删除账号",
    "account_disable": "停用账号",
    "account_enable": "恢复账号",
    "account_role": "修改角色",
    "account_password": "重设密码",
    "account_unlock": "解除锁定",
}


def _check_role(role: str) -> None:
    if role not in ROLES:
        choices = "、".join(f"{r}（{ROLE_NAMES[r]}）" for r in ROLES)
        raise SelectionError(f"没有“{role}”这个角色，可以选：{choices}", field="role")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise SelectionError(
            f"密码至少要 {MIN_PASSWORD} 个字符，现在只有 {len(password)} 个", field="password"
        )


def add_user(
    store: Store, name: str, password: str, role: str = "admin", *, by: str = "", address: str = ""
) -> None:
    """Create a staff account with a strong (scrypt) password hash."""
    if not NAME.fullmatch(name):
        raise SelectionError(
            "账号名要 2–32 个字符，只能用字母、数字和 . _ -，并以字母或数字开头，例如 li.na",
            field="name",
        )
    _check_role(role)
    _check_password(password)
    if not store.add_account(name, generate_password_hash(password), role):
        raise SelectionError(
            f"已经有叫 {name} 的账号了；要给它设新密码，请用“重设密码”", field="name"
        )
    audit(store, by, "account_add", f"{name}，角色：{ROLE_NAMES[role]}", address)


def account(store: Store, name: str) -> Account:
    """Return the account called ``name``; raise a plain message if there is none."""
    found = store.account(name) if name else None
    if found is None:
        raise SelectionError(f"没有叫 {name} 的员工账号", field="name")
    return found


def _change(store: Store, name: str, refused: str, **values) -> None:
    outcome = store.change_account(name, **values)
    if outcome == "missing":
        raise SelectionError(f"没有叫 {name} 的员工账号", field="name")
    if outcome == "last_admin":
        raise Conflict(
            f"{name} 是最后一个能用的管理员，不能{refused}：否则就没有人能管理账号了。"
            "请先把另一个账号设为管理员。"
        )


def set_role(store: Store, name: str, role: str, *, by: str = "", address: str = "") -> None:
    """Give an account another role; its sessions end, so it signs in again with the new one."""
    _check_role(role)
    before = account(store, name).role
    _change(store, name, "改成" + ROLE_NAMES[role], role=role)
    detail = f"{name}：{ROLE_NAMES.get(before, before)} → {ROLE_NAMES[role]}"
    audit(store, by, "account_role", detail, address)


def set_disabled(
    store: Store, name: str, disabled: bool, *, by: str = "", address: str = ""
) -> None:
    """Disable an account (its sessions end at once) or enable it again."""
    _change(store, name, "停用", disabled=disabled)
    audit(store, by, "account_disable" if disabled else "account_enable", name, address)


def remove(store: Store, name: str, *, by: str = "", address: str = "") -> None:
    """Delete an account; what it published stays in the history under its name."""
    _change(store, name, "删除", remove=True)
    audit(store, by, "account_remove", name, address)


def reset_password(
    store: Store, name: str, password: str, *, by: str = "", address: str = ""
) -> None:
    """Give an account a new password; every session of it ends at once."""
    _check_password(password)
    _change(store, name, "改密码", password_hash=generate_password_hash(password))
    audit(store, by, "account_password", name, address)


@dataclass(frozen=True)
class Lockout:
    """Sign-ins refused for a while: for one account from one address, or for the address."""

    seconds: int  # until the oldest failure that counts is out of the window
    whole_address: bool


def _account(name: str | None) -> str:
    # Only a well-formed name can be an account; any other text counts against the address.
    return name if name and NAME.fullmatch(name) else ""


def _wait(failures: list[dt.datetime], limit: int) -> int:
    """Return seconds until fewer than ``limit`` of these failures (newest first) are recent."""
    if len(failures) < limit:
        return 0
    lifted = failures[limit - 1] + WINDOW
    return max(1, math.ceil((lifted - now()).total_seconds()))


def locked_for(store: Store, name: str, client: str) -> Lockout | None:
    """Return how long this account from this address must wait, or None: it may try now."""
    since = now() - WINDOW
    address = _wait(
        store.login_failures(since, client, most=MAX_ADDRESS_FAILURES), MAX_ADDRESS_FAILURES
    )
    if address:
        return Lockout(address, whole_address=True)
    pair = _wait(
        store.login_failures(since, client, name=_account(name), most=MAX_FAILURES), MAX_FAILURES
    )
    return Lockout(pair, whole_address=False) if pair else None


def check_login(store: Store, name: str, password: str, client: str) -> bool:
    """Check a name and password, recording the attempt; False for any wrong pair."""
    account = _account(name)
    stored = store.password_hash(account) if account else None
    good = check_password_hash(stored or _DUMMY_HASH, password or "") and stored is not None
    store.record_login(account, client, good)
    return good


def unlock(store: Store, name: str, *, by: str = "", address: str = "") -> int:
    """Forget an account's wrong passwords from every address; return how many there were."""
    cleared = store.clear_login_failures(name)
    if cleared:
        audit(store, by, "account_unlock", f"{name}（{cleared} 次密码错误）", address)
    return cleared
