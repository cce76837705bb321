"""The support-credit ledger: purchases and deductions make the balance, a deduction beyond it is
refused, a transaction is reversed once and never edited or deleted (the database refuses it)."""
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.customers.accounts import create_customer
from panel.customers.models import Customer
from panel.deployments.records import create_deployment
from panel.extensions import db
from panel.support import credits
from panel.support.models import CreditTransaction
from panel.pages import FIRST, PageRequest


def acme(customer_id):
    return db.session.get(Customer, customer_id)


def test_the_balance_is_purchases_less_deductions(app, customer):
    with app.app_context():
        assert credits.balance(customer) == Decimal("0.00")
        credits.purchase(SYSTEM, acme(customer), Decimal("10"), "Purchase order", " PO-778 ")
        credits.purchase(SYSTEM, acme(customer), Decimal("2.50"), "Credit card", "ch_123", note="top-up")
        deployment = create_deployment(SYSTEM, customer, "PBX", "Main")
        used = credits.deduct(SYSTEM, acme(customer), Decimal("3.25"), "TCK-1", deployment.id, "Trunk set-up")
        assert credits.balance(customer) == Decimal("9.25")
        assert (used.kind, used.credits, used.deployment_id, used.created_by) == ("deduction", Decimal("-3.25"),
                                                                                   deployment.id, "system")
        first = db.session.scalar(sa.select(CreditTransaction).order_by(CreditTransaction.id))
        assert (first.kind, first.reference, first.payment_method) == ("purchase", "PO-778", "Purchase order")
        audited = db.session.scalars(sa.select(AuditEntry.table_name).where(AuditEntry.table_name == "support_credit"))
        assert len(audited.all()) == 3


def test_a_deduction_beyond_the_balance_is_refused(app, customer):
    with app.app_context():
        credits.purchase(SYSTEM, acme(customer), Decimal("5"), "Bank transfer", "TRX-9")
        with pytest.raises(credits.CreditRefused, match="has 5.00 credits left") as refused:
            credits.deduct(SYSTEM, acme(customer), Decimal("5.01"), "TCK-2")
        assert refused.value.field == "credits"
        credits.deduct(SYSTEM, acme(customer), Decimal("5"), "TCK-2")
        assert credits.balance(customer) == 0
        with pytest.raises(credits.CreditRefused):
            credits.deduct(SYSTEM, acme(customer), Decimal("0.01"), "TCK-3")


@pytest.mark.parametrize("amount, message", [(Decimal(0), "above zero"), (Decimal("-1"), "above zero"),
                                             (Decimal("1.001"), "two decimal places"),
                                             (Decimal("1e11"), "more credits than")])
def test_amounts_are_positive_with_at_most_two_places(app, customer, amount, message):
    with app.app_context():
        with pytest.raises(credits.CreditRefused, match=message):
            credits.purchase(SYSTEM, acme(customer), amount, "Other", "R")


def test_references_and_deployments_are_checked(app, customer):
    with app.app_context():
        other = create_customer(SYSTEM, {"name": "Other"}, "USD").id
        unit_of_work.commit()
        theirs = create_deployment(SYSTEM, other, "SBC", "Their SBC")
        credits.purchase(SYSTEM, acme(customer), Decimal("5"), "Other", "R")
        with pytest.raises(credits.CreditRefused, match="payment reference or PO number"):
            credits.purchase(SYSTEM, acme(customer), Decimal("1"), "Other", "  ")
        with pytest.raises(credits.CreditRefused, match="payment method"):
            credits.purchase(SYSTEM, acme(customer), Decimal("1"), "Bitcoin", "R")
        with pytest.raises(credits.CreditRefused, match="ticket reference"):
            credits.deduct(SYSTEM, acme(customer), Decimal("1"), "")
        with pytest.raises(credits.CreditRefused, match="not one of this customer's"):
            credits.deduct(SYSTEM, acme(customer), Decimal("1"), "TCK", theirs.id)
        assert credits.balance(customer) == Decimal(5)


def test_a_transaction_is_reversed_exactly_once_and_a_reversal_never(app, customer):
    with app.app_context():
        bought = credits.purchase(SYSTEM, acme(customer), Decimal("8"), "Other", "R-1")
        used = credits.deduct(SYSTEM, acme(customer), Decimal("3"), "TCK-7")
        undo = credits.reverse(SYSTEM, used, "Billed to the wrong customer")
        assert (undo.kind, undo.credits, undo.reverses_id, undo.ticket_reference) == ("reversal", Decimal(3), used.id,
                                                                                      "TCK-7")
        assert credits.balance(customer) == Decimal(8)
        with pytest.raises(credits.CreditRefused, match=f"reversed already, by #{undo.id}"):
            credits.reverse(SYSTEM, used, "again")
        with pytest.raises(credits.CreditRefused, match="A reversal is not reversed"):
            credits.reverse(SYSTEM, undo, "undo the undo")
        with pytest.raises(credits.CreditRefused, match="Say why"):
            credits.reverse(SYSTEM, bought, "   ")
        credits.reverse(SYSTEM, bought, "Payment bounced")
        assert credits.balance(customer) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditTransaction)) == 4


