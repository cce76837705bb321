"""Reading the audit log: filtered, newest first, the objects its entries are about named, and one entry's
difference as rows.

The log is a shared module below every area: it reads the tables it names by their name (as it records
them), never through an area's models."""
import json
from dataclasses import dataclass

import sqlalchemy as sa

from panel.audit.models import AuditEntry
from panel.extensions import db

# The User filter matches part of a name or e-mail among staff users and contacts; at most this many
# contacts (the oldest first) are looked for, so a filter of one letter stays as fast as a long one.
CONTACT_MATCHES = 500
# The column that names a row of a table, the first of these it has.
NAME_COLUMNS = ("name", "number", "deployment_number", "email", "reference", "subject", "title")
NON_PERSONS = ("system", "anonymous")


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column, pattern: str):
    """ILIKE on the column itself, not lower(column) LIKE: PostgreSQL's trigram indexes on contact's name and
    e-mail serve the first only, and without them a text few contacts hold walks all of contact (10M rows)
    looking for matches that are not there. (SQLite writes ILIKE as lower() LIKE lower(): the same match.)"""
    return column.ilike(pattern, escape="\\")


def user_clause(text: str):
    """Entries by whoever `text` names in part (case-insensitive): staff users and contacts by name or e-mail
    (through the indexed staff_user_id and contact_id), API tokens by name and the system by its label (through
    the indexed user_label), and the label itself as typed."""
    text = text.strip()
    pattern = _like(text)
    tables = db.metadata.tables
    clauses = [AuditEntry.user_label == text]
    staff = tables.get("staff_user")
    if staff is not None:
        ids = db.session.scalars(sa.select(staff.c.id).where(sa.or_(_contains(staff.c.email, pattern),
                                                                     _contains(staff.c.name, pattern)))).all()
        if ids:
            clauses.append(AuditEntry.staff_user_id.in_(ids))
    contact = tables.get("contact")
    if contact is not None:
        ids = db.session.scalars(sa.select(contact.c.id).where(sa.or_(_contains(contact.c.email, pattern),
                                                                       _contains(contact.c.name, pattern)))
                                 .order_by(contact.c.id).limit(CONTACT_MATCHES)).all()
        if ids:
            clauses.append(AuditEntry.contact_id.in_(ids))
    labels = [label for label in NON_PERSONS if text.lower() in label]
    token = tables.get("api_token")
    if token is not None:  # entries by a token are labelled "API: <its name>"
        labels += [f"API: {name}" for name in db.session.scalars(
            sa.select(token.c.name).where(_contains(sa.literal("API: ") + token.c.name, pattern))).all()]
    if labels:
        clauses.append(AuditEntry.user_label.in_(sorted(set(labels))))
    return sa.or_(*clauses)


def log_statement(customer_id: int | None = None, table: str = "", user: str = "", action: str = ""):
    statement = sa.select(AuditEntry)
    if action:
        statement = statement.where(AuditEntry.action == action)
    if customer_id is not None:
        statement = statement.where(AuditEntry.customer_id == customer_id)
    if table:
        statement = statement.where(AuditEntry.table_name == table)
    if user.strip():
        statement = statement.where(user_clause(user))
    return statement.order_by(AuditEntry.id.desc())


def _row_id(entry: AuditEntry) -> int | None:
    text = entry.row_id or ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def object_names(entries: list[AuditEntry]) -> dict[int, str]:
    """{entry id: what it is about}: "contact Carol Jones (Acme Ltd)", "invoice INV-000001 (Acme Ltd)",
    "contact #185 (deleted)" for a row that is gone. One query for the whole page, however many entries and
    tables it shows (a UNION ALL of one select per table, each with its customer's name)."""
    tables = db.metadata.tables
    customers = tables.get("customer")
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        row_id = _row_id(entry)
        if row_id is not None and entry.table_name in tables:
            wanted.setdefault(entry.table_name, set()).add(row_id)
    parts, resolvable = [], set()
    for name, ids in sorted(wanted.items()):
        table = tables[name]
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
            continue
        resolvable.add(name)
        label = next((table.c[c] for c in NAME_COLUMNS if c in table.c), None)
        owned = customers is not None and "customer_id" in table.c and name != "customer"
        source = table.outerjoin(customers, customers.c.id == table.c.customer_id) if owned else table
        parts.append(sa.select(
            sa.literal(name, sa.String).label("t"), sa.cast(keys[0], sa.Integer).label("id"),
            sa.cast(label if label is not None else sa.null(), sa.String).label("name"),
            sa.cast(customers.c.name if owned else sa.null(), sa.String).label("owner"),
        ).select_from(source).where(keys[0].in_(sorted(ids))))
    entry_customers = sorted({e.customer_id for e in entries if e.customer_id is not None})
    if customers is not None and entry_customers:  # the customer of an entry whose row has none (or is gone)
        parts.append(sa.select(sa.literal("", sa.String).label("t"), sa.cast(customers.c.id, sa.Integer).label("id"),
                               sa.cast(customers.c.name, sa.String).label("name"), sa.cast(sa.null(), sa.String).label("owner"))
                     .where(customers.c.id.in_(entry_customers)))
    found: dict[str, dict[int, tuple[str | None, str | None]]] = {}
    if parts:
        for t, row_id, label, owner in db.session.execute(sa.union_all(*parts)).all():
            found.setdefault(t, {})[row_id] = (label, owner)
    customer_names = {row_id: label for row_id, (label, _) in found.pop("", {}).items()}
    names = {}
    for entry in entries:
        kind = entry.table_name.replace("_", " ")
        row_id = _row_id(entry)
        if entry.table_name not in resolvable or row_id is None:
            names[entry.id] = f"{kind} #{entry.row_id}" if entry.row_id else kind
            continue
        rows = found.get(entry.table_name, {})
        if row_id not in rows:
            names[entry.id] = f"{kind} #{row_id} (deleted)"
            continue
        label, owner = rows[row_id]
        text = f"{kind} {label}" if label else f"{kind} #{row_id}"
        if owner is None and entry.table_name != "customer":
            owner = customer_names.get(entry.customer_id)
        names[entry.id] = text + (f" ({owner})" if owner else "")
    return names


@dataclass
class Change:
    field: str
    previous: object
    current: object


def difference(entry: AuditEntry) -> list[Change]:
    data = json.loads(entry.data or "{}")
    return [Change(field, before, after) for field, (before, after) in sorted(data.items())]
