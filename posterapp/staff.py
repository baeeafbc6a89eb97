"""Staff accounts for the campaign console: names, password hashes, and slowing down guessing."""

from __future__ import annotations

import datetime as dt
import re

from werkzeug.security import check_password_hash, generate_password_hash

from .errors import SelectionError
from .store import Store, now

MIN_PASSWORD = 10
MAX_FAILURES = 5  # wrong passwords per account or per address …
WINDOW = dt.timedelta(minutes=15)  # … within this long, before logins are refused for a while
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,31}")
# Checked against when the account does not exist, so a wrong name costs as long as a wrong
# password and does not reveal which names exist.
_DUMMY_HASH = generate_password_hash("posterapp-no-such-user")


def add_user(store: Store, name: str, password: str) -> None:
    """Create a staff account (or reset its password) with a strong (scrypt) hash."""
    if not NAME.fullmatch(name):
        raise SelectionError(
            "a staff name is 2–32 letters, digits, dots, dashes or underscores, like 'li.na'",
            field="name",
        )
    if len(password) < MIN_PASSWORD:
        raise SelectionError(
            f"the password must be at least {MIN_PASSWORD} characters long", field="password"
        )
    store.set_user(name, generate_password_hash(password))


def locked_for(store: Store, name: str, client: str) -> int:
    """Return seconds until this account or address may try again (0: it may try now)."""
    if store.failed_logins(name, client, now() - WINDOW) < MAX_FAILURES:
        return 0
    return int(WINDOW.total_seconds())


def check_login(store: Store, name: str, password: str, client: str) -> bool:
    """Check a name and password, recording the attempt; False for any wrong pair."""
    stored = store.password_hash(name) if NAME.fullmatch(name or "") else None
    good = check_password_hash(stored or _DUMMY_HASH, password or "") and stored is not None
    store.record_login(name or "", client, good)
    return good
