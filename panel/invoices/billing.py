"""Making invoices from the Summary, voiding them, and Auto Generate Invoice.

The figures come from the hourly roll-up (the Summary's data, the one valid for billing), a line
per UTC day of the period. A customer's invoice runs (the Generate button, Auto Generate, the
worker) are serialised by locking the customer row, so "is this period free?" and the insert see
the same invoices; the database's no-overlap rule (migration 0006) stands behind that check.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from panel import access, money, periods, unit_of_work
from panel import actor as actors
from panel.actor import Actor
from panel.calls import rollup
from panel.calls.models import HourlySummary, RollupState
from panel.customers.accounts import lock_customer
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices import invoice_mail
from panel.invoices.models import (
    Invoice,
    InvoiceLine,
    PaymentAllocation,
)
from panel.sequences import next_value
from panel.types import utcnow
from panel import pages

SEQUENCE = "invoice"


class InvoiceRefused(Exception):
    """An invoice that cannot be made or changed; the message says why, for the user."""


@dataclass(frozen=True)
class InvoicedPeriod:
    id: int
    number: str
    period_start: datetime
    period_end: datetime


@dataclass
class DayFigures:
    day: datetime
    calls: int = 0
    answered: int = 0
    billed_seconds: int = 0
    charge: Decimal = Decimal(0)


@dataclass
class Outcome:
    created: list[Invoice] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "<period>: <reason>", for the user


def invoiced_periods(actor: Actor, customer_id: int, start: datetime, end: datetime) -> list[InvoicedPeriod]:
    """The customer's invoices that are not void and overlap [start, end), in period order."""
    access.fetch_customer(actor, customer_id)
    return _invoiced_periods(customer_id, start, end)


def _invoiced_periods(customer_id: int, start: datetime, end: datetime) -> list[InvoicedPeriod]:
    """invoiced_periods, for the functions here that have checked the actor already."""
    rows = db.session.execute(
        sa.select(Invoice.id, Invoice.number, Invoice.period_start, Invoice.period_end)
        .where(Invoice.customer_id == customer_id, Invoice.status != "void", Invoice.kind == "usage",
               Invoice.period_start < end, Invoice.period_end > start)
        .order_by(Invoice.period_start)
    ).all()
    return [InvoicedPeriod(*row) for row in rows]


def daily_figures(customer_id: int, start: datetime, end: datetime) -> dict[datetime, DayFigures]:
    """The customer's hourly roll-up in [start, end) summed per UTC day (days without calls are absent)."""
    h = HourlySummary
    rows = db.session.execute(
        sa.select(h.hour, h.calls, h.answered, h.billed_seconds, h.charge)
        .where(h.customer_id == customer_id, h.hour >= start, h.hour < end)
    ).all()
    days: dict[datetime, DayFigures] = {}
    for hour, calls, answered, billed, charge in rows:
        day = hour.replace(hour=0)
        figures = days.get(day) or days.setdefault(day, DayFigures(day))
        figures.calls += calls
        figures.answered += answered
        figures.billed_seconds += billed
        figures.charge += charge
    return days


def _next_number() -> str:
    """INV-000001, INV-000002, …: no gaps (panel/sequences.py)."""
    return f"INV-{next_value(SEQUENCE):06d}"


def _build(customer: Customer, frame: str, start: datetime, days: dict[datetime, DayFigures],
           created_by: str) -> Invoice:
    end = periods.period_end(frame, start)
    invoice = Invoice(number=_next_number(), customer_id=customer.id, time_frame=frame, period_start=start,
                      period_end=end, currency=customer.currency, status="issued", created_by=created_by)
    position = 0
    # What is billed is rounded to the currency's minor unit, half up, line by line; the total is the sum
    # of the rounded lines, so what the invoice says is due is exactly what settles it (panel/money.py).
    for day in sorted(d for d in days if start <= d < end):
        figures = days[day]
        position += 1
        invoice.lines.append(InvoiceLine(
            customer_id=customer.id, position=position, description=f"Calls {day:%Y-%m-%d} (UTC)",
            calls=figures.calls, answered=figures.answered, billed_seconds=figures.billed_seconds,
            charge=money.billed(figures.charge, invoice.currency)))
    invoice.calls = sum(line.calls for line in invoice.lines)
    invoice.billed_seconds = sum(line.billed_seconds for line in invoice.lines)
    invoice.total = sum((line.charge for line in invoice.lines), Decimal(0))
    if invoice.total == 0:
        invoice.status = "paid"  # nothing to pay (calls that cost less than half a minor unit): settled as made
    db.session.add(invoice)
    return invoice


