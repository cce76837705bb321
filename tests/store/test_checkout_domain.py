"""Checkout as a domain function: the rules it checks again on the server, one order per token, the
order with its lines and its store invoice in one transaction, the cart emptied."""
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import actor as actors
from panel import unit_of_work
from panel.contacts.models import Contact
from panel.extensions import db
from panel.invoices.models import Invoice
from panel.mail.models import MailMessage
from panel.options import set_option
from panel.store import checkout
from panel.store.checkout import CheckoutRefused, Submission
from panel.store.models import CartLine, Order, Product
from panel.types import utcnow
from tests.factories import ContactFactory, CustomerFactory, DeploymentFactory, InvoiceFactory
from tests.store.factories import shop


def _actor(contact_id, staff=None):
    return actors.contact(db.session.get(Contact, contact_id), staff)


def full_submission(ids, **changes) -> Submission:
    lines = ids["lines"]
    values = dict(token=checkout.new_token(),
                  deployments={lines["plan"]: str(ids["deployment_id"]), lines["licence"]: str(ids["deployment_id"])},
                  organisations={lines["credits"]: str(ids["customer_id"])}, shipping_rate_id=str(ids["rate_id"]),
                  shipping_address="1 Main St\nSpringfield", payment_method="wire", has_po=True, po_number="PO-77",
                  terms=True)
    values.update(changes)
    return Submission(**values)


def test_an_order_its_lines_and_its_store_invoice_are_written_and_the_cart_is_emptied(app):
    with app.app_context():
        ids = shop()
        set_option("store_terms_version", "3")
        order = checkout.place(_actor(ids["contact_id"]), full_submission(ids))
        unit_of_work.commit()
        order = db.session.get(Order, order.id)
        assert order.number.startswith("O-") and order.status == "Awaiting payment"
        assert order.subtotal == Decimal("1375.00") and order.shipping_amount == Decimal("15.00")
        assert order.total == Decimal("1390.00") and order.po_number == "PO-77" and order.terms_version == 3
        assert [(line.sku, line.quantity, line.amount) for line in order.lines] == [
            ("SUP-5", 2, Decimal("500.00")), ("POMP-1", 1, Decimal("500.00")), ("MOD-1", 1, Decimal("75.00")),
            ("GW-4", 1, Decimal("300.00"))]
        assert order.lines[1].deployment_id == ids["deployment_id"] and order.lines[0].organisation_id == ids["customer_id"]
        invoice = db.session.get(Invoice, order.invoice_id)
        assert invoice.kind == "store" and invoice.total == order.total and invoice.status == "issued"
        assert [line.charge for line in invoice.lines] == [Decimal("500.00"), Decimal("500.00"), Decimal("75.00"),
                                                           Decimal("300.00"), Decimal("15.00")]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CartLine)) == 0
        subjects = db.session.scalars(sa.select(MailMessage.subject)).all()
        assert f"Order {order.number} received" in subjects and f"How to pay order {order.number}" in subjects


def test_the_same_token_twice_gives_the_same_order(app):
    with app.app_context():
        ids = shop()
        submission = full_submission(ids)
        first = checkout.place(_actor(ids["contact_id"]), submission).id
        unit_of_work.commit()
        again = checkout.place(_actor(ids["contact_id"]), submission).id
        unit_of_work.commit()
        assert first == again
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1


def test_store_invoices_are_exempt_from_the_one_invoice_per_period_rule(app):
    with app.app_context():
        ids = shop()
        day = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        InvoiceFactory(customer_id=ids["customer_id"], time_frame="daily", period_start=day,
                       period_end=day + timedelta(days=1))
        order = checkout.place(_actor(ids["contact_id"]), full_submission(ids))
        unit_of_work.commit()
        assert db.session.get(Invoice, order.invoice_id).period_start == day


def test_every_missing_choice_is_refused_by_its_field_and_nothing_is_written(app):
    with app.app_context():
        ids = shop()
        lines = ids["lines"]
        with pytest.raises(CheckoutRefused) as refused:
            checkout.place(_actor(ids["contact_id"]), full_submission(
                ids, deployments={}, organisations={}, shipping_rate_id="", shipping_address=" ", payment_method="",
                po_number="", terms=False))
        unit_of_work.rollback()
        assert set(refused.value.errors) == {f"deployment-{lines['plan']}", f"deployment-{lines['licence']}",
                                             f"organisation-{lines['credits']}", "shipping_rate_id",
                                             "shipping_address", "payment_method", "po_number", "terms"}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CartLine)) == 4


