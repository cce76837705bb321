"""On PostgreSQL, with real concurrent transactions (threads, each with its own session): ten simultaneous
Process Order presses carrying one checkout token make one order, and two workers fulfil each line once."""
import threading

import pytest
import sqlalchemy as sa

from panel import actor as actors
from panel import unit_of_work
from panel.auth.models import StaffUser
from panel.customers.models import Customer
from panel.invoices import payments
from panel.contacts.models import Contact
from panel.extensions import db
from panel.invoices.models import Invoice
from panel.store import checkout, fulfilment, orders
from panel.store.models import CartLine, Order, OrderLine, Shipment
from panel.deployments.models import Licence, SupportPlan
from panel.support.models import CreditTransaction
from panel.types import utcnow
from tests.factories import StaffUserFactory
from tests.store.factories import shop
from tests.store.test_checkout_domain import full_submission

pytestmark = pytest.mark.postgres


def _together(app, count: int, work):
    """Run work(i) in `count` threads that start at once, each in its own app context and session."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(i):
        with app.app_context():
            try:
                barrier.wait()
                with unit_of_work.unit():
                    results[i] = work(i)
            except Exception as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


def test_ten_simultaneous_presses_with_one_token_make_one_order(pg_app):
    with pg_app.app_context():
        ids = shop()
        db.session.remove()
    submission = full_submission(ids)

    def press(_):
        actor = actors.contact(db.session.get(Contact, ids["contact_id"]))
        return checkout.place(actor, submission).number

    numbers, errors = _together(pg_app, 10, press)
    assert errors == []
    assert len(set(numbers)) == 1 and numbers[0].startswith("O-")
    with pg_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invoice).where(Invoice.kind == "store")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CartLine)) == 0
        assert db.session.scalar(sa.select(Order.number)) == "O-000001"  # the losers left no gap
        db.session.remove()


def test_two_workers_fulfil_each_line_once(pg_app):
    with pg_app.app_context():
        StaffUserFactory(role="staff")
        made = []
        for n in range(4):
            ids = shop(email=f"w{n}@acme.example")
            order = checkout.place(actors.contact(db.session.get(Contact, ids["contact_id"])), full_submission(ids))
            unit_of_work.commit()
            made.append(order.id)
        # Paid (by a payment allocated on the invoice pages), left for the workers to fulfil.
        staff = actors.staff(db.session.scalar(sa.select(StaffUser)))
        for order_id in made:
            order = db.session.get(Order, order_id)
            paid = payments.record_payment(staff, db.session.get(Customer, order.customer_id), {
                "amount": order.total, "method": "Bank transfer", "reference": f"R{order_id}", "status": "Completed",
                "received_on": utcnow().date()})
            payments.allocate(staff, paid, {order.invoice_id: order.total})
        unit_of_work.commit()
        db.session.remove()

    results, errors = _together(pg_app, 2, lambda _: fulfilment.fulfil_paid_orders())
    assert errors == []
    assert sum(results) == 4 * 4  # every line of every order, by one worker or the other
    with pg_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditTransaction)) == 4
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SupportPlan)) == 4
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Licence)) == 4
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Shipment)) == 4
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderLine)
                                 .where(OrderLine.fulfilled_at.is_(None))) == 0
        assert set(db.session.scalars(sa.select(Order.status))) == {"Fulfilled"}
        db.session.remove()


def test_two_staff_presses_of_record_payment_pay_and_fulfil_once(pg_app):
    with pg_app.app_context():
        StaffUserFactory(role="staff")
        ids = shop()
        order_id = checkout.place(actors.contact(db.session.get(Contact, ids["contact_id"])), full_submission(ids)).id
        unit_of_work.commit()
        db.session.remove()

    def press(_):
        staff = actors.staff(db.session.scalar(sa.select(StaffUser)))
        orders.record_payment(staff, db.session.get(Order, order_id), "wire", "WIRE-77")
        return True

    results, errors = _together(pg_app, 2, press)
    assert results.count(True) == 1 and len(errors) == 1 and "awaiting payment" in str(errors[0])
    with pg_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditTransaction)) == 1
        assert db.session.get(Order, order_id).status == "Fulfilled"
        db.session.remove()
