"""Bulk Edit and Bulk mail on the customer list: the selection, the form's rules, all or nothing, the audit."""
import json
from decimal import Decimal

import sqlalchemy as sa

from panel import actor as actors
from panel.audit.models import AuditEntry
from panel.bulk import jobs
from panel.bulk.models import BulkJob
from panel.customers.models import Customer
from panel.extensions import db
from panel.mail.models import MailMessage
from tests.factories import ContactFactory, CustomerFactory


def _customers(app, count, **fields):
    with app.app_context():
        return [CustomerFactory(**fields).id for _ in range(count)]


def _audit_rows(app, ids):
    with app.app_context():
        return db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.table_name == "customer", AuditEntry.message == "Update",
            AuditEntry.row_id.in_([str(i) for i in ids]))).all()


def test_bulk_edit_sets_the_channel_limit_of_the_ticked_customers_with_one_audit_row_each(app, as_role):
    ids = _customers(app, 3, channel_limit=5)
    other = _customers(app, 1, channel_limit=5)[0]
    client = as_role("staff")
    response = client.post("/customers/bulk/edit", data={"ids": [str(i) for i in ids], "channel_limit": "40"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "3 of 3 selected customers changed" in response.get_data(as_text=True)
    with app.app_context():
        assert {db.session.get(Customer, i).channel_limit for i in ids} == {40}
        assert db.session.get(Customer, other).channel_limit == 5
    rows = _audit_rows(app, ids)
    assert len(rows) == 3
    assert all(json.loads(r.data) == {"channel_limit": [5, 40]} for r in rows)
    assert {r.user_label for r in rows} and all("staff" in r.user_label for r in rows)


def test_bulk_edit_without_csrf_is_refused(app, as_role):
    ids = _customers(app, 1, channel_limit=5)
    client = as_role("staff")
    response = client.post("/customers/bulk/edit", data={"ids": str(ids[0]), "channel_limit": "9"}, csrf=False)
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Customer, ids[0]).channel_limit == 5


def test_a_bad_value_is_refused_by_the_field_and_the_typed_values_stay(app, as_role):
    ids = _customers(app, 2, channel_limit=5)
    client = as_role("staff")
    response = client.post("/customers/bulk/edit", data={"ids": [str(i) for i in ids], "channel_limit": "-3",
                                                          "flow_speed": "12", "debit_limit": "abc"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="-3"' in html and 'value="12"' in html and 'value="abc"' in html
    assert "Number must be between 0 and 1000000" in html or "between 0 and 1,000,000" in html or "at least 0" in html
    with app.app_context():
        assert {db.session.get(Customer, i).channel_limit for i in ids} == {5}
        assert {db.session.get(Customer, i).flow_speed for i in ids} == {0}


def test_every_field_left_as_is_changes_nothing(app, as_role):
    ids = _customers(app, 2)
    response = as_role("staff").post("/customers/bulk/edit", data={"ids": [str(i) for i in ids]})
    assert response.status_code == 409
    assert "leave as is" in response.get_data(as_text=True)
    assert _audit_rows(app, ids) == []


def test_readonly_staff_may_not_make_bulk_changes(app, as_role):
    ids = _customers(app, 1, channel_limit=5)
    client = as_role("readonly")
    assert client.post("/customers/bulk/edit", data={"ids": str(ids[0]), "channel_limit": "9"}).status_code == 403
    assert client.post("/customers/bulk/mail", data={"ids": str(ids[0]), "subject": "x", "body": "y",
                                                      "contact_types": "Billing"}).status_code == 403
    assert "bulk-select" not in client.get("/customers").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Customer, ids[0]).channel_limit == 5


def test_one_refused_customer_fails_the_whole_batch_and_changes_nothing(app, as_role):
    ids = _customers(app, 3, currency="USD")
    ids += _customers(app, 1, currency="JPY")  # no decimals: 12.50 cannot be its debit limit
    response = as_role("staff").post("/customers/bulk/edit", data={"ids": [str(i) for i in ids],
                                                                   "debit_limit": "12.50", "channel_limit": "7"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Nothing was changed" in html and "JPY" in html
    with app.app_context():
        assert {db.session.get(Customer, i).debit_limit for i in ids} == {Decimal(0)}
        assert {db.session.get(Customer, i).channel_limit for i in ids} == {0}
    assert _audit_rows(app, ids) == []


def test_ids_outside_the_actors_reach_select_nothing(app):
    with app.app_context():
        own = CustomerFactory()
        mine = CustomerFactory(reseller_id=own.id)
        stranger = CustomerFactory()
        admin = ContactFactory(customer_id=own.id, contact_type="Admin")
        portal = actors.contact(admin)
        selection = jobs.Selection(ids=(mine.id, stranger.id, 999_999))
        assert sorted(db.session.scalars(jobs.selected_ids(portal, selection))) == [mine.id]
        staff_view = db.session.scalars(jobs.selected_ids(actors.SYSTEM, selection)).all()
        assert sorted(staff_view) == sorted([mine.id, stranger.id])  # an id that does not exist selects nothing


def test_a_nonexistent_id_is_ignored(app, as_role):
    ids = _customers(app, 1, channel_limit=5)
    response = as_role("staff").post("/customers/bulk/edit", data={"ids": [str(ids[0]), "987654"], "channel_limit": "8"})
    assert response.status_code == 200
    assert "1 of 1 selected customers changed" in response.get_data(as_text=True)


def test_select_all_matching_a_search_changes_only_the_matches(app, as_role):
    with app.app_context():
        matches = [CustomerFactory(name=f"Zephyr Voice {n}").id for n in range(4)]
        others = [CustomerFactory(name=f"Other {n}").id for n in range(3)]
    client = as_role("staff")
    listing = client.get("/customers?q=zephyr").get_data(as_text=True)
    assert "Select all 4 matching" in listing
    assert "Select all customers matching this filter" in client.get("/customers").get_data(as_text=True)
    page = client.get("/customers/bulk?all_matching=1&q=zephyr").get_data(as_text=True)
    assert "All 4 customers matching" in page
    response = client.post("/customers/bulk/edit", data={"all_matching": "1", "q": "zephyr", "status": "Inactive"})
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        assert {db.session.get(Customer, i).status for i in matches} == {"Inactive"}
        assert {db.session.get(Customer, i).status for i in others} == {"Active"}


def test_select_all_matching_a_status_filter(app, as_role):
    pending = _customers(app, 2, status="Pending Approval")
    active = _customers(app, 2, status="Active")
    response = as_role("staff").post("/customers/bulk/edit", data={"all_matching": "1", "status_filter": "Pending Approval",
                                                                   "invoice_schedule": "monthly"})
    assert response.status_code == 200
    with app.app_context():
        assert {db.session.get(Customer, i).invoice_schedule for i in pending} == {"monthly"}
        assert {db.session.get(Customer, i).invoice_schedule for i in active} == {"none"}


def test_bulk_edit_sets_portal_access(app, as_role):
    ids = _customers(app, 2)
    response = as_role("staff").post("/customers/bulk/edit", data={"ids": [str(i) for i in ids], "portal_access": "set",
                                                                   "portal_sections": ["invoices", "balance"]})
    assert response.status_code == 200
    with app.app_context():
        assert {db.session.get(Customer, i).portal_sections for i in ids} == {"balance invoices"}


def test_more_than_200_customers_become_a_job_the_worker_runs(app, as_role):
    ids = _customers(app, 201, channel_limit=1)
    client = as_role("staff")
    response = client.post("/customers/bulk/edit", data={"all_matching": "1", "channel_limit": "3"})
    assert response.status_code == 303
    job_url = response.headers["Location"]
    page = client.get(job_url).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in page and "Queued" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.max(Customer.channel_limit))) == 1  # nothing yet
        job = db.session.scalars(sa.select(BulkJob)).one()
        assert job.status == "queued" and job.created_by_id is not None
        job_id = job.id
        created = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "bulk_job")).all()
        assert [e.message for e in created] == ["New"]
        assert jobs.work_next().startswith("bulk edit")
        db.session.remove()
        assert jobs.work_next() is None
        job = db.session.get(BulkJob, job_id)
        assert (job.status, job.total, job.done) == ("done", 201, 201)
    page = client.get(job_url).get_data(as_text=True)
    assert "every 1s" not in page and "201 of 201 selected customers changed" in page
    rows = _audit_rows(app, ids)
    assert len(rows) == 201 and all("staff" in r.user_label for r in rows)
    assert {r.comment for r in rows} == {f"Bulk edit #{job_id}"}


