"""Migration 0009: open invoices that hold sub-unit amounts are rounded to their currency's minor unit (lines
half up, total the sum of the lines, allocations down), audited by `system` with the chain intact; paid and
void invoices are left alone; afterwards every open invoice can be paid to zero. On SQLite and PostgreSQL."""
import json
from types import SimpleNamespace
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from panel import create_app
from panel.actor import SYSTEM
from panel.audit.chain import verify_chain
from panel.audit.models import AuditEntry
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices.models import Invoice, Payment, PaymentAllocation
from panel.invoices.payments import allocate, open_invoices, record_payment
from tests.helpers import app_config as _config
from tests.invoices.data import at

BEFORE = "0008_pending_password"
COMMENT = "Migration 0009: an open invoice's amounts rounded half up to its currency's minor unit"


@pytest.fixture
def old_app(request, tmp_path, monkeypatch):
    """An app on a database migrated only up to 0008."""
    monkeypatch.setenv("PANEL_INSTANCE_PATH", str(tmp_path / "instance"))
    if request.config.getoption("--db") == "postgresql":
        url = request.getfixturevalue("postgres").create()
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app(_config(url))
    with app.app_context():
        upgrade(revision=BEFORE)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def old_customer(name: str, currency: str) -> SimpleNamespace:
    """A customer row as the schema at 0008 holds it: the model has columns added by later migrations, so the
    row is written through the table as it is then, each column taking the model's default."""
    table = sa.Table("customer", sa.MetaData(), autoload_with=db.session.connection())
    values = {"name": name, "status": "Active", "currency": currency, "channel_limit": 5}
    for column in table.columns:
        default = Customer.__table__.c[column.name].default if column.name in Customer.__table__.c else None
        if column.name in values or column.name == "id" or default is None:
            continue
        values[column.name] = default.arg(None) if default.is_callable else default.arg
    new_id = db.session.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()
    return SimpleNamespace(id=new_id, currency=currency)


def invoice(customer, day: str, status: str, *charges: str) -> SimpleNamespace:
    """An invoice as the code before 0009 made it: the lines' charges as the roll-up had them. Written through
    the tables as they are at 0008 (the model has columns added later: invoice.kind, 0016)."""
    connection = db.session.connection()
    invoices = sa.Table("invoice", sa.MetaData(), autoload_with=connection)
    lines = sa.Table("invoice_line", sa.MetaData(), autoload_with=connection)
    new_id = db.session.execute(invoices.insert().values(
        number=f"INV-{customer.id}{day.replace('-', '')}", customer_id=customer.id, time_frame="daily",
        period_start=at(day), period_end=at(day).replace(day=at(day).day + 1), currency=customer.currency,
        status=status, created_by="system", calls=len(charges), billed_seconds=60 * len(charges),
        total=sum((Decimal(c) for c in charges), Decimal(0)), created_at=at(day), void_reason="")
        .returning(invoices.c.id)).scalar_one()
    for position, charge in enumerate(charges, 1):
        db.session.execute(lines.insert().values(
            invoice_id=new_id, customer_id=customer.id, position=position, description=f"Calls {day} (UTC)",
            calls=1, answered=1, billed_seconds=60, charge=Decimal(charge)))
    return SimpleNamespace(id=new_id)


def pay(customer, target: SimpleNamespace, amount: str) -> None:
    payment = Payment(customer_id=customer.id, currency=customer.currency, amount=Decimal(amount), method="Cash",
                      status="Completed", received_on=date(2026, 11, 20), created_by="system")
    db.session.add(payment)
    db.session.flush()
    db.session.add(PaymentAllocation(payment_id=payment.id, invoice_id=target.id, customer_id=customer.id,
                                     amount=Decimal(amount)))
    db.session.flush()


