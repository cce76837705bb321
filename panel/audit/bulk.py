"""Bulk writes to audited tables, one audit entry per row.

A plain `update(Model)` or `delete(Model)` would bypass the session hooks and leave rows
changed without an entry; the recorder refuses those, and these helpers are the way round.
`update_rows` is the same for data migrations, which work on tables rather than on the models
(the models may be newer than the schema being migrated).
"""
import sqlalchemy as sa

from panel.audit.recorder import record_updates
from panel.extensions import db

CHUNK = 500


def _chunks(model, where):
    last_id = 0
    while True:
        rows = db.session.scalars(
            sa.select(model).where(*where, model.id > last_id).order_by(model.id).limit(CHUNK)
        ).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1].id


def bulk_update(model, where, values: dict) -> int:
    """Set `values` on every row matching `where`; returns how many rows were changed."""
    count = 0
    for rows in _chunks(model, where):
        for row in rows:
            for key, value in values.items():
                setattr(row, key, value)
        db.session.flush()
        count += len(rows)
    return count


def bulk_delete(model, where) -> int:
    count = 0
    while True:
        rows = db.session.scalars(sa.select(model).where(*where).order_by(model.id).limit(CHUNK)).all()
        if not rows:
            return count
        for row in rows:
            db.session.delete(row)
        db.session.flush()
        count += len(rows)


def update_rows(connection, table, changes: list[tuple[int, int | None, dict]], comment: str) -> int:
    """Set new values on rows of `table` (a Core table with an `id` column) and write one audit entry per
    row in the same transaction: `changes` are (row id, customer id, {column: (before, after)})."""
    for row_id, _, diff in changes:
        connection.execute(table.update().where(table.c.id == row_id)
                           .values({key: after for key, (_, after) in diff.items()}))
    record_updates(connection, table.name, changes, comment)
    return len(changes)
