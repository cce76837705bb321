"""Deployments in the portal: every contact sees their own customer's; an Admin contact manages those of
every customer in their tree; nobody reaches a deployment outside it, by id or by search."""
import sqlalchemy as sa

from panel.deployments.models import Deployment, Licence, SupportPlan
from panel.extensions import db


def test_a_contact_sees_their_own_customers_deployments_only(tree, portal_as):
    client = portal_as("billing@top.example")
    home = client.get("/portal/").get_data(as_text=True)
    assert 'href="/portal/deployments"' in home
    page = client.get("/portal/deployments")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "D-100001" in body and "Top office PBX" in body
    assert "Child edge SBC" not in body and "Stranger" not in body
    assert "Add deployment" not in body and "Add licence" not in body  # not an Admin
    assert client.get(f"/portal/customers/{tree.top}/deployments").status_code == 404
    found = client.get("/portal/deployments/search?q=pbx", htmx=True).get_data(as_text=True)
    assert "Top office PBX" in found and "Grandchild PBX" not in found and "Stranger" not in found


def test_an_admin_manages_the_deployments_of_their_whole_tree(app, tree, portal_as):
    client = portal_as("admin@top.example")
    own = client.get("/portal/deployments").get_data(as_text=True)
    assert "Add deployment" in own and "Decommission" not in own
    url = f"/portal/customers/{tree.grandchild}/deployments"
    page = client.get(url)
    assert page.status_code == 200 and "Grandchild PBX" in page.get_data(as_text=True)
    bad = client.post(url, {"product": "PBX", "name": " "}, htmx=True)
    assert bad.status_code == 422 and "Give the deployment a name." in bad.get_data(as_text=True)
    made = client.post(url, {"product": "Gateway", "name": "Branch gateway"}, htmx=True)
    assert made.status_code == 200 and "D-100005 (Gateway)" in made.get_data(as_text=True)
    plain = client.post(url, {"product": "SBC", "name": "Second SBC"})
    assert plain.status_code == 303 and plain.headers["Location"] == f"{url}#deployment-6"
    deployment = tree.deployments[tree.grandchild]
    licence = client.post(f"{url}/{deployment}/licences", {"name": "Trunks", "quantity": "0"}, htmx=True)
    assert licence.status_code == 422 and "Enter a whole number from 1" in licence.get_data(as_text=True)
    assert client.post(f"{url}/{deployment}/licences", {"name": "Trunks", "quantity": "4"}, htmx=True).status_code == 200
    plan = client.post(f"{url}/{deployment}/support-plans", {"plan": "24x7", "starts_on": "2026-01-01",
                                                             "ends_on": "2026-12-31"}, htmx=True)
    assert plan.status_code == 200 and "24x7 support plan added to D-100003" in plan.get_data(as_text=True)
    # Decommissioning stays with staff.
    assert client.post(f"{url}/{deployment}/decommission", htmx=True).status_code in (404, 405)
    found = client.get("/portal/deployments/search?q=pbx", htmx=True).get_data(as_text=True)
    assert "Top office PBX" in found and "Grandchild PBX" in found and "Grandchild Co" in found
    assert "Stranger" not in found
    with app.app_context():
        added = db.session.scalars(sa.select(Deployment).where(Deployment.customer_id == tree.grandchild)
                                   .order_by(Deployment.id)).all()
        assert [d.name for d in added] == ["Grandchild PBX", "Branch gateway", "Second SBC"]
        assert db.session.scalar(sa.select(Licence.quantity)) == 4
        assert db.session.scalar(sa.select(SupportPlan.plan)) == "24x7"
        assert all(d.status == "Active" for d in added)


def test_nobody_reaches_a_deployment_outside_their_tree(app, tree, portal_as):
    child_admin = portal_as("admin@child.example")
    theirs = tree.deployments[tree.stranger]
    for customer_id in (tree.top, tree.stranger, 999):  # above the tree, beside it, missing
        url = f"/portal/customers/{customer_id}/deployments"
        assert child_admin.get(url).status_code == 404
        assert child_admin.post(url, {"product": "PBX", "name": "Sneaky"}, htmx=True).status_code == 404
    for url in (f"/portal/customers/{tree.stranger}/deployments/{theirs}/licences",
                # Their deployment under a customer of my tree is still not found.
                f"/portal/customers/{tree.child}/deployments/{theirs}/licences",
                f"/portal/customers/{tree.child}/deployments/{tree.deployments[tree.top]}/licences"):
        assert child_admin.post(url, {"name": "L", "quantity": "1"}, htmx=True).status_code == 404, url
    assert child_admin.get(f"/portal/customers/{tree.child}/deployments?add=licence&deployment={theirs}").status_code == 404
    for typed in ("Stranger", "secret", "100004", "D-100004", "Top office"):
        found = child_admin.get(f"/portal/deployments/search?q={typed}", htmx=True).get_data(as_text=True)
        assert "data-pick" not in found and "No deployment matches" in found, typed
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Licence)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Deployment)) == 4


def test_portal_changes_are_audited_as_the_contact(app, tree, portal_as):
    from panel.audit.models import AuditEntry

    client = portal_as("admin@top.example")
    client.post(f"/portal/customers/{tree.child}/deployments", {"product": "PBX", "name": "Audited PBX"}, htmx=True)
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.table_name == "deployment")
                                  .order_by(AuditEntry.id.desc()))
        assert entry.user_label == "Portal: Admin <admin@top.example>" and entry.customer_id == tree.child


def test_portal_deployment_forms_answer_junk_with_messages(tree, portal_as):
    from tests.test_forms_never_crash import JUNK

    client = portal_as("admin@top.example")
    base = f"/portal/customers/{tree.child}/deployments"
    deployment = tree.deployments[tree.child]
    forms = [(base, {"product": "SBC", "name": "Edge"}),
             (f"{base}/{deployment}/licences", {"name": "Seats", "quantity": "3", "expires_on": ""}),
             (f"{base}/{deployment}/support-plans", {"plan": "Basic", "starts_on": "2026-01-01", "ends_on": "2026-02-01"})]
    for url, valid in forms:
        for field in valid:
            for data in [{k: v for k, v in valid.items() if k != field}] + [{**valid, field: junk} for junk in JUNK]:
                response = client.post(url, data, htmx=True)
                assert response.status_code < 500, (url, field, data.get(field))
    for junk in JUNK + ["%", "_", "\\"]:
        assert client.get("/portal/deployments/search", query_string={"q": junk}, htmx=True).status_code == 200
