"""The hot pages issue the same number of SQL statements with 10 rows behind them as with 1,000:
no N+1 queries, whatever the data grows to. (Counts, not timings; timings live in tests/bench.)"""
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from panel import unit_of_work
from panel.api.models import ApiToken
from panel.api.tokens import issue_token
from panel.calls.models import HourlySummary
from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices.models import Invoice, InvoiceLine, Payment
from tests.factories import CustomerFactory
from tests.helpers import Statements

START = datetime(2025, 1, 1, tzinfo=UTC)


def grow(app, customer_id: int, have: int, want: int) -> None:
    """Rows number `have`..`want`-1 of every kind the pages show: customers, contacts of the busy customer
    (each with an audit entry), its hourly figures, invoices with a line each, and payments."""
    with app.app_context():
        for i in range(have, want):
            db.session.add(Customer(name=f"Query Co {i:04d}", status="Active", currency="USD"))
            db.session.add(Contact(customer_id=customer_id, name=f"Person {i:04d}", email=f"person{i}@query.example",
                                   contact_type="Technical", public_notes=f"note {i}"))
            hour = START + timedelta(hours=i)
            db.session.add(HourlySummary(customer_id=customer_id, hour=hour, calls=5, answered=3, seconds=300,
                                         billed_seconds=360, cost=Decimal("0.5"), charge=Decimal("0.75")))
            day = START + timedelta(days=i)
            invoice = Invoice(number=f"INV-Q{i:05d}", customer_id=customer_id, time_frame="daily", period_start=day,
                              period_end=day + timedelta(days=1), currency="USD", calls=5, billed_seconds=360,
                              total=Decimal("0.75"), status="issued", created_by="test")
            invoice.lines.append(InvoiceLine(customer_id=customer_id, position=1, description="Calls", calls=5,
                                             answered=3, billed_seconds=360, charge=Decimal("0.75")))
            db.session.add(invoice)
            db.session.add(Payment(customer_id=customer_id, amount=Decimal(1), currency="USD", method="Cash",
                                   status="Completed", received_on=date(2025, 1, 1), created_by="test"))
            if i % 200 == 199:
                db.session.commit()
        # The token's last use is saved at most once a minute: make both rounds save it.
        for token in db.session.scalars(sa.select(ApiToken)):
            token.last_used_at = None
        db.session.commit()
        db.session.remove()


def count_queries(app, call) -> int:
    with Statements(app) as statements:
        response = call()
    assert response.status_code < 400, (response.status_code, response.get_data(as_text=True)[:500])
    return len(statements.seen)


def pages(customer_id: int, contact_id: int, token: str):
    api = {"Authorization": f"Bearer {token}"}
    saves = iter(range(100))

    def edit():  # a real change each time, so each save writes and audits
        return {"name": "Person 0000", "email": "person0@query.example", "contact_type": "Technical", "phone": "",
                "mobile": "", "public_notes": f"saved {next(saves)}", "private_notes": "", "save_action": "continue"}

    return {
        "customers list": lambda c: c.get("/customers"),
        "customers search": lambda c: c.get("/customers?q=Query+Co"),
        "Main tab": lambda c: c.get(f"/customers/{customer_id}"),
        "contacts partial": lambda c: c.get(f"/customers/{customer_id}/contacts", htmx=True),
        "Global Contacts search": lambda c: c.get("/contacts?q=person"),
        "audit log": lambda c: c.get("/audit"),
        "customer audit log": lambda c: c.get(f"/customers/{customer_id}/audit"),
        **{f"Summary {frame}": (lambda c, f=frame: c.get(f"/customers/{customer_id}/summary?frame={f}", htmx=True))
           for frame in ("live", "daily", "weekly", "monthly")},
        "Invoices section": lambda c: c.get(f"/customers/{customer_id}/invoices", htmx=True),
        "Payments section": lambda c: c.get(f"/customers/{customer_id}/payments", htmx=True),
        "inline contact save": lambda c: c.post(f"/customers/{customer_id}/contacts/{contact_id}", edit(), htmx=True),
        "invoice API page": lambda c: c.client.get("/api/v1/invoices?limit=100", headers=api),
    }


def test_hot_pages_issue_as_many_queries_with_1000_rows_as_with_10(app, as_role):
    client = as_role("staff")
    client.token()  # fetched now, not inside the first counted request
    with app.app_context():
        busy_id = CustomerFactory(name="Busy Carrier").id
        token = issue_token("counts", ["invoices"])
        unit_of_work.commit()
    grow(app, busy_id, 0, 10)
    with app.app_context():
        contact_id = db.session.query(Contact.id).filter(Contact.email == "person0@query.example").scalar()
    checks = pages(busy_id, contact_id, token)
    small = {name: count_queries(app, lambda call=call: call(client)) for name, call in checks.items()}
    grow(app, busy_id, 10, 1000)
    large = {name: count_queries(app, lambda call=call: call(client)) for name, call in checks.items()}
    assert large == small
    assert max(small.values()) <= 15, small
