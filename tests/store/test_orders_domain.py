"""Orders after checkout: staff record a wire payment (which pays the store invoice and fulfils the order),
references are not reused, cancelling before fulfilment, shipping, and quotes converted once."""
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import actor as actors
from panel import pages, unit_of_work
from panel.auth.models import StaffUser
from panel.contacts.models import Contact
from panel.deployments.models import Licence, SupportPlan
from panel.extensions import db
from panel.invoices.models import Invoice
from panel.mail.models import MailMessage
from panel.store import checkout, fulfilment, orders
from panel.store.models import CartLine, Order, Shipment
from panel.store.orders import OrderRefused
from panel.support.models import CreditTransaction
from panel.types import utcnow
from tests.factories import ContactFactory
from tests.store.factories import shop
from tests.store.test_checkout_domain import full_submission


def _contact(ids):
    return actors.contact(db.session.get(Contact, ids["contact_id"]))


def _staff(role="staff"):
    return actors.staff(db.session.scalar(sa.select(StaffUser).where(StaffUser.role == role)))


def placed(ids, **changes) -> int:
    order = checkout.place(_contact(ids), full_submission(ids, **changes))
    unit_of_work.commit()
    return order.id


def test_recording_a_wire_payment_pays_the_invoice_and_fulfils_each_line_once(app, staff_users):
    with app.app_context():
        ids = shop()
        ContactFactory(customer_id=ids["customer_id"], contact_type="Billing", email="ap@acme.example")
        order_id = placed(ids)
        orders.record_payment(_staff(), db.session.get(Order, order_id), "wire", "WIRE-123")
        unit_of_work.commit()
        order = db.session.get(Order, order_id)
        assert order.status == "Fulfilled" and order.paid_at and order.fulfilled_at
        assert db.session.get(Invoice, order.invoice_id).status == "paid"
        purchases = db.session.scalars(sa.select(CreditTransaction)).all()
        assert [(p.credits, p.reference, p.customer_id) for p in purchases] == [
            (Decimal("10.00"), order.number, ids["customer_id"])]
        plan = db.session.scalar(sa.select(SupportPlan))
        assert plan.deployment_id == ids["deployment_id"] and plan.plan == "Standard"
        assert plan.ends_on == plan.starts_on.replace(year=plan.starts_on.year + 1) - timedelta(days=1)
        assert db.session.scalar(sa.select(Licence)).deployment_id == ids["deployment_id"]
        assert db.session.scalar(sa.select(Shipment)).status == "Pending"
        assert all(line.fulfilled_at for line in order.lines)
        # Later passes of the worker, and a second fulfilment, make nothing more.
        assert fulfilment.fulfil(actors.SYSTEM, order_id) == 0
        assert fulfilment.fulfil_paid_orders() == 0
        unit_of_work.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditTransaction)) == 1
        to = db.session.scalars(sa.select(MailMessage.to_addr).where(
            MailMessage.subject == f"Payment received for order {order.number}")).all()
        receipts = db.session.scalars(sa.select(MailMessage.to_addr).where(
            MailMessage.subject.startswith("Payment receipt"))).all()
        # One mail each: both are Billing contacts, so both get the payment receipt and neither the notice.
        assert to == [] and sorted(receipts) == ["ap@acme.example", "buyer@acme.example"]


def test_an_ordering_contact_outside_billing_is_told_of_the_payment_and_billing_gets_the_receipt(app, staff_users):
    with app.app_context():
        ids = shop(contact_type="Admin")
        ContactFactory(customer_id=ids["customer_id"], contact_type="Billing", email="ap@acme.example")
        order_id = placed(ids)
        orders.record_payment(_staff(), db.session.get(Order, order_id), "wire", "WIRE-124")
        unit_of_work.commit()
        number = db.session.get(Order, order_id).number
        sent = sorted((m.to_addr, m.subject.split(":")[0]) for m in db.session.scalars(sa.select(MailMessage).where(
            MailMessage.subject.startswith("Payment"))))
        assert sent == [("ap@acme.example", "Payment receipt"), ("buyer@acme.example", f"Payment received for order {number}")]


def test_a_reference_already_used_on_another_order_is_refused(app, staff_users):
    with app.app_context():
        ids = shop()
        first = placed(ids)
        orders.record_payment(_staff(), db.session.get(Order, first), "wire", "WIRE-9")
        unit_of_work.commit()
        other = shop(email="other@acme.example")
        second = placed(other)
        with pytest.raises(OrderRefused) as refused:
            orders.record_payment(_staff(), db.session.get(Order, second), "cheque", "wire-9")
        assert refused.value.field == "reference" and "already paid O-" in str(refused.value)
        unit_of_work.rollback()
        assert db.session.get(Order, second).status == "Awaiting payment"


def test_a_used_reference_is_looked_up_by_its_index_not_by_reading_every_payment(app):
    with app.app_context():
        sql = str(orders.paid_with("Wire-9", 1).compile(db.engine, compile_kwargs={"literal_binds": True}))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(row[0] for row in db.session.execute(sa.text("EXPLAIN " + sql)))
            db.session.rollback()
        else:
            plan = " ".join(str(row[-1]) for row in db.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql)))
    assert "ix_payment_reference_lower" in plan, plan


def test_an_invoice_paid_on_the_invoice_pages_is_fulfilled_by_the_worker(app, staff_users):
    from panel.invoices import payments

    with app.app_context():
        ids = shop()
        order = db.session.get(Order, placed(ids))
        customer = order.customer_id
        from panel.customers.models import Customer

        payment = payments.record_payment(_staff(), db.session.get(Customer, customer), {
            "amount": order.total, "method": "Bank transfer", "reference": "X", "status": "Completed",
            "received_on": utcnow().date()})
        payments.allocate(_staff(), payment, {order.invoice_id: order.total})
        unit_of_work.commit()
        assert fulfilment.fulfil_paid_orders() == 4
        unit_of_work.commit()
        assert db.session.get(Order, order.id).status == "Fulfilled"


