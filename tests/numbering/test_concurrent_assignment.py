"""Twenty "+" requests at the same moment, for twenty customers, get twenty different blocks, on both databases."""
import threading

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.customers.accounts import create_customer
from panel.extensions import db
from panel.numbering.allocation import NumberRange, save_range
from panel.numbering.models import NumberBlock


def race(app, n=20):
    from panel.staff import create_staff_user
    from tests.helpers import PASSWORD, PanelClient

    with app.app_context():
        save_range(NumberRange(1000, 999_999, 10))
        db.session.commit()
        customers = [create_customer(SYSTEM, {"name": f"C{i}"}, "USD").id for i in range(n)]
        unit_of_work.commit()
        create_staff_user("racer@example.com", PASSWORD, "staff")
        unit_of_work.commit()
        db.session.remove()
    clients = []
    for _ in customers:
        client = PanelClient(app.test_client())
        client.login("racer@example.com")
        client.token()
        clients.append(client)
    barrier, errors = threading.Barrier(n), []

    def ask(client, customer_id):
        try:
            barrier.wait()
            response = client.post(f"/customers/{customer_id}/number-blocks", htmx=True)
            assert response.status_code == 200, response.get_data(as_text=True)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=ask, args=(cl, c)) for cl, c in zip(clients, customers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        starts = db.session.scalars(sa.select(NumberBlock.start_number).order_by(NumberBlock.start_number)).all()
        owners = db.session.scalars(sa.select(NumberBlock.customer_id)).all()
        db.session.remove()
    assert starts == [1000 + 10 * k for k in range(n)]  # the lowest n blocks, each once
    assert sorted(owners) == sorted(customers)


def test_twenty_concurrent_requests_get_different_blocks(app):
    race(app)


@pytest.mark.postgres
def test_twenty_concurrent_requests_get_different_blocks_on_postgresql(pg_app):
    race(pg_app)
