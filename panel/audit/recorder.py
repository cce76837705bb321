"""The one shared audit mechanism: session hooks that write an entry for every audited row change.

Entries are written with the connection of the flush, so they commit or roll back with the
change they describe. Appends are serialised (an advisory lock on PostgreSQL; SQLite already
holds its write lock after the flush) so the hash chain stays a single line.
"""
import json

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Mapper, Session

from panel import actor as actors
from panel.audit.chain import GENESIS, entry_hash
from panel.audit.models import AuditEntry
from panel.extensions import db
from panel.types import plain, utcnow

ADVISORY_LOCK_KEY = 0x61756469  # "audi"
SECRET = "[secret]"
ACTION_FOR = {"New": "POST", "Update": "PUT", "Delete": "DELETE"}
# Actions of entries that record an event rather than a row change (record_event).
# ENROL / UNENROL / RESET2FA / CODES: a second factor enrolled, removed by its owner, reset by an admin,
# recovery codes made anew (panel/twofactor/factors.py); REVOKE: sessions ended (panel/sessions.py).
EVENT_ACTIONS = ("LOGIN", "LOGOUT", "SEND", "ENROL", "UNENROL", "RESET2FA", "CODES", "REVOKE")
ACTIONS = ("POST", "PUT", "PATCH", "DELETE", *EVENT_ACTIONS)
MESSAGE_LENGTH = 16  # audit_entry.message


class UnauditedBulkWrite(RuntimeError):
    """A bulk UPDATE/DELETE on an audited table was attempted outside panel.audit.bulk."""


def is_audited(cls) -> bool:
    return bool(getattr(cls, "__audited__", False))


def audited_tables() -> set[str]:
    return {m.class_.__tablename__ for m in db.Model.registry.mappers if is_audited(m.class_)}


def _shown(cls, key, value):
    if value is not None and key in getattr(cls, "__audit_secret__", ()):
        return SECRET
    return plain(value)


def _columns(obj):
    cls = type(obj)
    ignore = getattr(cls, "__audit_ignore__", ())
    for attr in sa.inspect(cls).column_attrs:
        if attr.key not in ignore:
            yield attr.key


def _diff(obj, message: str) -> dict:
    cls, state = type(obj), sa.inspect(obj)
    diff = {}
    for key in _columns(obj):
        if message == "New":
            value = getattr(obj, key)
            if value is not None and value != "":
                diff[key] = [None, _shown(cls, key, value)]
        elif message == "Delete":
            value = state.info.get("audit_before", {}).get(key)
            if value is not None and value != "":
                diff[key] = [_shown(cls, key, value), None]
        else:
            hist = state.attrs[key].history
            if not hist.added:
                continue
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0]
            if before != after:
                diff[key] = [_shown(cls, key, before), _shown(cls, key, after)]
    return diff


def current_actor() -> dict:
    """Who is making the change (panel/actor.py) and the reason they gave, as the entry records them."""
    fields = actors.current().audit_fields()
    fields["comment"] = g.get("audit_comment") if has_app_context() else None
    return fields


def _append(connection, entries: list[dict]) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    table = AuditEntry.__table__
    prev = connection.execute(sa.select(table.c.hash).order_by(table.c.id.desc()).limit(1)).scalar() or GENESIS
    for entry in entries:
        entry["prev_hash"] = prev
        entry["hash"] = prev = entry_hash(prev, entry)
        connection.execute(table.insert().values(**entry))


def record_updates(connection, table_name: str, changes: list[tuple[int, int | None, dict]],
                   comment: str | None = None) -> None:
    """Entries for rows updated without the session (panel.audit.bulk.update_rows, for data migrations):
    (row id, customer id, {column: [before, after]}) each, by the current actor, chained like every other."""
    if not changes:
        return
    actor, now = current_actor(), utcnow()
    if comment is not None:
        actor["comment"] = comment
    _append(connection, [{
        "created_at": now, **actor, "action": ACTION_FOR["Update"], "table_name": table_name, "row_id": str(row_id),
        "customer_id": customer_id, "message": "Update",
        "data": json.dumps({key: [plain(before), plain(after)] for key, (before, after) in diff.items()},
                           sort_keys=True, ensure_ascii=False),
    } for row_id, customer_id, diff in changes])


