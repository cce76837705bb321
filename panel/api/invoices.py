"""Invoices for billing systems: the list's parameters, keyset pages by id, and the JSON of an invoice.

Money is a string with exactly the currency's decimal places (panel/money.py: what is billed), never a
float; minutes are billed seconds / 60 rounded to two places; date-times are ISO 8601 in UTC with
"+00:00". A page costs three queries whatever its size: the invoices joined to their customers'
names, what is paid on them (one grouped query), and the token check before.
"""
import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from panel import money as amounts
from panel.api.limits import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices.billing import paid_amounts
from panel.invoices.models import INVOICE_STATUSES, Invoice, Payment, PaymentAllocation

LIST_PARAMETERS = ("customer_id", "status", "period_from", "period_to", "limit", "cursor")
_CURSOR = re.compile(r"id:([1-9][0-9]{0,9})")


class InvalidParameter(ValueError):
    """A query parameter the list cannot use; the message names it."""

    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


@dataclass(frozen=True)
class Filters:
    customer_id: int | None = None
    status: str | None = None
    period_from: datetime | None = None
    period_to: datetime | None = None
    limit: int = DEFAULT_LIMIT
    after_id: int = 0


def money(value: Decimal, currency: str) -> str:
    return amounts.plain(value, currency)


def moment(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> int:
    """The id after which the next page starts. Opaque to clients: only what encode_cursor made is taken."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    match = _CURSOR.fullmatch(raw)
    if match is None or int(match.group(1)) > MAX_ID:
        raise InvalidParameter("cursor", "not a cursor this API gave out; start again without one.")
    return int(match.group(1))


def _whole(parameter: str, text: str, low: int, high: int) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", text) or not low <= int(text) <= high:
        raise InvalidParameter(parameter, f"give a whole number from {low} to {high:,}, not {text!r}.")
    return int(text)


def _moment(parameter: str, text: str) -> datetime:
    """An ISO 8601 date (midnight UTC) or date-time; without an offset it is UTC."""
    try:
        value = datetime.fromisoformat(text)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidParameter(parameter, f"give an ISO 8601 date or date-time (like 2026-11-01 or "
                                          f"2026-11-01T00:00:00Z), not {text!r}.") from None


def parse_filters(args) -> Filters:
    """The list's query parameters (a MultiDict) as Filters. Unknown or repeated parameters are
    refused rather than ignored: a misspelt filter would otherwise return every invoice."""
    for name in args:
        if name not in LIST_PARAMETERS:
            raise InvalidParameter(name, f"unknown parameter; the list takes {', '.join(LIST_PARAMETERS)}.")
        if len(args.getlist(name)) > 1:
            raise InvalidParameter(name, "given more than once.")
    values = {}
    if "customer_id" in args:
        values["customer_id"] = _whole("customer_id", args["customer_id"], 1, MAX_ID)
    if "status" in args:
        if args["status"] not in INVOICE_STATUSES:
            raise InvalidParameter("status", f"one of {', '.join(INVOICE_STATUSES)}, not {args['status']!r}.")
        values["status"] = args["status"]
    for name in ("period_from", "period_to"):
        if name in args:
            values[name] = _moment(name, args[name])
    if "period_from" in values and "period_to" in values and values["period_to"] <= values["period_from"]:
        raise InvalidParameter("period_to", "must be later than period_from.")
    if "limit" in args:
        values["limit"] = _whole("limit", args["limit"], 1, MAX_LIMIT)
    if "cursor" in args:
        values["after_id"] = decode_cursor(args["cursor"])
    return Filters(**values)


def _summary(invoice: Invoice, customer_name: str, paid: Decimal) -> dict:
    due = Decimal(0) if invoice.status == "void" else invoice.total - paid
    return {
        "number": invoice.number,
        "customer_id": invoice.customer_id,
        "customer_name": customer_name,
        "kind": invoice.kind,
        "time_frame": invoice.time_frame,
        "period_start": moment(invoice.period_start),
        "period_end": moment(invoice.period_end),
        "currency": invoice.currency,
        "calls": invoice.calls,
        "billed_seconds": invoice.billed_seconds,
        "minutes": f"{invoice.minutes:f}",
        "total": money(invoice.total, invoice.currency),
        "paid": money(paid, invoice.currency),
        "due": money(due, invoice.currency),
        "status": invoice.status,
        "created_at": moment(invoice.created_at),
        "created_by": invoice.created_by,
        "voided_at": moment(invoice.voided_at),
        "void_reason": invoice.void_reason or None,
    }


def invoice_page(filters: Filters) -> dict:
    """One page in id order and the cursor of the next (None on the last page). One row more than
    the page is read to know whether another page follows, so nothing is ever counted."""
    conditions = [Invoice.id > filters.after_id]
    if filters.customer_id is not None:
        conditions.append(Invoice.customer_id == filters.customer_id)
    if filters.status is not None:
        conditions.append(Invoice.status == filters.status)
    if filters.period_from is not None:
        conditions.append(Invoice.period_start >= filters.period_from)
    if filters.period_to is not None:
        conditions.append(Invoice.period_start < filters.period_to)
    if filters.after_id == 0 and (filters.period_from or filters.period_to):
        # A period's invoices sit together late in id order, but the planner assumes they are spread
        # evenly and walks the ids from the start (0.25 s on a million invoices). Start the first page
        # at the first match instead, found in the (period_start, id) index ("+ 0": not by the same
        # walk); later pages start at their cursor, which is already there.
        first = sa.select(sa.func.min(Invoice.id + 0)).where(*conditions).scalar_subquery()
        conditions.append(Invoice.id >= first)
    rows = db.session.execute(
        sa.select(Invoice, Customer.name).join(Customer, Customer.id == Invoice.customer_id)
        .where(*conditions).order_by(Invoice.id).limit(filters.limit + 1)
    ).all()
    more, rows = len(rows) > filters.limit, rows[:filters.limit]
    paid = paid_amounts([invoice.id for invoice, _ in rows])
    return {
        "invoices": [_summary(invoice, name, paid.get(invoice.id, Decimal(0))) for invoice, name in rows],
        "next_cursor": encode_cursor(rows[-1][0].id) if more else None,
    }


def invoice_by_number(number: str) -> dict | None:
    """One invoice with its lines and the payments set against it (three queries), or None."""
    row = db.session.execute(
        sa.select(Invoice, Customer.name).join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.number == number)
    ).first()
    if row is None:
        return None
    invoice, customer_name = row
    allocations = db.session.execute(
        sa.select(PaymentAllocation.payment_id, PaymentAllocation.amount, Payment.method, Payment.reference,
                  Payment.received_on)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.invoice_id == invoice.id).order_by(PaymentAllocation.id)
    ).all()
    paid = sum((amount for _, amount, *_ in allocations), Decimal(0))
    answer = _summary(invoice, customer_name, paid)
    answer["lines"] = [{
        "position": line.position,
        "description": line.description,
        "calls": line.calls,
        "answered": line.answered,
        "billed_seconds": line.billed_seconds,
        "minutes": f"{line.minutes:f}",
        "charge": money(line.charge, invoice.currency),
    } for line in invoice.lines]
    answer["allocations"] = [{
        "payment_id": payment_id,
        "amount": money(amount, invoice.currency),
        "method": method,
        "reference": reference,
        "received_on": received_on.isoformat(),
    } for payment_id, amount, method, reference, received_on in allocations]
    return answer
