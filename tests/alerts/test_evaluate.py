"""The worker's alerts step on stored figures: firings once per crossing with their mail and audit entries,
repeats, global against per-customer alerts, penalties that end by themselves, and two workers at once."""
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import actor as actors
from panel import unit_of_work
from panel.actor import SYSTEM
from panel.alerts import evaluate
from panel.alerts.evaluate import alerts_job, end_penalties
from panel.alerts.models import Alert, AlertFiring, AlertPenalty, AlertState, BalanceCache
from panel.alerts.records import create_alert
from panel.audit.models import AuditEntry
from panel.auth.models import StaffUser
from panel.customers.accounts import update_customer
from panel.customers.models import Customer
from panel.extensions import db
from panel.mail.models import MailMessage
from tests.factories import ContactFactory, CustomerFactory, HourlySummaryFactory, LedgerEntryFactory, StaffUserFactory

NOW = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)


def alert_values(**changes) -> dict:
    values = {"name": "Low balance", "figure": "balance", "operator": "<", "threshold": Decimal(5),
              "reset_threshold": None, "repeat_minutes": None, "contact_types": "Billing", "extra_addresses": "",
              "subject": "", "body": "", "penalty_minutes": None, "enabled": True}
    return values | changes


def add_alert(customer_id, **changes) -> int:
    customer = db.session.get(Customer, customer_id) if customer_id else None
    with unit_of_work.unit():
        alert = create_alert(SYSTEM, customer, alert_values(**changes))
    return alert.id


def charge(customer_id, amount):
    kind = "charge" if amount < 0 else "payment"
    LedgerEntryFactory(customer_id=customer_id, kind=kind, amount=Decimal(amount))


def firings(customer_id=None) -> list[AlertFiring]:
    statement = sa.select(AlertFiring).order_by(AlertFiring.id)
    if customer_id is not None:
        statement = statement.where(AlertFiring.customer_id == customer_id)
    return list(db.session.scalars(statement))


def test_a_low_balance_alert_fires_once_per_crossing_mails_billing_contacts_and_is_audited(app):
    with app.app_context():
        customer = CustomerFactory(name="Acme", email="office@acme.example").id
        ContactFactory(customer_id=customer, email="bill@acme.example", contact_type="Billing")
        ContactFactory(customer_id=customer, email="tech@acme.example", contact_type="Technical")
        charge(customer, 10)
        alert = add_alert(customer, reset_threshold=Decimal(8), extra_addresses="cfo@acme.example",
                          subject="{customer}: balance {value}", body="Balance of {customer} is {value} < {threshold}.")
        assert alerts_job(NOW) is None
        charge(customer, -7)  # balance 3
        assert alerts_job(NOW) == "1 fired"
        assert alerts_job(NOW + timedelta(minutes=1)) is None  # still crossed: once per crossing
        [firing] = firings(customer)
        assert (firing.alert_id, firing.value, firing.recipients) == (alert, Decimal("3.0000"),
                                                                      "bill@acme.example, cfo@acme.example")
        mails = db.session.scalars(sa.select(MailMessage).order_by(MailMessage.id)).all()
        assert [(m.to_addr, m.subject) for m in mails] == [("bill@acme.example", "Acme: balance 3.00"),
                                                           ("cfo@acme.example", "Acme: balance 3.00")]
        assert mails[0].body == "Balance of Acme is 3.00 < 5.00."
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.table_name == "alert_firing"))
        assert entry.customer_id == customer and entry.user_label == "system"

        charge(customer, 4)  # 7: above the threshold but below the reset level
        alerts_job(NOW + timedelta(minutes=2))
        charge(customer, -3)  # 4 again: not re-armed, quiet
        alerts_job(NOW + timedelta(minutes=3))
        assert len(firings(customer)) == 1
        charge(customer, 5)  # 9: re-armed
        alerts_job(NOW + timedelta(minutes=4))
        charge(customer, -6)  # 3: a new crossing
        alerts_job(NOW + timedelta(minutes=5))
        assert len(firings(customer)) == 2
        state = db.session.get(AlertState, (alert, customer))
        assert state.crossed and state.fired_count == 2 and state.last_fired_at == NOW + timedelta(minutes=5)
        # The worker keeps the balance cache the credit check reads.
        assert db.session.get(BalanceCache, customer).balance == Decimal(3)


def test_a_repeat_interval_fires_again_while_still_crossed(app):
    with app.app_context():
        customer = CustomerFactory(channels_in_use=40).id
        add_alert(customer, name="Busy", figure="channels", operator=">=", threshold=Decimal(30), repeat_minutes=30)
        alerts_job(NOW)
        alerts_job(NOW + timedelta(minutes=29))
        assert len(firings(customer)) == 1
        alerts_job(NOW + timedelta(minutes=30))
        assert len(firings(customer)) == 2