def test_a_refused_job_is_marked_failed_and_changes_nothing(app):
    ids = _customers(app, 300)
    with app.app_context():
        db.session.get(Customer, ids[-1]).currency = "JPY"
        db.session.commit()
        job = BulkJob(kind="edit", parameters=json.dumps({"debit_limit": "1.5"}),
                      selection=jobs.Selection(all_matching=True).to_json(), created_by="test")
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        jobs.work_next()
        db.session.remove()
        job = db.session.get(BulkJob, job_id)
        assert job.status == "failed" and "JPY" in job.result and "Nothing was changed" in job.result
        assert db.session.scalar(sa.select(sa.func.max(Customer.debit_limit))) == 0
    assert [r for r in _audit_rows(app, ids) if "debit_limit" in r.data] == []  # only the test's currency change


def test_bulk_mail_goes_to_the_contacts_of_the_chosen_types(app, as_role):
    with app.app_context():
        first, second, bare, empty = (CustomerFactory(name="Alpha Co"), CustomerFactory(name="Beta Co"),
                                      CustomerFactory(name="Gamma Co", email="gamma@example.com"), CustomerFactory(email=""))
        ContactFactory(customer_id=first.id, contact_type="Billing", email="bill@alpha.example")
        ContactFactory(customer_id=first.id, contact_type="Technical", email="tech@alpha.example")
        ContactFactory(customer_id=first.id, contact_type="Admin", email="admin@alpha.example")
        ContactFactory(customer_id=second.id, contact_type="Technical", email="tech@beta.example")
        ContactFactory(customer_id=second.id, contact_type="Billing", email="old@beta.example", active=False)
        ids = [first.id, second.id, bare.id, empty.id]
    response = as_role("staff").post("/customers/bulk/mail", data={
        "ids": [str(i) for i in ids], "contact_types": ["Billing", "Technical"],
        "subject": "News for {customer}", "body": "Dear {customer}, {0} {customer.id} stays as typed."})
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        sent = {m.to_addr: m for m in db.session.scalars(sa.select(MailMessage))}
        assert set(sent) == {"bill@alpha.example", "tech@alpha.example", "tech@beta.example", "gamma@example.com"}
        assert sent["tech@beta.example"].subject == "News for Beta Co"
        assert "Dear Beta Co, {0} {customer.id} stays as typed." in (sent["tech@beta.example"].body or "")
        sends = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "SEND")).all()
        assert len(sends) == 4  # delivered after the commit, each audited