def _overlap_reason(frame: str, start: datetime, taken: list[InvoicedPeriod]) -> str | None:
    end = periods.period_end(frame, start)
    clashes = [p.number for p in taken if p.period_start < end and p.period_end > start]
    return f"already invoiced in {', '.join(clashes)}" if clashes else None


def generate(actor: Actor, customer: Customer, frame: str, starts: list[datetime],
             now: datetime | None = None) -> Outcome:
    """One invoice per period start, all or none: if any period cannot be invoiced nothing is made,
    and `refused` says why for each one that stood in the way."""
    access.require(actor, customer, write=True)
    if frame not in periods.BILLING_FRAMES:
        raise InvoiceRefused(f"Invoices are made for daily, weekly or monthly periods, not {frame!r}.")
    starts = sorted(set(starts))
    if not starts:
        raise InvoiceRefused("Check at least one period under Action first.")
    now = now or utcnow()
    outcome = Outcome()
    lock_customer(customer.id)
    first, last_end = starts[0], periods.period_end(frame, starts[-1])
    taken = _invoiced_periods(customer.id, first, last_end)
    days = daily_figures(customer.id, first, last_end)
    for start in starts:
        end = periods.period_end(frame, start)
        name = periods.label(frame, start)
        reason = _overlap_reason(frame, start, taken)
        if reason is None and end > now:
            reason = f"the period has not ended yet (it ends {end:%Y-%m-%d %H:%M} UTC)"
        if reason is None and not any(start <= day < end for day in days):
            reason = "no calls in this period"
        if reason:
            outcome.refused.append(f"{name}: {reason}")
    if outcome.refused:
        return outcome
    return _make(customer, frame, starts, days, actor.audit_fields()["user_label"])


def _make(customer: Customer, frame: str, starts: list[datetime], days: dict[datetime, DayFigures],
          created_by: str) -> Outcome:
    """The new invoices, in a SAVEPOINT: if the database refuses an overlap made meanwhile, only they (and
    their numbers) are undone, the caller's transaction goes on, and the outcome says which invoice. Each
    new invoice's mail is queued with it (panel/invoices/invoice_mail.py)."""
    try:
        with db.session.begin_nested():
            created = [_build(customer, frame, start, days, created_by) for start in starts]
    except sa.exc.IntegrityError as error:
        if "overlap" not in str(error.orig).lower():
            raise
        refused = []
        for start in starts:
            taken = _invoiced_periods(customer.id, start, periods.period_end(frame, start))
            reason = _overlap_reason(frame, start, taken) or "invoiced at the same moment elsewhere"
            refused.append(f"{periods.label(frame, start)}: {reason}")
        return Outcome(refused=refused)
    for invoice in created:  # generated or auto-generated alike: mailed to the Billing contacts after the commit
        invoice_mail.queue_invoice_mail(invoice, customer)
    return Outcome(created=created)


def missing_periods(customer: Customer, now: datetime) -> list[datetime]:
    """Completed periods of the customer's Invoice Schedule that have calls and no invoice."""
    frame = customer.invoice_schedule
    if frame not in periods.BILLING_FRAMES:
        return []
    first_hour = db.session.scalar(
        sa.select(HourlySummary.hour).where(HourlySummary.customer_id == customer.id)
        .order_by(HourlySummary.hour).limit(1))
    if first_hour is None:
        return []
    start, stop = periods.period_start(frame, first_hour), periods.period_start(frame, now)
    if start >= stop:
        return []
    taken = _invoiced_periods(customer.id, start, stop)
    days = daily_figures(customer.id, start, stop)
    missing = []
    while start < stop:
        end = periods.period_end(frame, start)
        if _overlap_reason(frame, start, taken) is None and any(start <= day < end for day in days):
            missing.append(start)
        start = end
    return missing