def test_open_invoices_are_rounded_audited_and_payable_and_settled_ones_are_left_alone(old_app):
    with old_app.app_context():
        usd = old_customer("Dollar Voice", "USD")
        yen = old_customer("Yen Voice", "JPY")
        kwd = old_customer("Dinar Voice", "KWD")
        open_usd = invoice(usd, "2026-11-02", "issued", "10.0040", "15.8250")  # 25.8290 → 10.00 + 15.83
        covered = invoice(usd, "2026-11-03", "issued", "10.0040")  # 10.00 allocated: due 0.004 for ever
        pay(usd, covered, "10.00")
        paid = invoice(usd, "2026-11-04", "paid", "1.2500", "1.2500")
        pay(usd, paid, "2.50")
        void = invoice(usd, "2026-11-05", "void", "0.3333")
        clean = invoice(usd, "2026-11-06", "issued", "4.2000")
        open_yen = invoice(yen, "2026-11-02", "issued", "100.4567")  # 50.50 allocated when JPY took cents
        pay(yen, open_yen, "50.50")
        open_kwd = invoice(kwd, "2026-11-02", "issued", "1.23450", "0.0004")
        db.session.commit()
        ids = {name: row.id for name, row in [("open_usd", open_usd), ("covered", covered), ("paid", paid),
                                              ("void", void), ("clean", clean), ("open_yen", open_yen),
                                              ("open_kwd", open_kwd)]}
        customers = [usd.id, yen.id, kwd.id]
        entries_before = db.session.scalar(sa.select(sa.func.max(AuditEntry.id)))
        db.session.remove()

        upgrade()

        def state(name):
            row = db.session.get(Invoice, ids[name])
            return row.status, row.total, [line.charge for line in row.lines]

        assert state("open_usd") == ("issued", Decimal("25.83"), [Decimal("10.00"), Decimal("15.83")])
        assert state("covered") == ("paid", Decimal("10.00"), [Decimal("10.00")])
        assert state("paid") == ("paid", Decimal("2.50"), [Decimal("1.25"), Decimal("1.25")])
        assert state("void") == ("void", Decimal("0.3333"), [Decimal("0.3333")])
        assert state("clean") == ("issued", Decimal("4.20"), [Decimal("4.20")])
        assert state("open_yen") == ("issued", Decimal("100"), [Decimal("100")])
        assert state("open_kwd") == ("issued", Decimal("1.235"), [Decimal("1.235"), Decimal("0")])
        assert db.session.scalars(sa.select(PaymentAllocation.amount)
                                  .where(PaymentAllocation.invoice_id == ids["open_yen"])).all() == [Decimal("50")]

        entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.id > entries_before)
                                     .order_by(AuditEntry.id)).all()
        assert {(e.user_label, e.comment, e.message, e.action) for e in entries} == {("system", COMMENT, "Update", "PUT")}
        changed = {(e.table_name, json.dumps(json.loads(e.data), sort_keys=True)) for e in entries}
        assert ("invoice", json.dumps({"total": ["25.8290", "25.83"]})) in changed
        assert ("invoice", json.dumps({"status": ["issued", "paid"], "total": ["10.0040", "10.00"]})) in changed
        assert ("payment_allocation", json.dumps({"amount": ["50.5000", "50"]})) in changed
        assert {e.customer_id for e in entries} == set(customers)
        touched = {(e.table_name, e.row_id) for e in entries if e.table_name == "invoice"}
        assert touched == {("invoice", str(ids[n])) for n in ("open_usd", "covered", "open_yen", "open_kwd")}
        assert len(entries) == 4 + 6 + 1  # four invoices, six lines (not the clean one), one allocation
        assert verify_chain(db.session.connection()).intact

        # Down and up again: no data is un-rounded, and nothing is left to round the second time.
        db.session.remove()
        downgrade(revision=BEFORE)
        upgrade()
        assert db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) == entries[-1].id

        # Every open invoice can now be paid to zero by allocating what is due.
        for customer_id in customers:
            customer = db.session.get(Customer, customer_id)
            rows = open_invoices(SYSTEM, customer.id)
            payment = record_payment(SYSTEM, customer, {
                "amount": sum((r.due for r in rows), Decimal(0)), "method": "Cash", "reference": "after 0009",
                "status": "Completed", "received_on": date(2026, 12, 1)})
            allocate(SYSTEM, payment, {row.invoice.id: row.due for row in rows})
        assert db.session.scalars(sa.select(Invoice.status).where(Invoice.status == "issued")).all() == []
