"""Figures for the Summary tests: hourly roll-up rows written straight into call_hour."""
from datetime import UTC, datetime
from decimal import Decimal

from panel.calls.models import HourlySummary
from panel.extensions import db

# A Friday afternoon: its week began on Monday 2026-11-16, its month on 2026-11-01.
NOW = datetime(2026, 11, 20, 13, 30, tzinfo=UTC)


def hour_row(customer_id: int, hour: datetime, calls=0, answered=0, seconds=0, billed=0, charge="0", cost="0"):
    return HourlySummary(customer_id=customer_id, hour=hour, calls=calls, answered=answered, seconds=seconds,
                         billed_seconds=billed, charge=Decimal(charge), cost=Decimal(cost))


def add_hours(*rows: HourlySummary) -> None:
    """Store hour rows (inside an app context) and commit."""
    db.session.add_all(rows)
    db.session.commit()
