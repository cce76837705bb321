"""Issuing and checking API bearer tokens."""
import hashlib
import secrets

import sqlalchemy as sa

from panel.api.models import SCOPES, ApiToken
from panel.extensions import db
from panel.types import utcnow


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def revoke_token(token: ApiToken) -> bool:
    """Stop a token working at once; returns False if it was revoked already."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    db.session.commit()
    return True


def issue_token(name: str, scopes: list[str]) -> str:
    """Create a token and return it; it is shown once and only its digest is kept."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scope: {', '.join(sorted(unknown))}")
    token = "pnl_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(name=name, scopes=" ".join(scopes), token_digest=digest(token)))
    db.session.commit()
    return token


def token_for(header: str | None, scope: str) -> ApiToken | None:
    if not header or not header.startswith("Bearer "):
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_digest == digest(header[7:].strip())))
    if token is None or not token.allows(scope):
        return None
    token.last_used_at = utcnow()
    return token