def test_bulk_mail_needs_a_contact_type(app, as_role):
    ids = _customers(app, 1)
    response = as_role("staff").post("/customers/bulk/mail", data={"ids": str(ids[0]), "subject": "Hi", "body": "Text"})
    assert response.status_code == 422
    assert "Choose at least one contact type." in response.get_data(as_text=True)
    assert 'value="Hi"' in response.get_data(as_text=True)


def test_an_outage_notice_goes_to_the_support_and_technical_contacts_in_its_own_text(app, as_role):
    with app.app_context():
        first, bare, empty = (CustomerFactory(name="Alpha Co"), CustomerFactory(name="Gamma Co", email="gamma@example.com"),
                              CustomerFactory(email=""))
        for contact_type in ("Billing", "Admin", "Technical", "Maintainer", "Onsite Admin", "Other"):
            ContactFactory(customer_id=first.id, contact_type=contact_type,
                           email=f"{contact_type.lower().replace(' ', '-')}@alpha.example")
        ContactFactory(customer_id=bare.id, contact_type="Billing", email="bill@gamma.example")
        ids = [first.id, bare.id, empty.id]
    response = as_role("staff").post("/customers/bulk/mail", data={
        "ids": [str(i) for i in ids], "kind": "outage", "contact_types": ["Billing"],  # ignored for a notice
        "subject": "Frankfurt POP maintenance", "body": "Calls of {customer} are routed through Paris meanwhile.",
        "outage_start": "2026-12-02T01:00", "outage_end": "2026-12-02T03:30"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "5 outage notices queued to the contacts of 2 customers." in response.get_data(as_text=True)
    with app.app_context():
        sent = {m.to_addr: m for m in db.session.scalars(sa.select(MailMessage))}
        # Gamma has only a Billing contact: its notice goes to the customer's e-mail (the kind's fallback).
        assert set(sent) == {"technical@alpha.example", "maintainer@alpha.example", "onsite-admin@alpha.example",
                             "other@alpha.example", "gamma@example.com"}
        notice = sent["maintainer@alpha.example"]
        assert notice.subject == "Outage notice: Frankfurt POP maintenance"
        body = notice.body or ""
        for text in ("Outage notice for Alpha Co", "Starts: 2026-12-02 01:00 UTC", "Ends:   2026-12-02 03:30 UTC",
                     "Calls of Alpha Co are routed through Paris meanwhile.",
                     "You receive this as a Maintainer contact of Alpha Co."):
            assert text in body, text
        sends = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "SEND")).all()
        assert sorted(e.row_id for e in sends) == sorted(str(m.id) for m in sent.values())  # each one audited SEND


