"""Every invoice can be paid to zero: random call charges with four places in any currency of the table →
Generate Invoice → allocate exactly the due the page shows → Paid, the API says due 0 in the currency's
places, and the balance moves by the total. Over random partial allocations, the dues always add up to the
totals less what is allocated, to the minor unit."""
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panel import money, unit_of_work
from panel.actor import SYSTEM
from panel.api.tokens import issue_token
from panel.customers.accounts import create_customer
from panel.invoices.balance import balance_of
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices import billing
from panel.invoices.models import Invoice, Payment
from panel.invoices.payments import allocate, open_invoices, record_payment, set_status
from tests.helpers import migrated_app
from tests.invoices.data import NOW, add_hours, at

PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CURRENCIES = sorted(money.MINOR_UNITS)
# Four places, as the roll-up holds them; often just off a half unit, where rounding is decided.
charges = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("2000"), places=4),
    st.sampled_from(["0.0049", "0.0050", "0.0051", "0.4999", "0.5000", "0.0005", "12.3450", "1.9950"]).map(Decimal),
)
_serial = iter(range(10**9))


def staff(app, as_role):
    """The client signed in as staff once per test (not once per example)."""
    if "TEST_STAFF_CLIENT" not in app.config:
        app.config["TEST_STAFF_CLIENT"] = as_role("staff")
    return app.config["TEST_STAFF_CLIENT"]


def shown(body: str, testid: str) -> str:
    """The figure a person reads in the element with this data-testid, without its currency code."""
    text = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', body).group(1)
    return text.rsplit(" ", 1)[0]


def api_invoice(client, token: str, number: str) -> dict:
    response = client.client.get(f"/api/v1/invoices/{number}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@PROPERTY
@given(currency=st.sampled_from(CURRENCIES), day_charges=st.lists(charges, min_size=1, max_size=10))
def test_allocating_the_due_shown_on_the_page_pays_the_invoice(app, as_role, currency, day_charges):
    client = staff(app, as_role)
    with app.app_context(), unit_of_work.unit():
        customer = create_customer(SYSTEM, {"name": f"Paid Voice {next(_serial)}", "status": "Active",
                                            "channel_limit": 5}, currency).id
        # The week from Monday 2 November 2026: the charges spread over its days, a few to a day.
        add_hours(customer, *((f"2026-11-{2 + i % 7:02d}T{i // 7:02d}", 1, str(c)) for i, c in enumerate(day_charges)))
        token = issue_token(f"billing {customer}", ["invoices"])
        before = balance_of(customer)
    made = client.post(f"/customers/{customer}/invoices/generate", {"frame": "weekly", "period": ["2026-11-02"]},
                       htmx=True)
    assert made.status_code == 200, made.get_data(as_text=True)
    with app.app_context():
        invoice = db.session.scalar(sa.select(Invoice).where(Invoice.customer_id == customer))
        invoice_id, number, total = invoice.id, invoice.number, invoice.total
        lines = [line.charge for line in invoice.lines]
        days = {}
        for i, c in enumerate(day_charges):
            days[i % 7] = days.get(i % 7, Decimal(0)) + c
        assert lines == [money.billed(days[d], currency) for d in sorted(days)]
        assert total == sum(lines, Decimal(0)) and total == money.billed(total, currency)
        assert balance_of(customer) == before - total

    page = client.get(f"/customers/{customer}/invoices/{invoice_id}").get_data(as_text=True)
    due = shown(page, "invoice-due")
    assert money.parse_amount(due, money.places(currency)) == total
    if total == 0:  # nothing to pay: settled as made
        with app.app_context():
            assert db.session.get(Invoice, invoice_id).status == "paid"
    else:
        recorded = client.post(f"/customers/{customer}/payments/new", {
            "amount": due, "method": "Bank transfer", "reference": number, "status": "Completed",
            "received_on": "2026-11-20"})
        assert recorded.status_code == 303, recorded.get_data(as_text=True)
        with app.app_context():
            payment_id = db.session.scalar(sa.select(Payment.id).where(Payment.customer_id == customer))
        url = f"/customers/{customer}/payments/{payment_id}/allocate"
        form = client.get(url).get_data(as_text=True)
        offered = re.search(rf'<small id="due-{invoice_id}" class="help">up to ([^<]*)</small>', form)
        assert offered.group(1) == due
        allocated = client.post(url, {f"amount-{invoice_id}": due})
        assert allocated.status_code == 303, allocated.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).status == "paid"
        assert open_invoices(SYSTEM, customer) == []
        assert balance_of(customer) == before  # down by the total, up by the payment of exactly that
    answer = api_invoice(client, token, number)
    assert (answer["status"], answer["due"], answer["total"]) == (
        "paid", money.plain(Decimal(0), currency), money.plain(total, currency))
    page = client.get(f"/customers/{customer}/invoices/{invoice_id}").get_data(as_text=True)
    assert money.parse_amount(shown(page, "invoice-due"), money.places(currency)) == 0