def test_spend_and_asr_come_from_the_hourly_roll_up(app):
    with app.app_context():
        customer = CustomerFactory().id
        HourlySummaryFactory(customer_id=customer, hour=datetime(2026, 11, 30, 23, tzinfo=UTC), charge=Decimal(50))
        HourlySummaryFactory(customer_id=customer, hour=datetime(2026, 12, 1, 9, tzinfo=UTC), charge=Decimal(20))
        HourlySummaryFactory(customer_id=customer, hour=datetime(2026, 12, 1, 11, tzinfo=UTC), calls=10, answered=2,
                             charge=Decimal(5))
        add_alert(customer, name="Spend", figure="spend_today", operator=">", threshold=Decimal(24))
        add_alert(customer, name="ASR", figure="asr_hour", operator="<", threshold=Decimal(30))
        alerts_job(NOW)
        assert [(f.alert_name, f.value) for f in firings(customer)] == [("Spend", Decimal(25)), ("ASR", Decimal(20))]


def test_global_alerts_apply_to_customers_without_alerts_of_their_own(app):
    with app.app_context():
        plain, own = CustomerFactory(name="Plain").id, CustomerFactory(name="Own").id
        charge(plain, -1)
        charge(own, -1)
        add_alert(None, name="Global low", threshold=Decimal(0))
        add_alert(own, name="Own busy", figure="channels", operator=">", threshold=Decimal(100))
        alerts_job(NOW)
        assert [(f.customer_id, f.alert_name) for f in firings()] == [(plain, "Global low")]
        # A disabled own alert still means the customer has alerts of its own.
        with unit_of_work.unit():
            db.session.get(Alert, db.session.scalar(sa.select(Alert.id).where(Alert.customer_id == own))).enabled = False
        alerts_job(NOW + timedelta(minutes=1))
        assert len(firings()) == 1


def _penalised(customer) -> AlertPenalty:
    add_alert(customer, penalty_minutes=60)
    charge(customer, -1)
    alerts_job(NOW)
    assert db.session.get(Customer, customer).status == "Penalty"
    return db.session.scalar(sa.select(AlertPenalty).where(AlertPenalty.customer_id == customer))


def test_a_penalty_ends_by_itself_and_the_previous_status_comes_back(app):
    with app.app_context():
        customer = CustomerFactory(status="Active").id
        penalty = _penalised(customer)
        assert penalty.ends_at == NOW + timedelta(minutes=60) and penalty.previous_status == "Active"
        assert firings(customer)[0].penalty
        with unit_of_work.unit():
            assert end_penalties(NOW + timedelta(minutes=59)) == 0
        assert db.session.get(Customer, customer).status == "Penalty"
        alerts_job(NOW + timedelta(minutes=60))
        assert db.session.get(Customer, customer).status == "Active"
        assert db.session.get(AlertPenalty, penalty.id).outcome == "restored"
        changes = db.session.scalars(sa.select(AuditEntry.data).where(AuditEntry.table_name == "customer",
                                                                      AuditEntry.row_id == str(customer))).all()
        assert sum('"status": ["Active", "Penalty"]' in d for d in changes) == 1
        assert sum('"status": ["Penalty", "Active"]' in d for d in changes) == 1


@pytest.mark.parametrize("staff_sets", [["Inactive"], ["Active", "Penalty"]])
def test_a_penalty_leaves_a_status_staff_changed_meanwhile(app, staff_sets):
    with app.app_context():
        customer = CustomerFactory(status="Active").id
        penalty = _penalised(customer)
        StaffUserFactory(role="staff")
        user = db.session.scalar(sa.select(StaffUser))
        for status in staff_sets:
            with unit_of_work.unit():
                actors.act_as(actors.staff(user))
                update_customer(actors.current(), db.session.get(Customer, customer), {"status": status}, ("status",))
        actors.act_as(SYSTEM)
        alerts_job(NOW + timedelta(hours=2))
        assert db.session.get(Customer, customer).status == staff_sets[-1]
        assert db.session.get(AlertPenalty, penalty.id).outcome == "kept"


@pytest.mark.postgres
@pytest.mark.parametrize("stored_before", [False, True])
def test_two_workers_fire_a_crossing_once(pg_app, monkeypatch, stored_before):
    """Both workers read the same state (none yet, or armed), both decide to fire; the conditional write
    lets one of them. Each thread has its own session (its own app context)."""
    app = pg_app
    with app.app_context():
        customers = [CustomerFactory().id for _ in range(3)]
        add_alert(None, threshold=Decimal(0))
        if stored_before:
            alerts_job(NOW)  # armed states stored (balances 0: not below 0)
            assert db.session.scalar(sa.select(sa.func.count()).select_from(AlertState)) == 3
        for customer in customers:
            charge(customer, -2)
        db.session.remove()
    barrier = threading.Barrier(2, timeout=20)
    original, waited = evaluate._states, threading.local()

    def states(ids):
        seen = original(ids)
        if not getattr(waited, "done", False):
            waited.done = True
            barrier.wait()  # both workers have read the same states before either writes
        return seen

    monkeypatch.setattr(evaluate, "_states", states)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                results.append(alerts_job(NOW + timedelta(minutes=1)))
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with app.app_context():
        assert sorted(f.customer_id for f in firings()) == sorted(customers)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == 0  # no contacts, no e-mail
        db.session.remove()