def test_an_outage_notice_without_times_says_so_and_needs_no_contact_type(app, as_role):
    with app.app_context():
        customer = CustomerFactory(name="Alpha Co").id
        ContactFactory(customer_id=customer, contact_type="Technical", email="tech@alpha.example")
    response = as_role("staff").post("/customers/bulk/mail", data={
        "ids": str(customer), "kind": "outage", "subject": "Degraded routes", "body": "We are on it."})
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        (notice,) = db.session.scalars(sa.select(MailMessage)).all()
        assert "Starts: not given" in notice.body and "Ends:   not known yet" in notice.body


def test_an_outage_that_ends_before_it_starts_is_refused_by_the_field_and_nothing_is_sent(app, as_role):
    with app.app_context():
        customer = CustomerFactory().id
        ContactFactory(customer_id=customer, contact_type="Technical", email="tech@alpha.example")
    response = as_role("staff").post("/customers/bulk/mail", data={
        "ids": str(customer), "kind": "outage", "subject": "Degraded routes", "body": "We are on it.",
        "outage_start": "2026-12-02T03:00", "outage_end": "2026-12-02T01:00"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "The end is after the start." in body and 'value="Degraded routes"' in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == 0


def test_a_big_outage_notice_runs_in_the_worker_with_its_times(app):
    with app.app_context():
        customer = CustomerFactory(name="Alpha Co")
        ContactFactory(customer_id=customer.id, contact_type="Other", email="other@alpha.example")
        values = jobs.mail_values({"subject": "Maintenance", "body": "Text", "notice": "outage",
                                   "starts_at": "2026-12-02T01:00:00", "ends_at": None})
        job = BulkJob(kind="mail", parameters=json.dumps(values), selection=json.dumps({"ids": [customer.id]}),
                      status="queued", done=0, result="", created_by="system")
        db.session.add(job)
        db.session.commit()
        assert jobs.work_next().endswith("1 outage notices queued to the contacts of 1 customers.")
        (notice,) = db.session.scalars(sa.select(MailMessage)).all()
        assert notice.to_addr == "other@alpha.example" and "Starts: 2026-12-02 01:00 UTC" in notice.body
