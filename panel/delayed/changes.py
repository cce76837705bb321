"""Scheduling, cancelling and applying delayed saves.

A delayed save stores the new values and what the changed fields held when it was asked.
When it falls due, the worker claims it (a row lock that other workers skip), applies it in
the same unit of work that marks it applied, one unit per change: a worker killed half-way
leaves nothing applied and the change still pending, so it is applied exactly once. If the target
was changed or deleted in between, nothing is overwritten: the change is marked a conflict
and keeps its values for staff to look at.
"""
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import g, has_request_context

from panel import access, unit_of_work
from panel import actor as actors
from panel.actor import Actor
from panel.delayed.models import PendingChange
from panel.extensions import db
from panel.types import plain, utcnow


class ChangeConflict(Exception):
    """The target moved on since the change was asked; the message says how."""


@dataclass
class Target:
    """How a table takes delayed saves: its model, and the functions that really apply them."""

    model: type
    apply_update: Callable  # (actor, row, values) -> None; raises ChangeConflict when it cannot apply
    apply_create: Callable | None = None  # (actor, change, values) -> row
    names: Callable | None = None  # (row ids) -> {id: readable name}, one query, for the pending lists
    labels: dict[str, str] | None = None  # field -> the label its form shows ("Channel limit")
    choices: dict[str, dict[str, str]] | None = None  # select field -> {stored value: what the form shows}


TARGETS: dict[str, Target] = {}


def register(table: str, target: Target) -> None:
    TARGETS[table] = target


def _requester(actor: Actor) -> dict:
    """The same "who" the audit log would record for a change `actor` made now."""
    who = actor.audit_fields()
    return {"requested_by": who["user_label"], "requested_by_id": who["staff_user_id"], "requested_ip": who["ip"]}


def schedule_update(actor: Actor, table: str, row, values: dict, run_at: datetime) -> PendingChange | None:
    """Store a change to `row` (which `actor` may change, else 404/403); only fields that differ from the
    row now are kept. None if nothing differs. Never commits."""
    access.require(actor, row, write=True)
    columns = sa.inspect(type(row)).columns
    changed = {k: plain(v) for k, v in values.items() if not _same(columns.get(k), getattr(row, k), v)}
    if not changed:
        return None
    change = PendingChange(
        kind="update", table_name=table, row_id=row.id, customer_id=row.audit_customer_id,
        changes=json.dumps(changed, sort_keys=True), base=json.dumps({k: plain(getattr(row, k)) for k in changed}, sort_keys=True),
        run_at=run_at, comment=g.get("audit_comment") if has_request_context() else None, **_requester(actor),
    )
    db.session.add(change)
    db.session.flush()
    return change


def schedule_create(actor: Actor, table: str, customer_id: int, values: dict, run_at: datetime,
                    secret: str | None = None) -> PendingChange:
    access.fetch_customer(actor, customer_id, write=True)
    change = PendingChange(
        kind="create", table_name=table, row_id=None, customer_id=customer_id,
        changes=json.dumps({k: plain(v) for k, v in values.items()}, sort_keys=True), base="{}", secret=secret,
        run_at=run_at, comment=g.get("audit_comment") if has_request_context() else None, **_requester(actor),
    )
    db.session.add(change)
    db.session.flush()
    return change


