"""The Deployments section of the Main tab and the deployment search, over HTTP."""
import html
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.customers.accounts import create_customer
from panel.deployments.models import Deployment, Licence, SupportPlan
from panel.deployments.records import create_deployment
from panel.extensions import db
from tests.helpers import pager_link


def add(client, customer_id, name, product="PBX", htmx=True):
    return client.post(f"/customers/{customer_id}/deployments", {"product": product, "name": name}, htmx=htmx)


def test_the_main_tab_loads_the_deployments_section(as_role, customer):
    client = as_role("readonly")
    page = client.get(f"/customers/{customer}").get_data(as_text=True)
    assert 'id="deployments"' in page and f'hx-get="/customers/{customer}/deployments"' in page
    section = client.get(f"/customers/{customer}/deployments", htmx=True)
    body = section.get_data(as_text=True)
    assert section.status_code == 200 and "No deployments yet." in body and "<html" not in body
    assert "Add deployment" not in body  # read-only staff see the list only
    full = client.get(f"/customers/{customer}/deployments").get_data(as_text=True)
    assert "<html" in full and "Deployments of Acme Telecom" in full


def test_staff_add_a_deployment_with_the_next_id_and_bad_input_keeps_what_was_typed(app, as_role, customer):
    client = as_role("staff")
    form = client.get(f"/customers/{customer}/deployments?add=deployment", htmx=True).get_data(as_text=True)
    assert 'id="new-deployment"' in form
    bad = add(client, customer, "   ", product="Phone")
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Give the deployment a name." in body and "Not a valid choice" in body
    typed = add(client, customer, "x" * 201)
    assert typed.status_code == 422 and 'value="' + "x" * 201 + '"' in typed.get_data(as_text=True)
    made = add(client, customer, "<script>alert(1)</script> PBX")
    body = made.get_data(as_text=True)
    assert made.status_code == 200 and made.headers["HX-Trigger"] == "deployments-changed"
    assert "D-100001 (PBX)" in body and "&lt;script&gt;alert(1)&lt;/script&gt; PBX" in body and "<script>alert" not in body
    plain = add(client, customer, "Edge", product="SBC", htmx=False)
    assert plain.status_code == 303 and plain.headers["Location"] == f"/customers/{customer}/deployments#deployment-2"
    with app.app_context():
        assert db.session.scalars(sa.select(Deployment.deployment_number).order_by(Deployment.id)).all() == [
            "D-100001", "D-100002"]


def test_licences_and_support_plans_are_added_with_messages_by_the_fields(app, as_role, customer):
    client = as_role("staff")
    with app.app_context():
        with unit_of_work.unit():
            deployment_id = create_deployment(SYSTEM, customer, "PBX", "Main").id
    url = f"/customers/{customer}/deployments/{deployment_id}"
    opened = client.get(f"/customers/{customer}/deployments?add=licence&deployment={deployment_id}", htmx=True)
    assert 'id="new-licence"' in opened.get_data(as_text=True)
    bad = client.post(f"{url}/licences", {"name": "Extensions", "quantity": "lots", "expires_on": "31/12/2027"}, htmx=True)
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Enter a whole number from 1 to 1,000,000." in body
    assert 'value="lots"' in body and 'value="Extensions"' in body and "Not a valid date value" in body
    ok = client.post(f"{url}/licences", {"name": "Extensions", "quantity": "25", "expires_on": "2027-12-31"}, htmx=True)
    assert ok.status_code == 200 and "Extensions × 25" in ok.get_data(as_text=True)
    backwards = client.post(f"{url}/support-plans", {"plan": "Premium", "starts_on": "2026-06-01", "ends_on": "2026-05-31"},
                            htmx=True)
    body = backwards.get_data(as_text=True)
    assert backwards.status_code == 422 and "ends on or after the day it starts" in body and 'value="2026-05-31"' in body
    ok = client.post(f"{url}/support-plans", {"plan": "Premium", "starts_on": "2026-01-01", "ends_on": "2026-12-31"},
                     htmx=True)
    assert ok.status_code == 200 and "Premium support plan added to D-100001" in ok.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Licence.quantity)) == 25
        assert db.session.scalar(sa.select(SupportPlan.plan)) == "Premium"


def test_decommission_keeps_the_deployment_and_refuses_a_second_time(app, as_role, customer):
    client = as_role("staff")
    with app.app_context():
        with unit_of_work.unit():
            deployment_id = create_deployment(SYSTEM, customer, "Gateway", "Old gateway").id
    url = f"/customers/{customer}/deployments/{deployment_id}"
    done = client.post(f"{url}/decommission", htmx=True)
    body = done.get_data(as_text=True)
    assert done.status_code == 200 and "D-100001 is decommissioned" in body and "status-decommissioned" in body
    assert client.post(f"{url}/decommission", htmx=True).status_code == 409
    late = client.post(f"{url}/licences", {"name": "Ports", "quantity": "4"}, htmx=True)
    assert late.status_code == 409 and "is Decommissioned" in late.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Deployment, deployment_id).status == "Decommissioned"


