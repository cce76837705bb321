"""50 users reading and writing at once for 2 minutes against gunicorn + PostgreSQL: no errors, and one
audit entry per acknowledged write (issue 8, "Load").

Gunicorn runs as a subprocess on a free port against the test's PostgreSQL database, seeded with the
small demo data set. Each write sets a value no other write uses, so an acknowledged write is a real
change and its audit entry can be found by that value. LOAD_SECONDS and LOAD_USERS shorten a local run.
"""
import json
import os
import random
import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.extensions import db
from tests.load.harness import Browser, Gunicorn, Samples, form_fields

pytestmark = pytest.mark.postgres

USERS = int(os.environ.get("LOAD_USERS", "50"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "120"))
STAFF = [f"load{i}@example.com" for i in range(5)]
PASSWORD = "load test password 123"


class Ledger:
    """What the server acknowledged, filled by every user thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.serial = 0
        self.contact_phones: dict[str, tuple[int, str]] = {}  # phone written -> (contact id, who)
        self.customer_lines: dict[str, tuple[int, str]] = {}  # address_line2 written -> (customer id, who)
        self.invoices: list[str] = []  # numbers of the invoices a Generate Invoice answer said it created

    def next(self) -> int:
        with self.lock:
            self.serial += 1
            return self.serial


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


def _user(port, email, pools, ledger: Ledger, samples: Samples, token: str, until: float, seed: int):
    customers, contacts, days = pools
    rng = random.Random(seed)
    browser = Browser(port)
    try:
        browser.sign_in(email, PASSWORD)
        while time.monotonic() < until:
            customer = rng.choice(customers)
            roll = rng.random()
            if roll < 0.15:
                customer_id, contact_id = rng.choice(contacts)
                page = browser.get(f"/customers/{customer_id}/contacts/{contact_id}/edit", htmx=True)
                samples.add("contact edit form", page)
                fields = form_fields(page.text, 'class="inline-form"')
                phone = f"+1 555 {ledger.next():07d}"
                fields.update(phone=phone, save_action="continue")
                response = browser.post(f"/customers/{customer_id}/contacts/{contact_id}", fields, htmx=True)
                samples.add("inline contact save", response)
                if response.status == 200 and "Saved." in response.text:
                    with ledger.lock:
                        ledger.contact_phones[phone] = (contact_id, email)
            elif roll < 0.25:
                page = browser.get(f"/customers/{customer}/edit")
                samples.add("customer edit form", page)
                fields = form_fields(page.text, 'class="card form-grid"')
                line = f"Suite {ledger.next()}"
                fields.update(address_line2=line, save_action="continue")
                response = browser.post(f"/customers/{customer}/edit", fields)
                samples.add("customer edit", response)
                if response.status == 303:
                    with ledger.lock:
                        ledger.customer_lines[line] = (customer, email)
            elif roll < 0.30 and days:
                customer_id, day = rng.choice(days)
                response = browser.post(f"/customers/{customer_id}/invoices/generate",
                                        {"frame": "daily", "period": day}, htmx=True)
                samples.add("generate invoice", response)
                if response.status == 200 and "Created " in response.text:
                    numbers = response.text.split("Created ", 1)[1].split(".", 1)[0]
                    with ledger.lock:
                        ledger.invoices += [n.strip() for n in numbers.split(",")]
            else:
                label, url, htmx, headers = rng.choice([
                    ("customers list", "/customers", False, None),
                    ("customer search", "/customers?q=tel", True, None),
                    ("Main tab", f"/customers/{customer}", False, None),
                    ("contacts partial", f"/customers/{customer}/contacts", True, None),
                    ("Global Contacts search", "/contacts?q=ana", True, None),
                    ("customer audit log", f"/customers/{customer}/audit", False, None),
                    ("Summary tab", f"/customers/{customer}/summary?frame=daily", True, None),
                    ("invoice API page", "/api/v1/invoices", False, {"Authorization": f"Bearer {token}"}),
                ])
                samples.add(label, browser.get(url, htmx=htmx, headers=headers))
            time.sleep(rng.uniform(0.05, 0.3))
    except Exception as error:  # a connection error, a timeout, or a page we could not read
        samples.errors.append(f"{email}: {type(error).__name__}: {error}")
    finally:
        browser.close()


def test_fifty_users_for_two_minutes_get_no_errors_and_every_acknowledged_write_is_audited_once(pg_app, tmp_path):
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

    ledger, samples = Ledger(), Samples()
    with Gunicorn(url, str(tmp_path / "instance")) as server:
        until = time.monotonic() + SECONDS
        threads = [threading.Thread(target=_user, args=(server.port, STAFF[i % len(STAFF)], pools, ledger, samples,
                                                        token, until, i)) for i in range(USERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(SECONDS + 120)
        assert not any(thread.is_alive() for thread in threads), "a user was still waiting for an answer"
        log = server.output()

    statuses = {label: dict(counts) for label, counts in samples.statuses.items()}
    print(f"\n{USERS} users, {SECONDS:.0f} s: {sum(len(t) for t in samples.times.values()):,} requests; {statuses}")
    assert samples.errors == [], samples.errors[:10]
    server_errors = {label: counts for label, counts in statuses.items() if any(code >= 500 for code in counts)}
    assert server_errors == {}, (server_errors, log)
    for label in ("customers list", "customer search", "Main tab", "contacts partial", "Global Contacts search",
                  "customer audit log", "Summary tab", "invoice API page", "contact edit form", "customer edit form"):
        assert set(statuses.get(label, {})) <= {200}, (label, statuses.get(label))
    assert ledger.contact_phones and ledger.customer_lines, "no write was acknowledged"

    with pg_app.app_context():
        entries = db.session.execute(sa.select(AuditEntry).where(AuditEntry.id > before)
                                     .order_by(AuditEntry.id)).scalars().all()
        created = db.session.scalars(sa.select(Invoice).where(Invoice.number.in_(ledger.invoices))).all()
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
    assert phones == Counter({(phone, str(contact)): 1 for phone, (contact, _) in ledger.contact_phones.items()})
    lines = written("customer", "address_line2")
    assert lines == Counter({(line, str(customer)): 1 for line, (customer, _) in ledger.customer_lines.items()})
    for entry in entries:  # each entry names the staff member whose request made it
        if entry.table_name in ("contact", "customer") and entry.message == "Update":
            value = json.loads(entry.data).get("phone" if entry.table_name == "contact" else "address_line2")[1]
            who = (ledger.contact_phones if entry.table_name == "contact" else ledger.customer_lines)[value][1]
            assert who in entry.user_label, (entry.user_label, who)

    assert len(created) == len(ledger.invoices) == invoices_after - invoices_before
    new_invoices = Counter(e.row_id for e in entries if e.table_name == "invoice" and e.message == "New")
    assert new_invoices == Counter({str(invoice.id): 1 for invoice in created})
    assert chain.intact, chain
