"""Store orders for billing systems: the list's parameters, keyset pages by id, and the JSON of an order.

Money is a string with the currency's own decimal places, times ISO 8601 UTC (as panel/api/invoices.py).
A page costs two queries whatever its size (the orders with their customers' names, and their lines) beside
the token check.
"""
from dataclasses import dataclass

import sqlalchemy as sa

from panel.api.invoices import InvalidParameter, _whole, decode_cursor, encode_cursor, moment, money
from panel.api.limits import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices.models import Invoice
from panel.store.models import ORDER_KINDS, ORDER_STATUSES, Order, OrderLine

LIST_PARAMETERS = ("customer_id", "status", "kind", "limit", "cursor")


@dataclass(frozen=True)
class Filters:
    customer_id: int | None = None
    status: str | None = None
    kind: str | None = None
    limit: int = DEFAULT_LIMIT
    after_id: int = 0


def parse_filters(args) -> Filters:
    """Unknown or repeated parameters are refused, not ignored (a misspelt filter would return every order)."""
    for name in args:
        if name not in LIST_PARAMETERS:
            raise InvalidParameter(name, f"unknown parameter; the list takes {', '.join(LIST_PARAMETERS)}.")
        if len(args.getlist(name)) > 1:
            raise InvalidParameter(name, "given more than once.")
    values = {}
    if "customer_id" in args:
        values["customer_id"] = _whole("customer_id", args["customer_id"], 1, MAX_ID)
    if "status" in args:
        if args["status"] not in ORDER_STATUSES:
            raise InvalidParameter("status", f"one of {', '.join(ORDER_STATUSES)}, not {args['status']!r}.")
        values["status"] = args["status"]
    if "kind" in args:
        if args["kind"] not in ORDER_KINDS:
            raise InvalidParameter("kind", f"one of {', '.join(ORDER_KINDS)}, not {args['kind']!r}.")
        values["kind"] = args["kind"]
    if "limit" in args:
        values["limit"] = _whole("limit", args["limit"], 1, MAX_LIMIT)
    if "cursor" in args:
        values["after_id"] = decode_cursor(args["cursor"])
    return Filters(**values)


def _line(line: OrderLine, currency: str) -> dict:
    return {
        "position": line.position, "sku": line.sku, "name": line.name, "kind": line.kind,
        "unit_price": money(line.unit_price, currency), "quantity": line.quantity,
        "amount": money(line.amount, currency),
        "credits": f"{line.credits:f}" if line.credits is not None else None,
        "deployment_id": line.deployment_id, "organisation_id": line.organisation_id,
        "fulfilled_at": moment(line.fulfilled_at),
    }


def _order(order: Order, customer_name: str, invoice_number: str | None, lines: list[OrderLine]) -> dict:
    return {
        "number": order.number, "kind": order.kind, "customer_id": order.customer_id, "customer_name": customer_name,
        "status": order.status, "currency": order.currency, "subtotal": money(order.subtotal, order.currency),
        "shipping": money(order.shipping_amount, order.currency), "total": money(order.total, order.currency),
        "payment_method": order.payment_method or None, "po_number": order.po_number or None,
        "invoice_number": invoice_number, "quote_number": None, "valid_until": moment(order.valid_until),
        "created_at": moment(order.created_at), "paid_at": moment(order.paid_at),
        "fulfilled_at": moment(order.fulfilled_at), "cancelled_at": moment(order.cancelled_at),
        "lines": [_line(line, order.currency) for line in lines],
    }


def _rows(conditions, limit: int | None = None):
    statement = (sa.select(Order, Customer.name, Invoice.number).join(Customer, Customer.id == Order.customer_id)
                 .outerjoin(Invoice, Invoice.id == Order.invoice_id).where(*conditions).order_by(Order.id))
    rows = db.session.execute(statement.limit(limit) if limit else statement).all()
    ids = [order.id for order, *_ in rows]
    lines: dict[int, list] = {order_id: [] for order_id in ids}
    if ids:
        for line in db.session.scalars(sa.select(OrderLine).where(OrderLine.order_id.in_(ids))
                                       .order_by(OrderLine.order_id, OrderLine.position)):
            lines[line.order_id].append(line)
    quote_ids = {order.quote_id for order, *_ in rows if order.quote_id}
    quotes = {row.id: row.number for row in db.session.execute(
        sa.select(Order.id, Order.number).where(Order.id.in_(quote_ids)))} if quote_ids else {}
    answers = []
    for order, name, invoice_number in rows:
        answer = _order(order, name, invoice_number, lines[order.id])
        answer["quote_number"] = quotes.get(order.quote_id)
        answers.append((order.id, answer))
    return answers


def order_page(filters: Filters) -> dict:
    """One page in id order and the cursor of the next (None on the last page): one row more than the page
    is read to know whether another follows, so nothing is counted."""
    conditions = [Order.id > filters.after_id]
    if filters.customer_id is not None:
        conditions.append(Order.customer_id == filters.customer_id)
    if filters.status is not None:
        conditions.append(Order.status == filters.status)
    if filters.kind is not None:
        conditions.append(Order.kind == filters.kind)
    rows = _rows(conditions, filters.limit + 1)
    more, rows = len(rows) > filters.limit, rows[:filters.limit]
    return {"orders": [answer for _, answer in rows],
            "next_cursor": encode_cursor(rows[-1][0]) if more else None}


def order_by_number(number: str) -> dict | None:
    rows = _rows([Order.number == number[:20]])
    return rows[0][1] if rows else None