def record_event(action: str, message: str, customer_id: int | None = None, data: dict | None = None, *,
                 actor=None, table_name: str = "event", row_id: object = "") -> None:
    """An entry for something that happened rather than a row that changed: a sign-in (LOGIN), a
    sign-out or the end of a Portal Login (LOGOUT), a mail or text sent (SEND), and the like. Chained
    like every other entry, in the caller's transaction (so it commits or rolls back with it: a refusal
    that must stay recorded calls unit_of_work.keep_on_refusal()). `message` is at most 16 characters
    ("Sign-in", "Failed sign-in"); what else is worth knowing goes in `data` (shown by "View Difference"
    as field → value), never a secret. By `actor`, else the current actor (panel/actor.py)."""

    # DELETE: rows removed wholesale rather than one by one (a month of call records dropped by retention).
    if action not in (*EVENT_ACTIONS, "DELETE"):
        raise ValueError(f"an event's action is one of {', '.join(EVENT_ACTIONS)} or DELETE")
    if len(message) > MESSAGE_LENGTH:
        raise ValueError(f"an event's message has at most {MESSAGE_LENGTH} characters: {message!r}")
    fields = (actor or actors.current()).audit_fields()
    fields["comment"] = g.get("audit_comment") if has_app_context() else None
    if not fields.get("ip") and has_request_context():
        fields["ip"] = request.remote_addr
    _append(db.session.connection(), [{
        "created_at": utcnow(), **fields, "action": action, "table_name": table_name, "row_id": str(row_id),
        "customer_id": customer_id, "message": message,
        "data": json.dumps({key: [None, plain(value)] for key, value in (data or {}).items()},
                           sort_keys=True, ensure_ascii=False),
    }])


def _before_flush(session: Session, flush_context, instances) -> None:
    # A deleted row cannot be read after the flush: keep what it held for the entry.
    for obj in session.deleted:
        if is_audited(type(obj)):
            sa.inspect(obj).info["audit_before"] = {key: getattr(obj, key) for key in _columns(obj)}


def _after_flush(session: Session, flush_context) -> None:
    changes = []
    for message, objects in (("New", session.new), ("Update", session.dirty), ("Delete", session.deleted)):
        for obj in objects:
            if not is_audited(type(obj)):
                continue
            if message == "Update" and not session.is_modified(obj, include_collections=False):
                continue
            diff = _diff(obj, message)
            if message == "Update" and not diff:
                continue
            changes.append((message, obj, diff))
    if not changes:
        return
    actor, now = current_actor(), utcnow()
    entries = []
    for message, obj, diff in changes:
        row_id = ",".join(str(v) for v in sa.inspect(type(obj)).primary_key_from_instance(obj))
        action = ACTION_FOR[message]
        if message == "Update" and has_request_context() and request.method == "PATCH":
            action = "PATCH"
        entries.append({
            "created_at": now,
            **actor,
            "action": action,
            "table_name": type(obj).__tablename__,
            "row_id": row_id,
            "customer_id": getattr(obj, "audit_customer_id", None),
            "message": message,
            "data": json.dumps(diff, sort_keys=True, ensure_ascii=False),
        })
    _append(session.connection(), entries)


def _refuse_unaudited_bulk(orm_execute_state) -> None:
    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    if orm_execute_state.execution_options.get("audited_bulk"):
        return
    mapper = orm_execute_state.bind_mapper
    table = getattr(orm_execute_state.statement, "table", None)
    if (mapper is not None and is_audited(mapper.class_)) or (
        table is not None and getattr(table, "name", None) in audited_tables()
    ):
        raise UnauditedBulkWrite(
            f"bulk write to audited table {getattr(table, 'name', mapper)}: use panel.audit.bulk"
        )


def _force_old_values(mapper: Mapper, cls) -> None:
    """Load the previous value of every audited column before it is replaced, so the
    difference shows it even when the object was expired by an earlier commit."""
    if not is_audited(cls):
        return
    for attr in mapper.column_attrs:
        event.listen(getattr(cls, attr.key), "set", lambda *args: None, active_history=True)


def install() -> None:
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _refuse_unaudited_bulk)
    event.listen(Mapper, "mapper_configured", _force_old_values)