@PROPERTY
@given(currency=st.sampled_from(CURRENCIES), day_charges=st.lists(charges, min_size=2, max_size=5), data=st.data())
def test_over_partial_allocations_the_dues_add_up_to_the_totals_less_the_allocations(app, as_role, currency,
                                                                                    day_charges, data):
    client = staff(app, as_role)
    with app.app_context(), unit_of_work.unit():
        customer = create_customer(SYSTEM, {"name": f"Part Voice {next(_serial)}", "status": "Active",
                                            "channel_limit": 5}, currency)
        add_hours(customer.id, *((f"2026-11-{2 + i:02d}T08", 1, str(c)) for i, c in enumerate(day_charges)))
        invoices = billing.generate(SYSTEM, customer, "daily", [at(f"2026-11-{2 + i:02d}") for i in range(len(day_charges))],
                                    now=NOW).created
        numbers = [invoice.number for invoice in invoices]
        totals = sum((invoice.total for invoice in invoices), Decimal(0))
        payment = record_payment(SYSTEM, customer, {"amount": money.billed(totals + 1, currency), "method": "Cash",
                                            "reference": "P", "status": "Completed", "received_on": NOW.date()})
        token = issue_token(f"billing {customer.id}", ["invoices"])
        unit, allocated_total = money.unit(currency), Decimal(0)
        for _ in range(data.draw(st.integers(1, 4), label="rounds")):
            rows = open_invoices(SYSTEM, customer.id)
            if not rows:
                break
            chosen = data.draw(st.lists(st.sampled_from(rows), min_size=1, unique_by=lambda r: r.invoice.id),
                               label="invoices")
            amounts = {row.invoice.id: unit * data.draw(st.integers(1, int(row.due / unit)), label="units")
                       for row in chosen}
            allocate(SYSTEM, payment, amounts)
            allocated_total += sum(amounts.values())
        customer_id, payment_id = customer.id, payment.id
        made = [(invoice.id, invoice.total) for invoice in invoices]
    answers = [api_invoice(client, token, number) for number in numbers]
    dues = [money.parse_amount(a["due"], money.places(currency)) for a in answers]
    assert sum(dues, Decimal(0)) == totals - allocated_total
    assert all(a["due"] == money.plain(Decimal(a["due"]), currency) for a in answers)  # the currency's places
    assert all((a["status"] == "paid") == (due == 0) for a, due in zip(answers, dues))
    section = client.get(f"/customers/{customer_id}/invoices", htmx=True).get_data(as_text=True)
    assert all(f'<td class="num">{money.show(due, currency)}</td>' in section for due in dues)  # the same dues
    with app.app_context():
        set_status(SYSTEM, db.session.get(Payment, payment_id), "Cancelled")  # takes every allocation back
        assert [db.session.get(Invoice, i).status for i, _ in made] == ["paid" if t == 0 else "issued" for _, t in made]


def settle_every_invoice() -> None:
    """Every invoice is billed to the minor unit, and allocating what each open invoice shows as due settles
    every one of them."""
    invoices = db.session.scalars(sa.select(Invoice)).all()
    assert len(invoices) > 3
    for invoice in invoices:
        assert invoice.total == money.billed(invoice.total, invoice.currency) == sum(
            (line.charge for line in invoice.lines), Decimal(0))
    for customer_id in sorted({invoice.customer_id for invoice in invoices}):
        rows = open_invoices(SYSTEM, customer_id)
        if rows:
            payment = record_payment(SYSTEM, db.session.get(Customer, customer_id), {
                "amount": sum((r.due for r in rows), Decimal(0)), "method": "Cash", "reference": "settle",
                "status": "Completed", "received_on": NOW.date()})
            allocate(SYSTEM, payment, {row.invoice.id: row.due for row in rows})
    assert db.session.scalars(sa.select(Invoice.number).where(Invoice.status == "issued")).all() == []


def test_every_invoice_of_the_demo_data_can_be_paid_to_zero(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        settle_every_invoice()


@pytest.mark.postgres
def test_every_invoice_of_the_large_seed_can_be_paid_to_zero(postgres, tmp_path):
    """The large seed at a small scale: the same bulk load, roll-up and Auto Generate as `--scale large`."""
    from panel.seed_large import seed_large

    app = migrated_app(postgres.create())
    try:
        with app.app_context():
            seed_large(str(tmp_path), customers=40, contacts_each=2, busy=8, calls=4_000, days=21, audit=200,
                       echo=lambda line: None)
            settle_every_invoice()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
