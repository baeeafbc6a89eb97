"""Staff accounts for the campaign console: names, password hashes, and slowing down guessing."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

from .errors import SelectionError
from .store import Store, now

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


def unlock(store: Store, name: str) -> int:
    """Forget an account's wrong passwords from every address; return how many there were."""
    return store.clear_login_failures(name)
