"""factory_boy factories for the objects tests build: each one inserts and commits its row, so a test's
setup never depends on whether a domain function commits.

Use them inside an app context: `CustomerFactory(name="Acme")`, `ContactFactory(customer_id=c, email=...)`.
Rows refer to each other by id (tests hold ids, not objects); a missing one is made by its factory.
A factory's row goes through the audit hook like any other write (actor: system)."""
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.auth.models import StaffUser
from panel.calls.models import HourlySummary
from panel.contacts.models import Contact
from panel.customers.models import Customer, LedgerEntry
from panel.delayed.models import PendingChange
from panel.deployments import records as deployment_records
from panel.deployments.models import Deployment
from panel.extensions import db
from panel.invoices import billing
from panel.invoices.models import Invoice, InvoiceLine, Payment
from panel.numbering.models import NumberBlock
from panel.passwords import hash_password
from panel.sequences import next_value
from panel.store.models import Product, ProductPrice
from panel.support import credits
from panel.support.models import CreditTransaction
from tests.helpers import CONTACT_PASSWORD, PASSWORD

CREATED_BY = "system"


class Factory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731  (bound when used, in the test's app)
        sqlalchemy_session_persistence = "commit"


class CustomerFactory(Factory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n:04d}")
    status = "Active"
    currency = "USD"


class StaffUserFactory(Factory):
    """A staff user who signs in with PASSWORD (or `password=`)."""

    class Meta:
        model = StaffUser
        exclude = ("password",)

    role = "staff"
    email = factory.LazyAttribute(lambda o: f"{o.role}@example.com")
    name = factory.LazyAttribute(lambda o: o.email.split("@")[0])
    password = PASSWORD
    password_hash = factory.LazyAttribute(lambda o: hash_password(o.password))


class ContactFactory(Factory):
    """A contact who signs in to the portal with CONTACT_PASSWORD (or `password=`; `password=None` for
    a contact without a password)."""

    class Meta:
        model = Contact
        exclude = ("password",)

    customer_id = factory.LazyFunction(lambda: CustomerFactory().id)
    name = factory.Sequence(lambda n: f"Contact {n:04d}")
    email = factory.LazyAttribute(lambda o: f"{o.name.lower().replace(' ', '.')}@example.com")
    password = CONTACT_PASSWORD
    password_hash = factory.LazyAttribute(lambda o: hash_password(o.password) if o.password else None)


class LedgerEntryFactory(Factory):
    """A balance entry (kind "payment" or "charge", as the Main tab's balance reads them)."""

    class Meta:
        model = LedgerEntry

    customer_id = factory.LazyFunction(lambda: CustomerFactory().id)
    kind = "payment"
    amount = Decimal("10.00")


class DeploymentFactory(Factory):
    """A deployment numbered by the same counter as create_deployment, so the two never clash."""

    class Meta:
        model = Deployment

    customer_id = factory.LazyFunction(lambda: CustomerFactory().id)
    deployment_number = factory.LazyFunction(
        lambda: f"D-{next_value(deployment_records.SEQUENCE, deployment_records.FIRST_NUMBER)}")
    product = "PBX"
    name = factory.Sequence(lambda n: f"Deployment {n}")
    status = "Active"


class CreditTransactionFactory(Factory):
    """A support-credit ledger entry: a purchase by default (credits are signed)."""

    class Meta:
        model = CreditTransaction

    customer_id = factory.LazyFunction(lambda: CustomerFactory().id)
    kind = "purchase"
    credits = Decimal("10.00")
    payment_method = factory.LazyAttribute(lambda o: "Card" if o.kind == "purchase" else "")
    reference = factory.LazyAttribute(lambda o: "PO-1" if o.kind == "purchase" else "")
    created_by = CREATED_BY


class InvoiceFactory(Factory):
    """An issued weekly invoice numbered by billing's counter; add lines with InvoiceLineFactory."""

    class Meta:
        model = Invoice

    customer_id = factory.LazyFunction(lambda: CustomerFactory().id)
    number = factory.LazyFunction(lambda: f"INV-{next_value(billing.SEQUENCE):06d}")
    time_frame = "weekly"
    period_start = datetime(2026, 11, 2, tzinfo=UTC)
    period_end = factory.LazyAttribute(lambda o: o.period_start + timedelta(days=7))
    currency = "USD"
    total = Decimal("0")
    created_by = CREATED_BY


class InvoiceLineFactory(Factory):
    class Meta:
        model = InvoiceLine

    invoice_id = factory.LazyFunction(lambda: InvoiceFactory().id)
    customer_id = factory.LazyAttribute(lambda o: db.session.get(Invoice, o.invoice_id).customer_id)
    position = factory.Sequence(lambda n: n)
    description = "Calls"
    charge = Decimal("0")


class PaymentFactory(Factory):
    class Meta:
        model = Payment

    customer_id = factory.LazyFunction(lambda: CustomerFactory().id)
    amount = Decimal("1")
    currency = "USD"
    method = "Cash"
    received_on = date(2026, 11, 2)
    created_by = CREATED_BY


class NumberBlockFactory(Factory):
    class Meta:
        model = NumberBlock

    customer_id = factory.LazyFunction(lambda: CustomerFactory().id)
    start_number = factory.Sequence(lambda n: 1000 + 100 * n)
    end_number = factory.LazyAttribute(lambda o: o.start_number + 99)


class PendingChangeFactory(Factory):
    """A delayed save of one contact field, due now."""

    class Meta:
        model = PendingChange

    kind = "update"
    table_name = "contact"
    customer_id = factory.LazyFunction(lambda: CustomerFactory().id)
    changes = '{"phone": "+1 555 0100"}'
    run_at = factory.LazyFunction(lambda: datetime.now(UTC))
    requested_by = CREATED_BY


class HourlySummaryFactory(Factory):
    """One hour of a customer's rolled-up calls (call_hour)."""

    class Meta:
        model = HourlySummary

    customer_id = factory.LazyFunction(lambda: CustomerFactory().id)
    hour = datetime(2026, 11, 2, 9, tzinfo=UTC)
    calls = 1
    answered = 1
    seconds = 60
    billed_seconds = 60
    cost = Decimal("0")
    charge = Decimal("0")


class ProductFactory(Factory):
    """A store product on sale, priced per currency: `prices={"USD": "10", "EUR": "9"}` (default: 10 USD)."""

    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n:04d}")
    description = ""
    tab = "support"
    category = "Hourly Support"
    kind = "credits"
    credits = factory.LazyAttribute(lambda o: Decimal("1") if o.kind == "credits" else None)
    plan = factory.LazyAttribute(lambda o: "Premium" if o.kind == "plan" else "")
    term_months = factory.LazyAttribute(lambda o: 12 if o.kind == "plan" else None)
    position = 0

    @factory.post_generation
    def prices(obj, create, extracted, **kwargs):
        for currency, amount in (extracted if extracted is not None else {"USD": "10"}).items():
            obj.prices.append(ProductPrice(currency=currency, amount=Decimal(amount)))
        if create:
            db.session.commit()


def deployment_with_credits(customer_id: int, deduct: bool = False) -> tuple[Deployment, CreditTransaction]:
    """A PBX deployment of the customer and a purchase of support credits, through the domain functions (as
    the system) and committed; with `deduct`, the transaction returned is a deduction of one credit against
    the deployment, so there is something to reverse."""
    with unit_of_work.unit():
        deployment = deployment_records.create_deployment(SYSTEM, customer_id, "PBX", "Main PBX")
        customer = db.session.get(Customer, customer_id)
        transaction = credits.purchase(SYSTEM, customer, Decimal(10), "Other", "PO-0")
        if deduct:
            transaction = credits.deduct(SYSTEM, customer, Decimal(1), "TCK-0", deployment.id)
    return deployment, transaction