def test_a_purchase_already_spent_cannot_be_reversed_below_zero(app, customer):
    with app.app_context():
        bought = credits.purchase(SYSTEM, acme(customer), Decimal("4"), "Other", "R-1")
        credits.deduct(SYSTEM, acme(customer), Decimal("3"), "TCK-1")
        with pytest.raises(credits.CreditRefused, match="below zero"):
            credits.reverse(SYSTEM, bought, "Payment bounced")
        assert credits.balance(customer) == Decimal(1)


def test_the_log_is_newest_first_with_the_balance_after_each_transaction(app, customer):
    with app.app_context():
        deployment = create_deployment(SYSTEM, customer, "PBX", "Main")
        credits.purchase(SYSTEM, acme(customer), Decimal("10"), "Other", "R-1")
        used = credits.deduct(SYSTEM, acme(customer), Decimal("4"), "TCK-1", deployment.id)
        credits.deduct(SYSTEM, acme(customer), Decimal("1.5"), "TCK-2")
        credits.reverse(SYSTEM, used, "Wrong ticket")
        log = credits.log(SYSTEM, customer, FIRST, 2)
        assert log.balance == Decimal("8.50") and log.page.has_next
        assert [(r.transaction.kind, r.balance_after) for r in log.rows] == [("reversal", Decimal("8.50")),
                                                                              ("deduction", Decimal("4.50"))]
        older = credits.log(SYSTEM, customer, PageRequest(after=(log.page.items[-1].id,), at=3), 2)
        assert [(r.transaction.kind, r.balance_after, r.reversed_by is not None, r.reversible) for r in older.rows] == [
            ("deduction", Decimal("6.00"), True, False), ("purchase", Decimal("10.00"), False, True)]
        assert older.rows[0].deployment.deployment_number == "D-100001"


def _refused_on_the_database(app, customer):
    with app.app_context():
        with unit_of_work.unit():
            made = credits.purchase(SYSTEM, acme(customer), Decimal("5"), "Other", "R-1").id
        db.session.remove()  # no transaction of ours holds SQLite's write lock
        table = CreditTransaction.__table__
        for statement in (table.update().where(table.c.id == made).values(credits=Decimal(500)),
                          table.update().where(table.c.id == made).values(note="edited"),
                          table.delete().where(table.c.id == made)):
            with db.engine.connect() as connection:
                with pytest.raises(DatabaseError, match="never changed; reverse them instead"):
                    connection.execute(statement)
                    connection.commit()
        db.session.remove()
        assert credits.balance(customer) == Decimal(5)


def test_the_database_refuses_to_change_or_delete_a_transaction(app, customer):
    _refused_on_the_database(app, customer)


@pytest.mark.postgres
def test_postgresql_refuses_to_change_or_delete_a_transaction(pg_app):
    with pg_app.app_context():
        customer_id = create_customer(SYSTEM, {"name": "Ledger"}, "USD").id
        unit_of_work.commit()
    _refused_on_the_database(pg_app, customer_id)


def _two_deductions_at_once(app, customer_id):
    """Two deductions of 6 against a balance of 10: the customer lock lets exactly one through."""
    with app.app_context():
        with unit_of_work.unit():
            credits.purchase(SYSTEM, acme(customer_id), Decimal("10"), "Other", "R-1")
        db.session.remove()
    barrier, outcomes = threading.Barrier(4), []

    def deduct(ticket):
        with app.app_context():
            try:
                barrier.wait()
                with unit_of_work.unit():
                    credits.deduct(SYSTEM, acme(customer_id), Decimal("6"), ticket)
                outcomes.append("made")
            except credits.CreditRefused:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deduct, args=(f"TCK-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["made", "refused", "refused", "refused"]
    with app.app_context():
        assert credits.balance(customer_id) == Decimal(4)
        db.session.remove()


def test_concurrent_deductions_never_take_the_balance_below_zero(app, customer):
    _two_deductions_at_once(app, customer)


@pytest.mark.postgres
def test_concurrent_deductions_never_take_the_balance_below_zero_on_postgresql(pg_app):
    with pg_app.app_context():
        customer_id = create_customer(SYSTEM, {"name": "Racer"}, "USD").id
        unit_of_work.commit()
        db.session.remove()
    _two_deductions_at_once(pg_app, customer_id)


def test_the_ledger_checks_the_actor(app, customer):
    """Outside the actor's reach the ledger is not found (404); read-only staff may read it, not write it (403)."""
    from werkzeug.exceptions import Forbidden, NotFound

    from panel import actor as actors
    from panel.auth.models import StaffUser
    from panel.contacts.records import create_contact

    with app.app_context():
        other = create_customer(actors.SYSTEM, {"name": "Other"}, "USD").id
        contact, _ = create_contact(actors.SYSTEM, other, {"name": "Olga", "email": "olga@other.example"}, password="long enough pw")
        reader = StaffUser(email="reader@example.com", name="Reader", role="readonly", password_hash="x")
        db.session.add(reader)
        db.session.flush()
        outsider, readonly = actors.contact(contact), actors.staff(reader)
        with pytest.raises(NotFound):
            credits.log(outsider, customer, FIRST, 10)
        with pytest.raises(NotFound):
            credits.purchase(outsider, acme(customer), Decimal("1"), "Other", "R")
        with pytest.raises(Forbidden):
            credits.purchase(readonly, acme(customer), Decimal("1"), "Other", "R")
        assert credits.log(readonly, customer, FIRST, 10).rows == []
        assert credits.log(outsider, other, FIRST, 10).rows == []
