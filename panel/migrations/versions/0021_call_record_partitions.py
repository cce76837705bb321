"""call_record partitioned by UTC month on PostgreSQL (SQLite keeps one table)

Revision ID: 0021_call_record_partitions
Revises: 0020_alerts
Create Date: 2026-12-01 13:20:00.000000

On PostgreSQL the table becomes `PARTITION BY RANGE (start_time)`: one partition per UTC month
(call_record_YYYY_MM) and call_record_default, which normally stays empty (panel.calls.partitions
moves rows that land there into their month's partition). The existing rows move without losing
one: the old table is renamed, the new one made with a partition for every month the old rows
cover (and last month, this month and the next three), the rows copied with INSERT … SELECT, the counts
compared (a difference aborts the migration, which runs in one transaction), and the old table
dropped. The id sequence is kept, so new ids go on past the old maximum.

A partitioned table's unique keys must hold the partition key: the primary key becomes
(id, start_time) and the dedup key (source, call_id, start_time). The switch re-sends identical
records (same call id, same start time), so a record sent twice is still stored once.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_call_record_partitions'
down_revision = '0020_alerts'
branch_labels = None
depends_on = None

AHEAD = 3  # months made ahead of this one (the worker keeps it so later)

_TABLE = """
CREATE TABLE call_record (
    id BIGINT NOT NULL DEFAULT nextval('call_record_id_seq'),
    customer_id INTEGER NOT NULL,
    source VARCHAR(64) NOT NULL,
    call_id VARCHAR(128) NOT NULL,
    start_time TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    destination VARCHAR(64) NOT NULL,
    answered BOOLEAN NOT NULL,
    duration_seconds INTEGER NOT NULL,
    billed_seconds INTEGER NOT NULL,
    rate NUMERIC(18, 6) NOT NULL,
    cost NUMERIC(18, 4) NOT NULL,
    charge NUMERIC(18, 4) NOT NULL,
    received_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    CONSTRAINT {pk} PRIMARY KEY ({key}),
    CONSTRAINT {uq} UNIQUE ({unique}),
    CONSTRAINT ck_call_record_duration_seconds CHECK (duration_seconds >= 0),
    CONSTRAINT ck_call_record_billed_seconds CHECK (billed_seconds >= 0),
    CONSTRAINT ck_call_record_rate CHECK (rate >= 0),
    CONSTRAINT ck_call_record_cost CHECK (cost >= 0),
    CONSTRAINT ck_call_record_charge CHECK (charge >= 0),
    CONSTRAINT fk_call_record_customer_id_customer FOREIGN KEY (customer_id) REFERENCES customer (id) ON DELETE RESTRICT
){partition}
"""
_COLUMNS = ("id, customer_id, source, call_id, start_time, destination, answered, duration_seconds, "
            "billed_seconds, rate, cost, charge, received_at")


def _month(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1)


def _next(month: datetime) -> datetime:
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1)


def _move_old_table_aside(bind) -> int:
    """Rename call_record to call_record_old and free the names its indexes hold; returns its rows."""
    op.execute("ALTER TABLE call_record RENAME TO call_record_old")
    op.execute("ALTER SEQUENCE call_record_id_seq OWNED BY NONE")  # dropping the old table keeps it
    for index in ("ix_call_record_customer_id_start_time", "ix_call_record_received_at"):
        op.execute(f"DROP INDEX {index}")
    # The key and the unique index go too (the copy is faster without them; the rows were unique).
    for constraint in bind.execute(sa.text(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'call_record_old'::regclass AND contype IN ('p', 'u', 'f')")).scalars():
        op.execute(f'ALTER TABLE call_record_old DROP CONSTRAINT "{constraint}"')
    return bind.execute(sa.text("SELECT count(*) FROM call_record_old")).scalar()


def _copy_back(bind, before: int) -> None:
    op.execute(f"INSERT INTO call_record ({_COLUMNS}) SELECT {_COLUMNS} FROM call_record_old")
    after = bind.execute(sa.text("SELECT count(*) FROM call_record")).scalar()
    if after != before:
        raise RuntimeError(f"call_record: {before} rows before, {after} after the move; nothing was changed")
    op.execute("DROP TABLE call_record_old")
    op.execute("ALTER SEQUENCE call_record_id_seq OWNED BY call_record.id")
    # New ids go on past every stored one, whatever the sequence said.
    op.execute("SELECT setval('call_record_id_seq', GREATEST((SELECT max(id) FROM call_record), "
               "(SELECT last_value FROM call_record_id_seq), 1))")


def _indexes() -> None:
    op.execute("CREATE INDEX ix_call_record_customer_id_start_time ON call_record (customer_id, start_time)")
    op.execute("CREATE INDEX ix_call_record_received_at ON call_record (received_at)")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite keeps one table
    before = _move_old_table_aside(bind)
    op.execute(_TABLE.format(pk="pk_call_record", key="id, start_time", uq="uq_call_record_source_call_id_start_time",
                             unique="source, call_id, start_time", partition=" PARTITION BY RANGE (start_time)"))
    op.execute("CREATE TABLE call_record_default PARTITION OF call_record DEFAULT")
    months = {_month(m) for m in bind.execute(sa.text(
        "SELECT DISTINCT date_trunc('month', start_time) FROM call_record_old")).scalars()}
    # Last month too: records of its last days still arrive in the first days of this one.
    month = _month(datetime.now(UTC))
    month = datetime(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
    for _ in range(AHEAD + 2):
        months.add(month)
        month = _next(month)
    for month in sorted(months):
        op.execute(f"CREATE TABLE call_record_{month:%Y_%m} PARTITION OF call_record "
                   f"FOR VALUES FROM ('{month:%Y-%m-%d}') TO ('{_next(month):%Y-%m-%d}')")
    _copy_back(bind, before)
    _indexes()  # on the parent: PostgreSQL makes one on every partition (and on those made later)
    op.execute("ANALYZE call_record")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    before = _move_old_table_aside(bind)
    op.execute(_TABLE.format(pk="pk_call_record", key="id", uq="uq_call_record_source_call_id",
                             unique="source, call_id", partition=""))
    # One table holds one record per (source, call_id): a call id sent again with another start time
    # (two rows while partitioned) keeps its first row.
    before -= bind.execute(sa.text(
        "DELETE FROM call_record_old o WHERE EXISTS (SELECT FROM call_record_old p WHERE "
        "p.source = o.source AND p.call_id = o.call_id AND p.id < o.id)")).rowcount
    _copy_back(bind, before)  # drops call_record_old, and its partitions with it
    _indexes()
