"""The figures an alert compares and the credit check reads, for a batch of customers, from what the panel
already keeps: the balance cache (refreshed from the index-only balance sums), the channels the switch
reports, and the hourly roll-up (today's spend, the last complete hour's ASR). Never the call records."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from panel.alerts.models import BalanceCache
from panel.calls.models import HourlySummary
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices.balance import balances_of
from panel.options import get_option
from panel.types import utcnow

MAX_AGE_OPTION = "authorize_balance_max_age"
DEFAULT_MAX_AGE = 60  # seconds, as the reference panel does


def max_age() -> timedelta:
    """How old a cached balance may be before it is computed again (Settings → Options)."""
    try:
        seconds = int(get_option(MAX_AGE_OPTION) or DEFAULT_MAX_AGE)
    except ValueError:
        seconds = DEFAULT_MAX_AGE
    return timedelta(seconds=max(0, seconds))


@dataclass
class Figures:
    customer_id: int
    balance: Decimal
    balance_at: datetime
    debit_limit: Decimal
    channels: int
    spend_today: Decimal
    asr_hour: Decimal | None  # None: no calls in the last complete hour

    @property
    def available(self) -> Decimal:
        return self.balance + self.debit_limit

    def value(self, figure: str) -> Decimal | None:
        return {"balance": self.balance, "available": self.available, "channels": Decimal(self.channels),
                "spend_today": self.spend_today, "asr_hour": self.asr_hour}[figure]


def _upsert(rows: list[dict]) -> None:
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(BalanceCache)
    db.session.execute(insert.values(rows).on_conflict_do_update(
        index_elements=[BalanceCache.customer_id],
        set_={"balance": insert.excluded.balance, "refreshed_at": insert.excluded.refreshed_at}))


def cached_balances(customer_ids: list[int], now: datetime | None = None, *, refresh_older_than: timedelta | None = None
                    ) -> dict[int, tuple[Decimal, datetime]]:
    """(balance, when computed) for each customer; computed again (and stored) where missing or older than
    `refresh_older_than` (None: the authorize_balance_max_age option). Not audited: a derived figure."""
    now = now or utcnow()
    limit = max_age() if refresh_older_than is None else refresh_older_than
    cached = {row.customer_id: (row.balance, row.refreshed_at) for row in db.session.execute(
        sa.select(BalanceCache.customer_id, BalanceCache.balance, BalanceCache.refreshed_at)
        .where(BalanceCache.customer_id.in_(customer_ids)))}
    stale = [cid for cid in customer_ids if cid not in cached or now - cached[cid][1] >= limit]
    if stale:
        fresh = balances_of(stale)
        _upsert([{"customer_id": cid, "balance": balance, "refreshed_at": now} for cid, balance in fresh.items()])
        cached.update({cid: (balance, now) for cid, balance in fresh.items()})
    return cached


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def last_hour(now: datetime) -> datetime:
    """The start of the last complete UTC hour."""
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


def spend_today(customer_ids: list[int], now: datetime) -> dict[int, Decimal]:
    rows = db.session.execute(
        sa.select(HourlySummary.customer_id, sa.func.sum(HourlySummary.charge))
        .where(HourlySummary.customer_id.in_(customer_ids), HourlySummary.hour >= day_start(now))
        .group_by(HourlySummary.customer_id))
    return {cid: Decimal(total or 0) for cid, total in rows}


def asr_last_hour(customer_ids: list[int], now: datetime) -> dict[int, Decimal]:
    rows = db.session.execute(
        sa.select(HourlySummary.customer_id, HourlySummary.calls, HourlySummary.answered)
        .where(HourlySummary.customer_id.in_(customer_ids), HourlySummary.hour == last_hour(now)))
    return {cid: (Decimal(answered) * 100 / Decimal(calls)).quantize(Decimal("0.01"))
            for cid, calls, answered in rows if calls}


def figures_of(customers: list[Customer], now: datetime | None = None, *,
               refresh_older_than: timedelta | None = None) -> dict[int, Figures]:
    now = now or utcnow()
    ids = [customer.id for customer in customers]
    if not ids:
        return {}
    balances = cached_balances(ids, now, refresh_older_than=refresh_older_than)
    spend = spend_today(ids, now)
    asr = asr_last_hour(ids, now)
    return {c.id: Figures(customer_id=c.id, balance=balances[c.id][0], balance_at=balances[c.id][1],
                          debit_limit=c.debit_limit, channels=c.channels_in_use,
                          spend_today=spend.get(c.id, Decimal(0)), asr_hour=asr.get(c.id))
            for c in customers}
