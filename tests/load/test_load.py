"""50 locust users reading and writing at once for 2 minutes against gunicorn + PostgreSQL: no errors, and one
audit entry per acknowledged write, and the chain intact (issues 8 and 18, "Load").

Gunicorn runs as a subprocess on a free port against the test's PostgreSQL database, seeded with the
small demo data set; locust runs tests/load/locustfile.py headless beside it and its CSV gives the figures. Each write sets a value no other write uses, so an acknowledged write is a real
change and its audit entry can be found by that value. LOAD_SECONDS and LOAD_USERS shorten a local run.
"""
import json
import os
from collections import Counter

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.extensions import db
from tests.load.harness import Gunicorn, run_locust

pytestmark = pytest.mark.postgres

USERS = int(os.environ.get("LOAD_USERS", "50"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "120"))
STAFF = [f"load{i}@example.com" for i in range(5)]
PASSWORD = "load test password 123"
READS = ("customers list", "customer search", "Main tab", "contacts partial", "Global Contacts search",
         "customer audit log", "Summary tab", "invoice API page", "contact edit form", "customer edit form")


def _pools(app):
    """Rows the users work on: a few customers (so writes collide), their contacts, and uninvoiced days."""
    from panel.calls.models import HourlySummary
    from panel.contacts.models import Contact
    from panel.customers.models import Customer
    from panel.invoices.models import Invoice

    with app.app_context():
        customers = db.session.scalars(sa.select(Customer.id).where(Customer.status == "Active")
                                       .order_by(Customer.id).limit(12)).all()
        contacts = db.session.execute(sa.select(Contact.customer_id, Contact.id)
                                      .where(Contact.customer_id.in_(customers)).order_by(Contact.id)).all()
        day = sa.func.date_trunc("day", HourlySummary.hour)
        invoiced = sa.select(Invoice.customer_id).distinct()
        days = db.session.execute(
            sa.select(HourlySummary.customer_id, day).where(HourlySummary.customer_id.not_in(invoiced))
            .where(HourlySummary.hour < sa.func.date_trunc("day", sa.func.now() - sa.text("interval '1 day'")))
            .group_by(HourlySummary.customer_id, day).order_by(HourlySummary.customer_id, day).limit(40)).all()
        db.session.remove()
    return customers, [tuple(c) for c in contacts], [(c, d.strftime("%Y-%m-%d")) for c, d in days]


def test_fifty_locust_users_for_two_minutes_get_no_errors_and_every_acknowledged_write_is_audited_once(pg_app, tmp_path):
    from panel.api.tokens import issue_token
    from panel.audit.chain import verify_chain
    from panel.audit.models import AuditEntry
    from panel.invoices.models import Invoice
    from panel.seed import seed_demo_data
    from panel.options import set_option
    from panel.staff import create_staff_user
    from panel.twofactor.factors import REQUIRE_OPTION

    with pg_app.app_context():
        seed_demo_data(str(tmp_path))
        for email in STAFF:
            create_staff_user(email, PASSWORD, "admin")
            unit_of_work.commit()
        # Its admins sign in with a password only, as an admin chooses in Settings → Two-factor sign-in.
        set_option(REQUIRE_OPTION, "nobody")
        unit_of_work.commit()
        token = issue_token("load test", ["invoices"])
        unit_of_work.commit()
        before = db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0
        invoices_before = db.session.scalar(sa.select(sa.func.count()).select_from(Invoice))
        url = pg_app.config["SQLALCHEMY_DATABASE_URI"]
        db.session.remove()
    pools = _pools(pg_app)
    assert len(pools[0]) >= 5 and pools[1] and pools[2], pools

    customers, contacts, days = pools
    setup = {"staff": [[email, PASSWORD] for email in STAFF], "customers": customers, "contacts": contacts,
             "days": days, "api_token": token, "ledger": str(tmp_path / "ledger.jsonl")}
    with Gunicorn(url, str(tmp_path / "instance")) as server:
        stats = run_locust(f"http://127.0.0.1:{server.port}", setup, tmp_path, USERS, SECONDS)
        log = server.output()

    total = stats["Aggregated"]
    print(f"\n{USERS} users, {SECONDS:.0f} s (locust): {int(total['Request Count']):,} requests, "
          f"{float(total['Requests/s']):.1f}/s, median {total['50%']} ms, p95 {total['95%']} ms, p99 {total['99%']} ms")
    assert int(total["Failure Count"]) == 0, log  # a read answered other than 200, or a write 5xx
    for name in READS:
        assert int(stats[name]["Request Count"]) > 0, name
    ledger = [json.loads(line) for line in (tmp_path / "ledger.jsonl").read_text().splitlines()]
    phones_sent = {e["value"]: (e["id"], e["who"]) for e in ledger if e["kind"] == "contact phone"}
    lines_sent = {e["value"]: (e["id"], e["who"]) for e in ledger if e["kind"] == "customer line"}
    invoices_made = [e["value"] for e in ledger if e["kind"] == "invoice"]
    assert phones_sent and lines_sent, "no write was acknowledged"

    with pg_app.app_context():
        entries = db.session.execute(sa.select(AuditEntry).where(AuditEntry.id > before)
                                     .order_by(AuditEntry.id)).scalars().all()
        created = db.session.scalars(sa.select(Invoice).where(Invoice.number.in_(invoices_made))).all()
        invoices_after = db.session.scalar(sa.select(sa.func.count()).select_from(Invoice))
        with db.engine.connect() as connection:
            chain = verify_chain(connection)
        db.session.remove()

    def written(table: str, field: str) -> Counter:
        """How many entries of `table` set `field` to each value."""
        found = Counter()
        for entry in entries:
            if entry.table_name == table and entry.message == "Update":
                change = json.loads(entry.data).get(field)
                found[(change[1] if change else None, entry.row_id)] += 1
        return found

    phones = written("contact", "phone")
    assert phones == Counter({(phone, str(contact)): 1 for phone, (contact, _) in phones_sent.items()})
    lines = written("customer", "address_line2")
    assert lines == Counter({(line, str(customer)): 1 for line, (customer, _) in lines_sent.items()})
    for entry in entries:  # each entry names the staff member whose request made it
        if entry.table_name in ("contact", "customer") and entry.message == "Update":
            value = json.loads(entry.data).get("phone" if entry.table_name == "contact" else "address_line2")[1]
            who = (phones_sent if entry.table_name == "contact" else lines_sent)[value][1]
            assert who in entry.user_label, (entry.user_label, who)

    assert len(created) == len(invoices_made) == invoices_after - invoices_before
    new_invoices = Counter(e.row_id for e in entries if e.table_name == "invoice" and e.message == "New")
    assert new_invoices == Counter({str(invoice.id): 1 for invoice in created})
    assert chain.intact, chain
