"""Fulfilment: what a paid order makes, exactly once per line, whoever runs it and however often.

Lock order: the order row first (SELECT … FOR UPDATE on PostgreSQL; on SQLite the write transaction),
then each line is claimed by one `UPDATE … SET fulfilled_at = now WHERE id = … AND fulfilled_at IS NULL`
in the same transaction as what the line makes, so two workers, two staff presses or a retry after a crash
never make it twice: the loser's UPDATE matches no row. A line whose effect is refused (a deployment
decommissioned meanwhile) is given back (its savepoint rolls back), says why, and is tried again by the
worker's next pass; the order is Fulfilled once every line is.

- support credits: a purchase in the chosen organisation's ledger, the order number as reference;
- support plans and licences: on the chosen deployment;
- hardware: the order's one Shipment, which staff mark shipped with a tracking reference;
- service: nothing.
"""
import calendar
from decimal import Decimal
from datetime import date, timedelta

import sqlalchemy as sa

from panel import actor as actors
from panel.actor import Actor
from panel.audit.recorder import record_updates
from panel.customers.models import Customer
from panel.deployments import records as deployments
from panel.deployments.models import Deployment
from panel.extensions import db
from panel.invoices import payments
from panel.invoices.billing import paid_amounts
from panel.invoices.models import Invoice, Payment
from panel.store import notices
from panel.store.models import Order, OrderLine, Shipment
from panel.support import credits
from panel.support.credits import CreditRefused
from panel.types import utcnow

CREDIT_METHODS = {"card": "Credit card", "wire": "Bank transfer", "cheque": "Other"}


def _months_later(start: date, months: int) -> date:
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def locked_order(order_id: int) -> Order | None:
    return db.session.scalar(sa.select(Order).where(Order.id == order_id).with_for_update()
                             .execution_options(populate_existing=True))


def _claim(line: OrderLine) -> bool:
    """Take the line for this transaction: True for exactly one caller, ever."""
    now = utcnow()
    table = OrderLine.__table__
    connection = db.session.connection()
    claimed = connection.execute(table.update().where(table.c.id == line.id, table.c.fulfilled_at.is_(None))
                                 .values(fulfilled_at=now)).rowcount
    if claimed:
        record_updates(connection, table.name, [(line.id, line.customer_id, {"fulfilled_at": (None, now)})])
    return bool(claimed)


def _make(actor: Actor, order: Order, line: OrderLine) -> str:
    """What the line makes, and a few words saying what it made."""
    if line.kind == "credits":
        organisation = db.session.get(Customer, line.organisation_id or order.customer_id)
        amount = (line.credits or 0) * line.quantity
        entry = credits.purchase(actor, organisation, amount, CREDIT_METHODS.get(order.payment_method, "Other"),
                                 order.number, note=f"{line.sku} × {line.quantity}")
        db.session.flush()
        return f"{amount} credits to {organisation.name} (ledger #{entry.id})"
    if line.kind in ("plan", "licence"):
        deployment = db.session.get(Deployment, line.deployment_id)
        if deployment is None:
            raise deployments.DeploymentRefused("The line has no deployment.")
        if line.kind == "plan":
            today = utcnow().date()
            ends = _months_later(today, line.term_months or 12) - timedelta(days=1)
            plan = deployments.add_support_plan(actor, deployment, line.plan, today, ends)
            return f"{line.plan} plan on {deployment.deployment_number} to {ends:%Y-%m-%d} (#{plan.id})"
        licence = deployments.add_licence(actor, deployment, line.name[:100], line.quantity, None)
        return f"licence on {deployment.deployment_number} (#{licence.id})"
    if line.kind == "hardware":
        shipment = db.session.scalar(sa.select(Shipment).where(Shipment.order_id == order.id))
        if shipment is None:
            shipment = Shipment(order_id=order.id, customer_id=order.customer_id, status="Pending")
            db.session.add(shipment)
            db.session.flush()
        return f"to ship (shipment #{shipment.id})"
    return "nothing automatic (service)"


def fulfil(actor: Actor, order_id: int) -> int:
    """Fulfil what is not yet fulfilled of a paid order; how many lines this call fulfilled (0 when another
    worker or press did them, or the order is not paid)."""
    order = locked_order(order_id)
    if order is None or order.status != "Paid":
        return 0
    # What the lines make is done by the system, in the name of whoever caused it (a contact paying by card
    # may not write to the deployments themselves).
    doer = actor if actor.is_system else actors.on_behalf_of(**_as_recorded(actor))
    done = 0
    lines = db.session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order.id)
                               .order_by(OrderLine.position).execution_options(populate_existing=True)).all()
    for line in lines:
        if line.fulfilled_at is not None:
            continue
        try:
            with db.session.begin_nested():
                if not _claim(line):
                    continue
                made = _make(doer, order, line)
        except (CreditRefused, deployments.DeploymentRefused) as error:
            db.session.refresh(line)
            line.fulfilment = f"not fulfilled: {error}"[:200]
            continue
        db.session.refresh(line)
        line.fulfilment = made[:200]
        done += 1
    db.session.flush()
    if all(line.fulfilled_at is not None for line in lines):
        order.status, order.fulfilled_at = "Fulfilled", utcnow()
    db.session.flush()
    return done


def _as_recorded(actor: Actor) -> dict:
    fields = actor.audit_fields()
    return {"label": fields["user_label"], "staff_user_id": fields["staff_user_id"],
            "contact_id": fields["contact_id"], "ip": fields["ip"]}


def mark_paid(order: Order) -> None:
    """The order's invoice is paid: the order is Paid (its fulfilment follows, here or by the worker)."""
    if order.status == "Awaiting payment":
        order.status, order.paid_at = "Paid", utcnow()
        db.session.flush()
        notices.payment_received(order)


def take_payment(actor: Actor, order: Order, method: str, reference: str, received_on: date | None = None) -> Payment:
    """The one path an order is paid by (staff's wire or cheque, a card charge that succeeded): a Completed
    payment of the whole amount due, allocated to the order's invoice, which pays it; the order is then Paid
    and fulfilled at once. The caller holds the order's row lock (`locked_order`). PaymentRefused passes on."""
    invoice = db.session.get(Invoice, order.invoice_id)
    due = invoice.total - paid_amounts([invoice.id]).get(invoice.id, Decimal(0))
    customer = db.session.get(Customer, order.customer_id)
    received = payments.record_payment(actor, customer, {
        "amount": due, "method": method, "reference": reference, "status": "Completed",
        "received_on": received_on or utcnow().date()})
    payments.allocate(actor, received, {invoice.id: due})
    db.session.refresh(invoice)
    if invoice.status == "paid":
        mark_paid(order)
        fulfil(actor, order.id)
    return received


def fulfil_paid_orders(limit: int = 100) -> int:
    """The worker's job: orders whose invoice is paid (also when staff allocated the payment on the invoice
    pages) become Paid, and every Paid order is fulfilled. Lines fulfilled."""
    paid_awaiting = db.session.scalars(
        sa.select(Order.id).join(Invoice, Invoice.id == Order.invoice_id)
        .where(Order.status == "Awaiting payment", Invoice.status == "paid").order_by(Order.id).limit(limit)).all()
    for order_id in paid_awaiting:
        order = locked_order(order_id)
        if order is not None:
            mark_paid(order)
    ids = db.session.scalars(sa.select(Order.id).where(Order.status == "Paid").order_by(Order.id).limit(limit)).all()
    return sum(fulfil(actors.SYSTEM, order_id) for order_id in ids)