def test_readonly_staff_cannot_write(app, as_role, customer):
    with app.app_context():
        with unit_of_work.unit():
            deployment_id = create_deployment(SYSTEM, customer, "PBX", "Main").id
    client = as_role("readonly")
    base = f"/customers/{customer}/deployments"
    assert add(client, customer, "Nope").status_code == 403
    for action, data in [("licences", {"name": "L", "quantity": "1"}),
                         ("support-plans", {"plan": "Basic", "starts_on": "2026-01-01", "ends_on": "2026-02-01"}),
                         ("decommission", {})]:
        assert client.post(f"{base}/{deployment_id}/{action}", data, htmx=True).status_code == 403
    opened = client.get(f"{base}?add=licence&deployment={deployment_id}", htmx=True).get_data(as_text=True)
    assert "new-licence" not in opened and "Decommission" not in opened
    with app.app_context():
        assert db.session.get(Deployment, deployment_id).status == "Active"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Licence)) == 0


def test_another_customers_deployment_is_not_found(app, as_role, customer):
    with app.app_context():
        other = create_customer(SYSTEM, {"name": "Other"}, "USD").id
        unit_of_work.commit()
        theirs = create_deployment(SYSTEM, other, "PBX", "Theirs").id
        unit_of_work.commit()
    client = as_role("staff")
    base = f"/customers/{customer}/deployments"
    assert client.get(f"{base}?add=licence&deployment={theirs}", htmx=True).status_code == 404
    for action, data in [("licences", {"name": "L", "quantity": "1"}),
                         ("support-plans", {"plan": "Basic", "starts_on": "2026-01-01", "ends_on": "2026-02-01"}),
                         ("decommission", {})]:
        assert client.post(f"{base}/{theirs}/{action}", data, htmx=True).status_code == 404, action
    assert client.get("/customers/999/deployments", htmx=True).status_code == 404
    with app.app_context():
        assert db.session.get(Deployment, theirs).status == "Active"


def test_search_as_you_type_by_id_or_name(app, as_role, customer):
    with app.app_context():
        other = create_customer(SYSTEM, {"name": "Other Co"}, "USD").id
        unit_of_work.commit()
        create_deployment(SYSTEM, customer, "PBX", "Head office PBX")
        create_deployment(SYSTEM, customer, "SBC", "Edge <b>SBC</b>")
        create_deployment(SYSTEM, other, "PBX", "Other office PBX")
        unit_of_work.commit()
    client = as_role("readonly")
    mine = client.get(f"/customers/{customer}/deployments/search?q=office", htmx=True).get_data(as_text=True)
    assert "D-100001" in mine and "Head office PBX" in mine and "Other office" not in mine
    assert 'data-pick="1"' in mine and 'data-label="D-100001 · Head office PBX"' in mine
    by_id = client.get(f"/customers/{customer}/deployments/search?q=100002", htmx=True).get_data(as_text=True)
    assert "Edge &lt;b&gt;SBC&lt;/b&gt;" in by_id and "<b>SBC" not in by_id and "D-100001" not in by_id
    everyone = client.get("/customers/deployments/search?q=office", htmx=True).get_data(as_text=True)
    assert "Head office PBX" in everyone and "Other office PBX" in everyone and "Other Co" in everyone
    short = client.get("/customers/deployments/search?q=of", htmx=True).get_data(as_text=True)
    assert "at least three characters" in short
    none = client.get(f"/customers/{customer}/deployments/search?q=zzz", htmx=True).get_data(as_text=True)
    assert "No deployment matches “zzz”." in none
    found = client.get(f"/customers/{customer}/deployments?q=edge", htmx=True).get_data(as_text=True)
    assert "D-100002" in found and "D-100001" not in found


def test_the_section_pages_through_many_deployments(app, as_role, customer):
    with app.app_context():
        with unit_of_work.unit():
            for n in range(23):
                create_deployment(SYSTEM, customer, "PBX", f"Site {n:02d}")
    client = as_role("staff")
    first = client.get(f"/customers/{customer}/deployments", htmx=True).get_data(as_text=True)
    assert "Site 19" in first and "Site 20" not in first
    next_url = pager_link(first, "Next →")
    second = client.get(next_url, htmx=True).get_data(as_text=True)
    assert "Site 20" in second and "Site 22" in second and "Site 00" not in second
    # An action from page 2 comes back to page 2.
    cursor = next_url.split("after=")[1].split("&")[0]
    assert f"/customers/{customer}/deployments/21/decommission?after={cursor}" in html.unescape(second)
