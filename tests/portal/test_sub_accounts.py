"""The reseller hierarchy in the portal: an Admin contact reaches their customer and every customer below
it, never one outside their tree (by id or by search), and never changes what only staff may change."""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.contacts.models import Contact
from panel.contacts.records import create_contact, set_password
from panel.customers.accounts import create_customer
from panel.customers.hierarchy import HierarchyError, check_reseller, subtree_ids
from panel.customers.models import Customer
from panel.extensions import db
from tests.helpers import CONTACT_PASSWORD


@pytest.fixture
def tree(app, world):
    """Alpha (A) → Alpha East → Alpha East Shop; Beta (B) stays outside. Ana becomes an Admin of A."""
    with app.app_context():
        east = create_customer(SYSTEM, {"name": "Alpha East", "reseller_id": world.a, "status": "Active"}, "USD").id
        unit_of_work.commit()
        shop = create_customer(SYSTEM, {"name": "Alpha East Shop", "reseller_id": east, "status": "Active"}, "USD").id
        unit_of_work.commit()
        outside = create_customer(SYSTEM, {"name": "Beta Branch", "reseller_id": world.b}, "EUR").id
        unit_of_work.commit()
        db.session.get(Contact, world.ana).contact_type = "Admin"
        sam, _ = create_contact(SYSTEM, shop, {"name": "Sam Shop", "email": "sam@shop.example"})
        set_password(sam, CONTACT_PASSWORD)  # as if Sam had chosen it (a password set for Sam is temporary)
        db.session.commit()
    return {"a": world.a, "east": east, "shop": shop, "b": world.b, "outside": outside}


def test_the_subtree_holds_every_depth_and_nothing_else(app, tree):
    with app.app_context():
        ids = set(db.session.scalars(subtree_ids(tree["a"])).all())
    assert ids == {tree["a"], tree["east"], tree["shop"]}


def test_a_reseller_owner_never_makes_a_loop(app, tree):
    with app.app_context():
        with pytest.raises(HierarchyError, match="own sub-accounts"):
            check_reseller(tree["a"], tree["shop"])
        with pytest.raises(HierarchyError, match="itself"):
            check_reseller(tree["east"], tree["east"])
        check_reseller(tree["shop"], tree["b"])  # moving under another reseller is fine


def test_staff_edit_refuses_a_loop_by_the_field(as_role, tree):
    client = as_role("staff")
    page = client.get(f"/customers/{tree['a']}/edit").get_data(as_text=True)
    assert 'name="reseller_id"' in page
    data = {"name": "Alpha Voice", "status": "Active", "debit_limit": "0", "channel_limit": "0", "flow_speed": "0",
            "invoice_schedule": "none", "customer_type": "Reseller", "payment_terms": "Net 30", "business_type": "",
            "reseller_id": str(tree["shop"]), "save_action": "continue", "shipping_same_as_billing": "y"}
    response = client.post(f"/customers/{tree['a']}/edit", data)
    assert response.status_code == 422 and "own sub-accounts" in response.get_data(as_text=True)


def test_staff_list_shows_each_customers_reseller_owner(as_role, tree):
    body = as_role("readonly").get("/customers?q=Alpha+East").get_data(as_text=True)
    assert "Alpha East Shop" in body and "Alpha Voice" in body  # the shop's owner is Alpha East, East's is Alpha


def test_list_all_shows_an_admin_their_tree_only(portal_client, tree):
    body = portal_client("ana@alpha.example").get("/portal/customers").get_data(as_text=True)
    assert "Alpha East Shop" in body and "Alpha East" in body and "Beta" not in body
    search = portal_client("ana@alpha.example").get("/portal/customers?q=Beta").get_data(as_text=True)
    assert "Beta Branch" not in search and "No customers match" in search
    by_id = portal_client("ana@alpha.example").get(f"/portal/customers?q={tree['outside']}").get_data(as_text=True)
    assert "Beta Branch" not in by_id


def test_a_contact_who_is_not_an_admin_sees_only_their_own_customer(app, portal_client, tree):
    client = portal_client("sam@shop.example")
    body = client.get("/portal/customers").get_data(as_text=True)
    rows = body.split("<tbody>")[1].split("</tbody>")[0]
    assert rows.count("<tr>") == 1 and "Alpha East Shop" in rows
    assert client.get(f"/portal/customers/{tree['shop']}").status_code == 200
    assert client.get(f"/portal/customers/{tree['shop']}/edit").status_code == 404