def cancel(actor: Actor, change_id: int) -> PendingChange | None:
    """Cancel a pending change of a customer `actor` may change (else 404/403); waits for a worker applying
    it. Returns it, or None if it is not pending (any more). Never commits."""
    access.fetch(actor, PendingChange, change_id, write=True, message="There is no such delayed save.")
    change = db.session.scalars(
        sa.select(PendingChange).where(PendingChange.id == change_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if change is None or change.status != "pending":
        return None
    by = actor.label
    change.status, change.finished_at, change.finished_by = "cancelled", utcnow(), by
    change.outcome = f"Cancelled by {by}."
    return change


def _kind(column):
    try:
        return column.type.python_type if column is not None else None
    except NotImplementedError:
        return None


def _as_type(column, value):
    """A value (as a form, a row or the JSON of a change holds it) as its column's type."""
    kind = _kind(column)
    if value is None or kind is None:
        return value
    try:
        if kind is Decimal:
            return Decimal(str(value))
        if kind is datetime and isinstance(value, str):
            return datetime.fromisoformat(value)
        if kind is bool:
            return bool(value)
        if kind is int and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    except (ArithmeticError, ValueError):
        return value
    return value


def _same(column, a, b) -> bool:
    """Equal as the column's type: Decimal 0.0000 and 0.00 are the same amount; "" and None the same empty text."""
    a, b = _as_type(column, a), _as_type(column, b)
    if a in ("", None) and b in ("", None):
        return True
    return a == b


def _typed(model, values: dict) -> dict:
    """JSON values back into the column types (Decimal for money, datetimes)."""
    columns = sa.inspect(model).columns
    typed = {}
    for key, value in values.items():
        column = columns.get(key)
        if value is not None and column is not None:
            try:
                kind = column.type.python_type
            except NotImplementedError:
                kind = None
            if kind is Decimal:
                value = Decimal(value)
            elif kind is datetime and isinstance(value, str):
                value = datetime.fromisoformat(value)
        typed[key] = value
    return typed


def _apply(actor: Actor, change: PendingChange) -> str:
    target = TARGETS[change.table_name]
    values = _typed(target.model, json.loads(change.changes))
    if change.kind == "create":
        row = target.apply_create(actor, change, values)
        db.session.flush()
        change.row_id = row.id
        return f"Created {change.table_name} #{row.id}."
    row = db.session.get(target.model, change.row_id)
    if row is None:
        raise ChangeConflict(f"The {change.table_name} was deleted after this change was asked.")
    base = json.loads(change.base)
    columns = sa.inspect(target.model).columns
    moved = sorted(k for k, v in base.items() if not _same(columns.get(k), getattr(row, k), v))
    if moved:
        raise ChangeConflict(f"Changed by someone else after this change was asked: {', '.join(moved)}.")
    target.apply_update(actor, row, values)
    return "Applied."


def apply_next(worker: str = "worker") -> PendingChange | None:
    """Claim and apply the next due change, in the caller's unit of work (apply_due gives each its own);
    returns it, or None when nothing is due. Never commits."""
    now = utcnow()
    change = db.session.scalars(
        sa.select(PendingChange)
        .where(PendingChange.status == "pending", PendingChange.run_at <= now)
        .order_by(PendingChange.run_at, PendingChange.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if change is None:
        return None
    asked = change.requested_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    previous = g.get("actor")
    actor = actors.act_as(actors.on_behalf_of(change.requested_by, change.requested_by_id, ip=change.requested_ip))
    g.audit_comment = (f"Delayed save #{change.id}, asked {asked}, applied {now:%Y-%m-%d %H:%M:%S} UTC"
                       + (f": {change.comment}" if change.comment else ""))
    try:
        with db.session.begin_nested():
            change.outcome = _apply(actor, change)
            change.status = "applied"
    except ChangeConflict as conflict:
        change.status, change.outcome = "conflict", str(conflict)
    except sa.exc.IntegrityError:
        change.status, change.outcome = "conflict", "The database refused it (a unique value is now taken)."
    finally:
        g.actor = previous
        g.pop("audit_comment", None)
    change.finished_at, change.finished_by = utcnow(), worker
    return change


def apply_due(worker: str = "worker", limit: int = 500) -> int:
    """Apply what is due, each change in a unit of work of its own (a failure keeps those before it)."""
    done = 0
    while done < limit:
        with unit_of_work.unit():
            if apply_next(worker) is None:
                break
        done += 1
    return done


def dismiss(actor: Actor, change_id: int) -> PendingChange | None:
    """Dismiss a conflict of a customer `actor` may change (else 404/403): it leaves the customer's Pending
    changes and stays in the Delay Log, marked by whom and when (the audit records the row change). Returns
    it, or None if it is not an undismissed conflict. Never commits."""
    access.fetch(actor, PendingChange, change_id, write=True, message="There is no such delayed save.")
    change = db.session.scalars(
        sa.select(PendingChange).where(PendingChange.id == change_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if change is None or change.status != "conflict" or change.dismissed_at is not None:
        return None
    change.dismissed_at, change.dismissed_by = utcnow(), actor.label
    db.session.flush()
    return change


def pending_for(customer_id: int) -> list[PendingChange]:
    """What the customer's Pending changes list: waiting changes, and conflicts nobody has dismissed yet."""
    return db.session.scalars(
        sa.select(PendingChange)
        .where(PendingChange.customer_id == customer_id,
               sa.or_(PendingChange.status == "pending",
                      sa.and_(PendingChange.status == "conflict", PendingChange.dismissed_at.is_(None))))
        .order_by(PendingChange.run_at, PendingChange.id)
    ).all()


def pending_for_row(table: str, row_id: int) -> list[PendingChange]:
    """The changes still waiting to be applied to one row (for the note beside its editor)."""
    return db.session.scalars(
        sa.select(PendingChange)
        .where(PendingChange.table_name == table, PendingChange.row_id == row_id, PendingChange.status == "pending")
        .order_by(PendingChange.run_at, PendingChange.id)
    ).all()


@dataclass
class FieldChange:
    """One field of a delayed change as people read it: its form label and formatted values."""

    field: str
    label: str
    before: str
    after: str


def _text(column, value, choices: dict[str, str] | None) -> str:
    value = _as_type(column, value)
    if value is None or value == "":
        return "—"
    if choices and str(value) in choices:
        return choices[str(value)]
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        # Stored with four places: show at least two and no trailing zeros beyond them (0.0000 -> 0.00).
        exponent = value.normalize().as_tuple().exponent
        return f"{value.quantize(Decimal(1).scaleb(min(-2, exponent if isinstance(exponent, int) else -2))):f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def describe(change: PendingChange) -> list[FieldChange]:
    """The fields of a change with their labels and values formatted as their type (a password never shown);
    a field whose value did not really change (0.0000 -> 0.00) is left out."""
    target = TARGETS.get(change.table_name)
    columns = sa.inspect(target.model).columns if target else {}
    labels, choices = (target.labels or {}) if target else {}, (target.choices or {}) if target else {}
    new, base = json.loads(change.changes), json.loads(change.base)
    rows = []
    for key, value in sorted(new.items()):
        if key.startswith("_"):
            continue
        column = columns.get(key) if target else None
        if change.kind == "update" and _same(column, base.get(key), value):
            continue
        label = labels.get(key) or key.replace("_", " ").capitalize()
        rows.append(FieldChange(key, label, _text(column, base.get(key), choices.get(key)),
                                _text(column, value, choices.get(key))))
    if change.secret or new.get("_auto_password"):
        rows.append(FieldChange("password", "Password", "—", "[set]" if change.secret else "[generated and e-mailed]"))
    return rows


def scheduled_notes(table: str, row_id: int) -> list[str]:
    """Beside an editor: "A change to Channel limit is scheduled for 14:00 UTC" for each waiting change."""
    notes = []
    for change in pending_for_row(table, row_id):
        fields = [c.label for c in describe(change)] or ["this record"]
        when = change.run_at
        shown = f"{when:%H:%M} UTC" if when.date() == utcnow().date() else f"{when:%Y-%m-%d %H:%M} UTC"
        notes.append(f"A change to {', '.join(fields)} is scheduled for {shown}.")
    return notes


def target_labels(changes_: list[PendingChange]) -> dict[int, str]:
    """A readable name for what each change is about ("contact Ana Almeida"), in one query per table (each
    table's target says how its rows are named)."""
    wanted: dict[str, set[int]] = {}
    for change in changes_:
        if change.kind != "create" and change.row_id and change.table_name in TARGETS:
            wanted.setdefault(change.table_name, set()).add(change.row_id)
    names = {table: TARGETS[table].names(sorted(ids)) for table, ids in wanted.items() if TARGETS[table].names}
    labels = {}
    for change in changes_:
        values = json.loads(change.changes)
        if change.kind == "create":
            labels[change.id] = f"new {change.table_name} {values.get('name', '')}".strip()
        elif change.row_id in names.get(change.table_name, {}):
            labels[change.id] = f"{change.table_name} {names[change.table_name][change.row_id]}"
        else:
            labels[change.id] = f"{change.table_name} #{change.row_id}"
    return labels
