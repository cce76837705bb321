"""The hash chain that makes the audit log tamper-evident, and its verification."""
import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa

from panel.audit.models import AuditEntry

GENESIS = "0" * 64
HASHED_FIELDS = (
    "created_at", "user_label", "staff_user_id", "contact_id", "ip", "action",
    "table_name", "row_id", "customer_id", "message", "data", "comment",
)


def entry_hash(prev_hash: str, entry: dict) -> str:
    values = [entry[f].isoformat() if f == "created_at" else entry[f] for f in HASHED_FIELDS]
    payload = json.dumps([prev_hash, values], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify_chain(connection, batch: int = 5000) -> ChainReport:
    """Walk the log in id order; stop at the first entry whose link or hash is wrong."""
    table = AuditEntry.__table__
    columns = [table.c.id, table.c.prev_hash, table.c.hash] + [table.c[f] for f in HASHED_FIELDS]
    prev, last_id, checked = GENESIS, 0, 0
    while True:
        rows = connection.execute(
            sa.select(*columns).where(table.c.id > last_id).order_by(table.c.id).limit(batch)
        ).mappings().all()
        if not rows:
            return ChainReport(checked)
        for row in rows:
            if row["prev_hash"] != prev:
                return ChainReport(checked, row["id"], "the entry before it was changed or removed")
            if entry_hash(prev, row) != row["hash"]:
                return ChainReport(checked, row["id"], "the entry itself was changed")
            prev, last_id, checked = row["hash"], row["id"], checked + 1