def test_a_refused_line_stays_unfulfilled_says_why_and_is_tried_again(app, staff_users):
    from panel.deployments.models import Deployment

    with app.app_context():
        ids = shop()
        order_id = placed(ids)
        db.session.get(Deployment, ids["deployment_id"]).status = "Decommissioned"
        db.session.commit()
        orders.record_payment(_staff(), db.session.get(Order, order_id), "wire", "W-1")
        unit_of_work.commit()
        order = db.session.get(Order, order_id)
        assert order.status == "Paid"
        plan_line = order.lines[1]
        assert plan_line.fulfilled_at is None and "Decommissioned" in plan_line.fulfilment
        db.session.get(Deployment, ids["deployment_id"]).status = "Active"
        db.session.commit()
        assert fulfilment.fulfil_paid_orders() == 2
        unit_of_work.commit()
        assert db.session.get(Order, order_id).status == "Fulfilled"


def test_cancel_before_fulfilment_voids_the_invoice_and_after_it_is_refused(app, staff_users):
    with app.app_context():
        ids = shop()
        order_id = placed(ids)
        with pytest.raises(OrderRefused):
            orders.cancel(_staff(), db.session.get(Order, order_id), " ")
        orders.cancel(_staff(), db.session.get(Order, order_id), "Customer changed their mind")
        unit_of_work.commit()
        order = db.session.get(Order, order_id)
        assert order.status == "Cancelled" and db.session.get(Invoice, order.invoice_id).status == "void"
        with pytest.raises(OrderRefused):
            orders.record_payment(_staff(), order, "wire", "W-2")
        unit_of_work.rollback()
        other = shop(email="o2@acme.example")
        paid = placed(other)
        orders.record_payment(_staff(), db.session.get(Order, paid), "wire", "W-3")
        unit_of_work.commit()
        with pytest.raises(OrderRefused) as refused:
            orders.cancel(_staff(), db.session.get(Order, paid), "too late")
        assert "no longer be cancelled" in str(refused.value)


def test_mark_shipped_needs_a_tracking_reference_and_happens_once(app, staff_users):
    with app.app_context():
        ids = shop()
        order_id = placed(ids)
        with pytest.raises(OrderRefused):
            orders.mark_shipped(_staff(), db.session.get(Order, order_id), "TRACK-1")  # not paid: nothing to ship
        unit_of_work.rollback()
        orders.record_payment(_staff(), db.session.get(Order, order_id), "wire", "W-4")
        unit_of_work.commit()
        with pytest.raises(OrderRefused) as refused:
            orders.mark_shipped(_staff(), db.session.get(Order, order_id), "")
        assert refused.value.field == "tracking_reference"
        unit_of_work.rollback()
        orders.mark_shipped(_staff(), db.session.get(Order, order_id), "1Z999")
        unit_of_work.commit()
        shipment = db.session.scalar(sa.select(Shipment))
        assert shipment.status == "Shipped" and shipment.tracking_reference == "1Z999"
        with pytest.raises(OrderRefused):
            orders.mark_shipped(_staff(), db.session.get(Order, order_id), "again")


def test_a_quote_converts_once_at_the_quoted_prices(app):
    from panel.store.models import Product

    with app.app_context():
        ids = shop()
        quote_id = placed(ids, quote=True, payment_method="")
        product = db.session.get(Product, ids["products"]["credits"])
        product.prices[0].amount = Decimal("999.00")
        db.session.commit()
        order = orders.convert_quote(_contact(ids), db.session.get(Order, quote_id), "cheque", True)
        unit_of_work.commit()
        order = db.session.get(Order, order.id)
        assert order.quote_id == quote_id and order.total == Decimal("1390.00") and order.payment_method == "cheque"
        assert db.session.get(Order, quote_id).status == "Converted" and order.invoice_id
        with pytest.raises(OrderRefused) as refused:
            orders.convert_quote(_contact(ids), db.session.get(Order, quote_id), "cheque", True)
        assert "converted" in str(refused.value)


def test_an_expired_quote_is_refused_and_copies_into_the_cart_at_todays_prices(app):
    with app.app_context():
        ids = shop()
        quote_id = placed(ids, quote=True, payment_method="")
        quote = db.session.get(Order, quote_id)
        quote.valid_until = utcnow() - timedelta(minutes=1)
        db.session.commit()
        with pytest.raises(OrderRefused) as refused:
            orders.convert_quote(_contact(ids), quote, "wire", True)
        assert "expired" in str(refused.value)
        unit_of_work.rollback()
        added, left_out = orders.copy_to_cart(_contact(ids), db.session.get(Order, quote_id))
        unit_of_work.commit()
        assert (added, left_out) == (4, [])
        assert sorted(db.session.scalars(sa.select(CartLine.quantity)).all()) == [1, 1, 1, 2]


def test_orders_pages_are_keyset_paginated_newest_first(app, staff_users):
    with app.app_context():
        ids = shop()
        made = [placed(ids)]
        for n in range(4):
            other = shop(email=f"p{n}@acme.example")
            made.append(placed(other))
        first = orders.staff_orders(_staff(), size=2)
        assert [o.id for o in first.items] == sorted(made, reverse=True)[:2]
        second = orders.staff_orders(_staff(), size=2, wanted=pages.requested(first.links["next"]))
        assert [o.id for o in second.items] == sorted(made, reverse=True)[2:4]
        assert orders.staff_orders(_staff(), customer_id=ids["customer_id"]).items[0].id == made[0]
        assert orders.staff_orders(_staff(), status="Paid").items == []
