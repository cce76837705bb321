"""Call figures for invoice tests: hourly roll-up rows written directly (the roll-up has its own tests)."""
from datetime import UTC, datetime
from decimal import Decimal

from panel.calls.models import HourlySummary
from panel.extensions import db


def add_hours(customer_id: int, *hours: tuple[str, int, str]) -> None:
    """(hour "2026-11-02T13", calls, charge) → call_hour rows; every call answered, 60 billed seconds each."""
    for hour, calls, charge in hours:
        db.session.add(HourlySummary(
            customer_id=customer_id, hour=datetime.fromisoformat(hour + ":00").replace(tzinfo=UTC), calls=calls,
            answered=calls, seconds=calls * 50, billed_seconds=calls * 60, cost=Decimal(charge) / 2,
            charge=Decimal(charge)))
    db.session.commit()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


NOW = at("2026-11-22T10:00")
