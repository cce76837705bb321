"""Issuing and checking API bearer tokens."""
import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from panel.api.models import SCOPES, ApiToken
from panel.extensions import db
from panel.types import utcnow

LAST_USE_STEP = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def revoke_token(token: ApiToken) -> bool:
    """Stop a token working at once; returns False if it was revoked already."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True


def listed_tokens() -> list[ApiToken]:
    """Settings → API tokens: working tokens first, newest first."""
    return db.session.scalars(sa.select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())).all()


def issue_token(name: str, scopes: list[str]) -> str:
    """Create a token (not committed) and return it; it is shown once and only its digest is kept."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scope: {', '.join(sorted(unknown))}")
    token = "pnl_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(name=name, scopes=" ".join(scopes), token_digest=digest(token)))
    db.session.flush()
    return token


def token_for(header: str | None, scope: str) -> ApiToken | None:
    if not header or not header.startswith("Bearer "):
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_digest == digest(header[7:].strip())))
    if token is None or not token.allows(scope):
        return None
    return token


def note_use(token: ApiToken) -> None:
    """Note when a token was last used, for the request's unit of work to commit: at most once a minute per
    token (a billing system walking pages is not a write per page), and never at the cost of the answer: in
    a savepoint, so a busy SQLite (a read's transaction that cannot become a write) just skips it. Not
    audited (__audit_ignore__)."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USE_STEP:
        return
    try:
        with db.session.begin_nested():
            token.last_used_at = now
    except sa.exc.OperationalError:
        pass  # the next use of the minute tries again
