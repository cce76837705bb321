"""On PostgreSQL, several requests charging the same key at the same moment make one charge at the processor."""
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.cards import cards
from panel.cards.models import CardCharge, StoredCard
from panel.customers.models import Customer
from panel.extensions import db
from tests.cards.test_charges import add_card, intents_for
from tests.factories import CustomerFactory


@pytest.fixture
def pg_cards(pg_app, localstripe):
    saved = dict(pg_app.config)
    pg_app.config.update(localstripe.settings())
    yield pg_app
    pg_app.config.clear()
    pg_app.config.update(saved)


def test_five_simultaneous_charges_of_one_key_make_one_charge(pg_cards):
    with pg_cards.app_context():
        customer = CustomerFactory(name="Racing Ltd")
        unit_of_work.commit()
        customer_id, card_id = customer.id, add_card(customer).id
        db.session.remove()
    start, results, errors = threading.Barrier(5), [], []

    def press():
        with pg_cards.app_context():
            try:
                start.wait(timeout=10)
                charge = cards.charge_card(SYSTEM, db.session.get(Customer, customer_id),
                                           db.session.get(StoredCard, card_id), Decimal("10"), "USD",
                                           "order:O-race", "Order O-race")
                results.append((charge.attempt, charge.status))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=press) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(results) == 5
    assert {attempt for attempt, _ in results} == {1}
    assert ("1", "succeeded") in {(str(a), s) for a, s in results}
    assert {status for _, status in results} <= {"succeeded", "unknown", "pending"}
    with pg_cards.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CardCharge)) == 1
        assert len(intents_for("order:O-race:1")) == 1
