"""Twenty customers asking for a block at the same moment get twenty different blocks, on both databases."""
import threading

import pytest
import sqlalchemy as sa

from panel.customers.accounts import create_customer
from panel.extensions import db
from panel.numbering.allocation import NumberRange, assign_next_block, save_range
from panel.numbering.models import NumberBlock


def race(app, n=20):
    with app.app_context():
        save_range(NumberRange(1000, 999_999, 10))
        db.session.commit()
        customers = [create_customer({"name": f"C{i}"}, "USD").id for i in range(n)]
        db.session.remove()
    barrier, errors = threading.Barrier(n), []

    def ask(customer_id):
        try:
            with app.app_context():
                barrier.wait()
                assign_next_block(customer_id)
                db.session.remove()
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=ask, args=(c,)) for c in customers]
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