@pytest.mark.parametrize("target", ["b", "outside"])
def test_an_admin_never_reaches_a_customer_outside_their_tree(portal_client, tree, target):
    client = portal_client("ana@alpha.example")
    customer_id = tree[target]
    for url in (f"/portal/customers/{customer_id}", f"/portal/customers/{customer_id}/edit",
                f"/portal/customers/{customer_id}/contacts", f"/portal/customers/{customer_id}/contacts/new"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/portal/customers/{customer_id}/edit", {"name": "Hijacked"}).status_code == 404


RESTRICTED = {"reseller_id": None, "customer_type": "Distributor", "payment_terms": "Net 60", "debit_limit": "99999",
              "support_credits": "1000", "status": "Inactive", "channel_limit": "999", "currency": "EUR"}


@pytest.mark.parametrize("field", sorted(RESTRICTED))
def test_a_portal_admin_sending_a_restricted_field_changes_nothing_of_it(app, portal_client, tree, field):
    with app.app_context():
        before = db.session.get(Customer, tree["east"])
        snapshot = {k: getattr(before, k) for k in ("reseller_id", "customer_type", "payment_terms", "debit_limit",
                                                     "status", "channel_limit", "currency")}
    client = portal_client("ana@alpha.example")
    value = "" if RESTRICTED[field] is None else RESTRICTED[field]
    response = client.post(f"/portal/customers/{tree['east']}/edit",
                           {"name": "Alpha East Renamed", "business_type": "Retail", "country": "gb",
                            "shipping_same_as_billing": "y", field: value})
    assert response.status_code == 303
    with app.app_context():
        after = db.session.get(Customer, tree["east"])
        assert (after.name, after.business_type, after.country) == ("Alpha East Renamed", "Retail", "GB")
        assert {k: getattr(after, k) for k in snapshot} == snapshot
        assert snapshot["debit_limit"] == Decimal(0)


def test_the_edit_page_shows_restricted_fields_read_only(portal_client, tree):
    page = portal_client("ana@alpha.example").get(f"/portal/customers/{tree['shop']}/edit").get_data(as_text=True)
    assert 'data-testid="ro-reseller">Alpha East<' in page and 'name="customer_type"' not in page
    assert 'name="payment_terms"' not in page and 'name="reseller_id"' not in page and 'name="debit_limit"' not in page


def test_staff_change_restricted_fields_and_it_is_audited(app, as_role, tree):
    from panel.audit.models import AuditEntry

    client = as_role("staff")
    data = {"name": "Alpha East Shop", "status": "Active", "debit_limit": "50", "channel_limit": "0", "flow_speed": "0",
            "invoice_schedule": "none", "customer_type": "Reseller", "payment_terms": "Net 30", "business_type": "Retail",
            "reseller_id": str(tree["b"]), "save_action": "continue", "shipping_same_as_billing": "y"}
    assert client.post(f"/customers/{tree['shop']}/edit", data).status_code == 303
    with app.app_context():
        shop = db.session.get(Customer, tree["shop"])
        assert (shop.reseller_id, shop.customer_type, shop.payment_terms) == (tree["b"], "Reseller", "Net 30")
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "customer",
                                                               AuditEntry.row_id == str(tree["shop"]))
                                   .order_by(AuditEntry.id.desc())).first()
        assert '"reseller_id"' in entry.data and '"payment_terms"' in entry.data


def test_an_admin_adds_and_edits_a_sub_accounts_contact_without_private_notes(app, portal_client, tree):
    client = portal_client("ana@alpha.example")
    form = client.get(f"/portal/customers/{tree['shop']}/contacts/new").get_data(as_text=True)
    assert "private" not in form.lower()
    response = client.post(f"/portal/customers/{tree['shop']}/contacts/new",
                           {"name": "Olga Onsite", "email": "olga@shop.example", "contact_type": "Onsite Admin",
                            "private_notes": "smuggled"})
    assert response.status_code == 303
    with app.app_context():
        olga = db.session.scalar(sa.select(Contact).where(Contact.email == "olga@shop.example"))
        assert olga.customer_id == tree["shop"] and olga.private_notes == ""
        olga_id = olga.id
    # Another customer's contact's login: the same answer as a free address (tests/portal/test_sub_account_emails.py),
    # and Olga's login stays hers until the new address confirms it.
    taken = client.post(f"/portal/customers/{tree['shop']}/contacts/{olga_id}/edit",
                        {"name": "Olga", "email": "ben@beta.example", "contact_type": "Other"})
    assert taken.status_code == 303 and "already the portal login" not in taken.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contact, olga_id).email == "olga@shop.example"
    assert client.get(f"/portal/customers/{tree['b']}/contacts/{olga_id}/edit").status_code == 404
