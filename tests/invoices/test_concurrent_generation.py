"""Ten staff press Generate Invoice for the same days at the same moment: one invoice per day is made,
every other press is told which invoice already covers it; on both databases. The PostgreSQL test
also proves the exclusion constraint holds without the application's customer lock."""
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.extensions import db
from panel.invoices.models import Invoice
from tests.invoices.data import add_hours


def race(app, customer_id, n=10):
    from panel.staff import create_staff_user
    from tests.helpers import PASSWORD, PanelClient

    with app.app_context():
        add_hours(customer_id, ("2026-11-02T09", 10, "1.50"), ("2026-11-03T10", 3, "0.30"))
        create_staff_user("racer@example.com", PASSWORD, "staff")
        unit_of_work.commit()
        db.session.remove()
    clients = []
    for _ in range(n):
        client = PanelClient(app.test_client())
        client.login("racer@example.com")
        client.token()
        clients.append(client)
    barrier, answers = threading.Barrier(n), []

    def press(client):
        barrier.wait()
        response = client.post(f"/customers/{customer_id}/invoices/generate",
                               {"frame": "daily", "period": ["2026-11-02", "2026-11-03"]}, htmx=True)
        answers.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=press, args=(client,)) for client in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(code for code, _ in answers)
    assert codes == [200] + [422] * (n - 1), codes
    assert all("already invoiced in INV-00000" in body for code, body in answers if code == 422)
    with app.app_context():
        made = db.session.execute(sa.select(Invoice.number, Invoice.period_start).order_by(Invoice.id)).all()
        db.session.remove()
    assert [number for number, _ in made] == ["INV-000001", "INV-000002"]


def test_ten_concurrent_generate_presses_make_each_invoice_once(app, customer):
    race(app, customer)


@pytest.mark.postgres
def test_ten_concurrent_generate_presses_make_each_invoice_once_on_postgresql(pg_app):
    from panel.customers.accounts import create_customer

    with pg_app.app_context():
        customer_id = create_customer(SYSTEM, {"name": "Racer"}, "USD").id
        unit_of_work.commit()
    race(pg_app, customer_id)


@pytest.mark.postgres
def test_postgresql_refuses_overlapping_invoices_from_two_sessions_without_any_lock(pg_app):
    """Two transactions insert overlapping invoices; the second waits for the first and then fails."""
    from panel.customers.accounts import create_customer

    with pg_app.app_context():
        customer_id = create_customer(SYSTEM, {"name": "Overlap"}, "USD").id
        unit_of_work.commit()
        engine = db.engine
        db.session.remove()

    def insert(connection, number, start, end):
        connection.execute(Invoice.__table__.insert().values(
            number=number, customer_id=customer_id, time_frame="weekly", period_start=start, period_end=end,
            currency="USD", calls=0, billed_seconds=0, total=0, status="issued", created_by="test",
            created_at=datetime(2026, 11, 22, tzinfo=UTC), void_reason=""))

    first, second = engine.connect(), engine.connect()
    try:
        first.begin()
        insert(first, "INV-A", datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC))
        errors = []

        def other():
            try:
                with second.begin():
                    insert(second, "INV-B", datetime(2026, 11, 8, tzinfo=UTC), datetime(2026, 11, 15, tzinfo=UTC))
            except sa.exc.IntegrityError as error:
                errors.append(error)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # waiting on the first transaction's row
        first.commit()
        thread.join(10)
        assert len(errors) == 1 and "ex_invoice_period_overlap" in str(errors[0])
        # A void invoice frees its period: the same overlapping insert then succeeds.
        with second.begin():
            second.execute(sa.text("UPDATE invoice SET status = 'void' WHERE number = 'INV-A'"))
            insert(second, "INV-B", datetime(2026, 11, 8, tzinfo=UTC), datetime(2026, 11, 15, tzinfo=UTC))
    finally:
        first.close()
        second.close()
