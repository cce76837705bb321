"""Reading the audit log: filtered, newest first, and one entry's difference as rows."""
import json
from dataclasses import dataclass

import sqlalchemy as sa

from panel.audit.models import AuditEntry


def log_statement(customer_id: int | None = None, table: str = "", user: str = "", action: str = ""):
    statement = sa.select(AuditEntry)
    if action:
        statement = statement.where(AuditEntry.action == action)
    if customer_id is not None:
        statement = statement.where(AuditEntry.customer_id == customer_id)
    if table:
        statement = statement.where(AuditEntry.table_name == table)
    if user:
        statement = statement.where(AuditEntry.user_label == user)
    return statement.order_by(AuditEntry.id.desc())


@dataclass
class Change:
    field: str
    previous: object
    current: object


def difference(entry: AuditEntry) -> list[Change]:
    data = json.loads(entry.data or "{}")
    return [Change(field, before, after) for field, (before, after) in sorted(data.items())]