def test_deployments_and_organisations_outside_the_contacts_reach_are_refused(app):
    with app.app_context():
        ids = shop()
        stranger = CustomerFactory(name="Stranger").id
        theirs = DeploymentFactory(customer_id=stranger).id
        sbc = DeploymentFactory(customer_id=ids["customer_id"], product="SBC").id
        lines = ids["lines"]
        with pytest.raises(CheckoutRefused) as refused:
            checkout.place(_actor(ids["contact_id"]), full_submission(
                ids, deployments={lines["plan"]: str(sbc), lines["licence"]: str(theirs)},
                organisations={lines["credits"]: str(stranger)}))
        unit_of_work.rollback()
        errors = refused.value.errors
        assert "for PBX deployments" in errors[f"deployment-{lines['plan']}"]
        assert "pick it from the list" in errors[f"deployment-{lines['licence']}"]
        assert errors[f"organisation-{lines['credits']}"] == "Choose one of your organisations."


def test_an_admin_may_buy_for_a_customer_of_their_tree(app):
    with app.app_context():
        ids = shop(contact_type="Admin")
        child = CustomerFactory(name="Child", reseller_id=ids["customer_id"]).id
        child_deployment = DeploymentFactory(customer_id=child).id
        lines = ids["lines"]
        order = checkout.place(_actor(ids["contact_id"]), full_submission(
            ids, organisations={lines["credits"]: str(child)},
            deployments={lines["plan"]: str(child_deployment), lines["licence"]: str(ids["deployment_id"])}))
        assert order.lines[0].organisation_id == child and order.lines[1].deployment_id == child_deployment
        assert (child, "Child") in checkout.organisations(_actor(ids["contact_id"]))


def test_a_price_changed_or_a_product_retired_since_the_cart_is_checked_again(app):
    with app.app_context():
        ids = shop()
        product = db.session.get(Product, ids["products"]["licence"])
        product.prices[0].amount = Decimal("80.00")
        db.session.commit()
        order = checkout.place(_actor(ids["contact_id"]), full_submission(ids))
        assert order.lines[2].unit_price == Decimal("80.00")
        unit_of_work.rollback()
        product = db.session.get(Product, ids["products"]["licence"])
        product.retired_at = utcnow()
        db.session.commit()
        with pytest.raises(CheckoutRefused) as refused:
            checkout.place(_actor(ids["contact_id"]), full_submission(ids))
        assert "no longer sold" in refused.value.errors[f"line-{ids['lines']['licence']}"]


def test_who_may_order_other_contacts_and_portal_login_may_not(app, staff_users):
    from panel.auth.models import StaffUser

    with app.app_context():
        ids = shop(contact_type="Technical")
        with pytest.raises(CheckoutRefused):
            checkout.place(_actor(ids["contact_id"]), full_submission(ids))
        unit_of_work.rollback()
        billing = ContactFactory(customer_id=ids["customer_id"], contact_type="Billing", email="b2@acme.example").id
        staff = db.session.scalar(sa.select(StaffUser).where(StaffUser.role == "staff"))
        with pytest.raises(CheckoutRefused) as refused:
            checkout.place(_actor(billing, staff), full_submission(ids))
        assert "Portal Login" in refused.value.errors["form"]


def test_credit_card_is_not_available_without_a_processor_key(app):
    with app.app_context():
        ids = shop()
        with pytest.raises(CheckoutRefused) as refused:
            checkout.place(_actor(ids["contact_id"]), full_submission(ids, payment_method="card"))
        assert "not available" in refused.value.errors["payment_method"]
        unit_of_work.rollback()
        app.config["STRIPE_SECRET_KEY"] = "sk_test_x"
        try:
            with pytest.raises(CheckoutRefused) as refused:
                checkout.place(_actor(ids["contact_id"]), full_submission(ids, payment_method="card"))
            # With a processor, a card must be chosen; nothing is asked of the processor, nothing is written.
            assert refused.value.errors["card_choice"] == "Choose one of your saved cards or enter a new card."
        finally:
            app.config.pop("STRIPE_SECRET_KEY")
        unit_of_work.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_a_quote_is_numbered_q_valid_for_the_configured_days_and_has_no_invoice(app):
    with app.app_context():
        ids = shop()
        set_option("store_quote_days", "10")
        quote = checkout.place(_actor(ids["contact_id"]), full_submission(ids, quote=True, payment_method=""))
        unit_of_work.commit()
        quote = db.session.get(Order, quote.id)
        assert quote.number.startswith("Q-") and quote.kind == "quote" and quote.status == "Quote"
        assert quote.invoice_id is None
        assert timedelta(days=9, hours=23) < quote.valid_until - utcnow() <= timedelta(days=10)


def test_a_token_another_customers_order_holds_is_refused_not_reused(app):
    with app.app_context():
        ids = shop()
        other = shop(email="other@beta.example")
        submission = full_submission(ids)
        checkout.place(_actor(ids["contact_id"]), submission)
        unit_of_work.commit()
        with pytest.raises(CheckoutRefused) as refused:
            checkout.place(_actor(other["contact_id"]), full_submission(other, token=submission.token))
        assert "out of date" in refused.value.errors["form"]
        unit_of_work.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
