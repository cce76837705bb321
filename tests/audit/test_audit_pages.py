"""The audit log pages: newest first, filters, View Difference, and no way to change an entry."""
import re

import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.customers.accounts import create_customer
from panel.extensions import db
from tests.helpers import pager_link


def rows(response):
    return re.findall(r'<tr id="audit-(\d+)">', response.get_data(as_text=True))


def test_customer_log_lists_only_that_customers_entries_newest_first(app, as_role, customer):
    client = as_role("staff")
    data = {"name": "Acme Renamed", "status": "Active", "debit_limit": "0", "channel_limit": "30", "flow_speed": "0"}
    client.post(f"/customers/{customer}/edit", data)
    with app.app_context():
        other = create_customer(SYSTEM, {"name": "Other"}, "USD").id
        unit_of_work.commit()
    ids = rows(client.get(f"/customers/{customer}/audit"))
    assert len(ids) == 2 and int(ids[0]) > int(ids[1])
    body = client.get(f"/customers/{customer}/audit").get_data(as_text=True)
    assert "staff@example.com" in body and "View Difference" in body
    assert len(rows(client.get(f"/customers/{other}/audit"))) == 1


def test_global_log_filters_by_table_and_user(app, as_role, customer):
    client = as_role("readonly")
    assert len(rows(client.get("/audit?table=staff_user"))) == 3
    assert len(rows(client.get("/audit?table=customer"))) == 1
    assert len(rows(client.get("/audit?user=system"))) == 4
    assert len(rows(client.get("/audit?user=nobody"))) == 0
    assert client.get("/audit?table=not_a_table").status_code == 200


def test_view_difference_shows_field_previous_and_current(app, as_role, customer):
    client = as_role("staff")
    data = {"name": "Acme <b>Bold</b>", "status": "Active", "debit_limit": "0", "channel_limit": "30", "flow_speed": "0"}
    client.post(f"/customers/{customer}/edit", data)
    with app.app_context():
        entry_id = db.session.scalar(sa.select(sa.func.max(AuditEntry.id)))
    diff = client.get(f"/audit/{entry_id}/difference", htmx=True).get_data(as_text=True)
    assert "<html" not in diff
    assert re.search(r"<td>name</td><td>Acme Telecom</td><td>Acme &lt;b&gt;Bold&lt;/b&gt;</td>", diff)
    assert client.get("/audit/99999/difference", htmx=True).status_code == 404


def test_log_paginates(app, as_role):
    app.config["PAGE_SIZE"] = 2
    client = as_role("readonly")
    first = client.get("/audit").get_data(as_text=True)
    assert "Older →" in first
    # Three staff users made and the reader's own sign-in (a LOGIN entry): two full pages.
    second = client.get(pager_link(first, "Older →"))
    assert len(rows(second)) == 2 and "Older →" not in second.get_data(as_text=True)


def test_no_route_changes_or_removes_an_audit_entry(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
