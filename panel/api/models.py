"""Bearer tokens for machine clients (the switch, billing systems). Only a digest is stored."""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import UTCDateTime, utcnow

SCOPES = ("channels", "invoices", "cdrs", "orders", "calls")


class ApiToken(db.Model):
    __tablename__ = "api_token"
    __audited__ = True
    __audit_secret__ = frozenset({"token_digest"})
    __audit_ignore__ = frozenset({"last_used_at"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    scopes: so.Mapped[str] = so.mapped_column(sa.String(200))
    token_digest: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    def allows(self, scope: str) -> bool:
        return self.revoked_at is None and scope in self.scopes.split()
