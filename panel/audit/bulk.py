"""Bulk writes to audited tables, one audit entry per row.

A plain `update(Model)` or `delete(Model)` would bypass the session hooks and leave rows
changed without an entry; the recorder refuses those, and these helpers are the way round.
"""
import sqlalchemy as sa

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