def auto_generate(actor: Actor, customer: Customer, now: datetime | None = None) -> Outcome:
    """Every missing invoice of the customer's Invoice Schedule for completed periods; running it
    again finds nothing missing. Periods already (partly) invoiced in another time frame are left."""
    access.require(actor, customer, write=True)
    now = now or utcnow()
    if customer.invoice_schedule not in periods.BILLING_FRAMES:
        raise InvoiceRefused("Set an Invoice Schedule (daily, weekly or monthly) in the customer's Edit page first.")
    lock_customer(customer.id)
    starts = missing_periods(customer, now)
    if not starts:
        return Outcome()
    frame = customer.invoice_schedule
    days = daily_figures(customer.id, starts[0], periods.period_end(frame, starts[-1]))
    return _make(customer, frame, starts, days, actor.audit_fields()["user_label"])


def auto_generate_all(actor: Actor, now: datetime | None = None) -> int:
    """Auto Generate for every customer with an Invoice Schedule, one unit of work per customer (so one
    customer's lock is not held while the next is invoiced)."""
    now = now or utcnow()
    ids = db.session.scalars(sa.select(Customer.id).where(Customer.invoice_schedule != "none")
                             .order_by(Customer.id)).all()
    made = 0
    for customer_id in ids:
        with unit_of_work.unit():
            made += len(auto_generate(actor, db.session.get(Customer, customer_id), now).created)
    return made


def paid_amounts(invoice_ids: list[int]) -> dict[int, Decimal]:
    """What has been allocated to each invoice (absent: nothing)."""
    if not invoice_ids:
        return {}
    rows = db.session.execute(
        sa.select(PaymentAllocation.invoice_id, sa.func.sum(PaymentAllocation.amount))
        .where(PaymentAllocation.invoice_id.in_(invoice_ids)).group_by(PaymentAllocation.invoice_id)
    ).all()
    return {invoice_id: Decimal(total) for invoice_id, total in rows}


def void_invoice(actor: Actor, invoice: Invoice, reason: str) -> None:
    """Void an invoice: it stays on file (audited), frees its period, and its payments become unallocated."""
    access.require(actor, invoice, write=True)
    if invoice.status == "void":
        raise InvoiceRefused(f"{invoice.number} is already void.")
    reason = reason.strip()
    if not reason:
        raise InvoiceRefused("Say why the invoice is void.")
    for allocation in db.session.scalars(sa.select(PaymentAllocation)
                                         .where(PaymentAllocation.invoice_id == invoice.id)).all():
        db.session.delete(allocation)
    invoice.status = "void"
    invoice.voided_at = utcnow()
    invoice.voided_by = actor.audit_fields()["user_label"]
    invoice.void_reason = reason[:500]


def customer_invoices(actor: Actor, customer_id: int, wanted: pages.PageRequest, size: int):
    """A page of the customer's invoices, newest period first, with what is paid on each."""
    access.fetch_customer(actor, customer_id)
    page = pages.keyset(db.session, sa.select(Invoice).where(Invoice.customer_id == customer_id),
                        [Invoice.period_start.desc(), Invoice.id.desc()], wanted, size)
    return page, paid_amounts([invoice.id for invoice in page.items])


def totals_by_status(customer_id: int) -> dict[str, Decimal]:
    rows = db.session.execute(
        sa.select(Invoice.status, sa.func.sum(Invoice.total)).where(Invoice.customer_id == customer_id)
        .group_by(Invoice.status)).all()
    return defaultdict(Decimal, {status: Decimal(total) for status, total in rows})


AUTO_JOB = "auto_invoice"


def auto_invoice_job(now: datetime | None = None) -> str | None:
    """The worker's daily run, once the roll-up has caught up and the day is an hour old (late records).
    Run in a unit of work (the worker's), which keeps the day's run; each customer is a unit of its own."""
    now = now or utcnow()
    state = db.session.get(RollupState, AUTO_JOB)
    today = periods.period_start("daily", now)
    if (state and state.last_run >= today) or now - today < timedelta(hours=1) or rollup.pending():
        return None
    made = auto_generate_all(actors.SYSTEM, now)
    state = db.session.get(RollupState, AUTO_JOB)
    if state is None:
        state = RollupState(name=AUTO_JOB, last_run=now)
        db.session.add(state)
    state.last_run = now
    return f"{made} invoices made" if made else None
