"""Slowing down password guessing: failed sign-ins are counted per e-mail and per address."""
import math
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from panel import unit_of_work
from panel.auth.models import LoginFailure
from panel.extensions import db
from panel.types import utcnow


def wait_before_next_try(email: str, ip: str) -> timedelta | None:
    """How long this e-mail or address must wait before another try, or None if it may try now."""
    cfg = current_app.config
    window = cfg["LOGIN_FAILURE_WINDOW"]
    since = utcnow() - window
    waits = []
    for column, value, limit in (
        (LoginFailure.email, email, cfg["LOGIN_MAX_FAILURES_PER_EMAIL"]),
        (LoginFailure.ip, ip, cfg["LOGIN_MAX_FAILURES_PER_IP"]),
    ):
        recent = db.session.scalars(
            sa.select(LoginFailure.at).where(column == value, LoginFailure.at > since)
            .order_by(LoginFailure.at.desc()).limit(limit)
        ).all()
        if len(recent) >= limit:
            # Blocked until the oldest of the last `limit` failures leaves the window.
            waits.append(recent[-1] + window - utcnow())
    return max(waits) if waits else None


def record_failure(email: str, ip: str) -> None:
    """Count a failed sign-in. The request answers 401, so it marks its refusal as the record to keep
    (unit_of_work.keep_on_refusal), or the count would be rolled back with the answer."""
    db.session.add(LoginFailure(email=email, ip=ip))
    unit_of_work.keep_on_refusal()


def forget_failures(email: str) -> None:
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.email == email))


def minutes(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds() / 60))
