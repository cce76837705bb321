"""Gap-free counters for numbers people quote (INV-000001, D-100001): one row per counter.

The UPDATE that takes the next value locks the row until the transaction commits, so two
transactions never get the same value and a rolled-back one leaves no gap.
"""
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite

from panel.extensions import db


class NumberSequence(db.Model):
    __tablename__ = "number_sequence"

    name: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    last_value: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)


def next_value(name: str, first: int = 1) -> int:
    """The counter's next value (`first` for a counter never used), taken in the current transaction."""
    session = db.session
    table = NumberSequence.__table__
    bump = (sa.update(table).where(table.c.name == name)
            .values(last_value=table.c.last_value + 1).returning(table.c.last_value))
    value = session.execute(bump).scalar()
    if value is None:
        insert = (postgresql if session.connection().dialect.name == "postgresql" else sqlite).insert
        session.execute(insert(table).values(name=name, last_value=first - 1).on_conflict_do_nothing())
        value = session.execute(bump).scalar_one()
    return value
