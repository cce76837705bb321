"""Slowing down password guessing without locking the owner out.

Failed sign-ins are counted per e-mail (the account) and per address, over LOGIN_FAILURE_WINDOW. The first
LOGIN_MAX_FAILURES_PER_EMAIL (per address: LOGIN_MAX_FAILURES_PER_IP) cost nothing; after them every further
try must wait a growing delay after the last failure: LOGIN_DELAY_BASE, then twice that, and so on, at most
LOGIN_MAX_DELAY. A try during the delay is answered 429 without looking at the password.

An account's delay applies only to the addresses that failed for it: the owner, signing in from an address that
did not fail, has their password checked at once, so a correct one lets them in while someone guesses from
elsewhere (a wrong one from that address counts, and delays it too). Signing in forgets the failures of that
e-mail from that address only, so the owner's success gives a guesser elsewhere no fresh tries.

Second factor (another part of the panel): a wrong second factor is a failure like a wrong password
(record_failure with the same e-mail and address), and `signed_in` is called only once the whole sign-in
(password and second factor) has passed."""
import hashlib
import math
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from panel import unit_of_work
from panel.auth.models import LoginFailure
from panel.extensions import db
from panel.types import utcnow


def _fitted(name: str, column) -> str:
    """`name` as login_failure's column holds it. The portal counts "portal:" + the address (or the IP), which
    can be longer than the column; a longer name keeps its start and a digest of the whole, so two names never
    share a count and the insert never fails."""
    limit = column.type.length
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[:limit - 17]}#{digest}"


def _names(email: str, ip: str) -> tuple[str, str]:
    return _fitted(email, LoginFailure.email), _fitted(ip, LoginFailure.ip)


def delay(excess: int) -> timedelta:
    """The wait after the (free + excess + 1)-th failure: base, 2×base, 4×base, …, at most LOGIN_MAX_DELAY."""
    cfg = current_app.config
    return min(cfg["LOGIN_DELAY_BASE"] * (2 ** min(excess, 20)), cfg["LOGIN_MAX_DELAY"])


def _recent(*conditions):
    since = utcnow() - current_app.config["LOGIN_FAILURE_WINDOW"]
    row = db.session.execute(sa.select(sa.func.count(), sa.func.max(LoginFailure.at))
                             .where(LoginFailure.at > since, *conditions)).one()
    return row[0], row[1]


def wait_before_next_try(email: str, ip: str) -> timedelta | None:
    """How long this address must wait before trying this e-mail again, or None if it may try now."""
    cfg = current_app.config
    email, ip = _names(email, ip)
    waits = []
    account, _ = _recent(LoginFailure.email == email)
    if account >= cfg["LOGIN_MAX_FAILURES_PER_EMAIL"]:
        from_here, last = _recent(LoginFailure.email == email, LoginFailure.ip == ip)
        if from_here:
            waits.append(last + delay(account - cfg["LOGIN_MAX_FAILURES_PER_EMAIL"]))
    address, last = _recent(LoginFailure.ip == ip)
    if address >= cfg["LOGIN_MAX_FAILURES_PER_IP"]:
        waits.append(last + delay(address - cfg["LOGIN_MAX_FAILURES_PER_IP"]))
    until = max(waits) if waits else None
    return until - utcnow() if until is not None and until > utcnow() else None


def record_failure(email: str, ip: str) -> None:
    """Count a failed sign-in. The request answers 401, so it marks its refusal as the record to keep
    (unit_of_work.keep_on_refusal), or the count would be rolled back with the answer."""
    email, ip = _names(email, ip)
    db.session.add(LoginFailure(email=email, ip=ip))
    unit_of_work.keep_on_refusal()


def signed_in(email: str, ip: str) -> None:
    """The whole sign-in passed: forget this address's failures for this e-mail (not other addresses')."""
    email, ip = _names(email, ip)
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.email == email, LoginFailure.ip == ip))


def forget_failures(email: str) -> None:
    """Forget every failure for an e-mail (an admin's unlock, a password reset)."""
    email = _fitted(email, LoginFailure.email)
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.email == email))


def describe(wait: timedelta) -> str:
    seconds = max(1, math.ceil(wait.total_seconds()))
    return f"{seconds} second(s)" if seconds < 120 else f"{math.ceil(seconds / 60)} minute(s)"


def minutes(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds() / 60))
