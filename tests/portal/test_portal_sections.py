"""Portal Access: a section staff hide is absent from the portal's menu and every route that shows its data
answers 404 (the matrix below walks the URL map); a new customer's sections come from Settings → Options;
staff change them on the Main tab, audited, and only staff who may change customers."""
import json
import re

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.contacts.models import Contact
from panel.customers.accounts import create_customer
from panel.customers.models import PORTAL_SECTIONS, Customer
from panel.extensions import db
from panel.options import set_option
from panel.portal.sections import section_open
from tests.factories import CustomerFactory
from tests.helpers import staff_sign_in
from tests.portal.test_access_matrix import ids, request, urls  # noqa: F401  (ids is a fixture)

# Every portal route that shows a section's data, by section (a route may be added; none may lose its guard).
GUARDED = {
    "calls": {"portal.customer_summary", "portal.summary_records", "portal.summary_export"},
    "invoices": {"portal.invoices", "portal.invoice"},
    "deployments": {"portal.deployments", "portal.customer_deployments", "portal.deployment_create",
                    "portal.deployment_licence", "portal.deployment_plan", "portal.search_deployments",
                    "portal.support_credits"},
    "reports": {"portal.report_issue"},
    "store": {"portal.store", "portal.store_product", "portal.store_add", "portal.store_line_quantity",
              "portal.store_line_remove", "portal.checkout_page", "portal.checkout_totals",
              "portal.checkout_deployments", "portal.checkout_submit", "portal.order_history", "portal.quotes",
              "portal.order_page", "portal.order_print", "portal.order_pay", "portal.quote_convert",
              "portal.quote_copy", "portal.checkout_setup_intent", "portal.order_setup_intent"},
    "cards": {"portal.cards", "portal.new_card", "portal.card_setup_intent", "portal.create_card",
              "portal.default_card", "portal.remove_card"},
}
# What the portal's menu and home page link to for each section (absent once it is hidden).
MENU = {
    "balance": ['data-testid="balance"', ">Balance</span>"],
    "calls": ["/summary\"", ">Call summary</a>"],
    "invoices": ['href="/portal/invoices"'],
    "deployments": ['href="/portal/deployments"', 'href="/portal/support-credits"'],
    "reports": ['href="/portal/report-issue"'],
    "store": [],  # the store's routes and menu entry come with the store, behind section_required("store")
    "cards": [],  # no menu entry: the Cards tab of the contact's own customer page (tests/cards)
}


def section_of(app, endpoint: str) -> str | None:
    return getattr(app.view_functions[endpoint], "portal_section", None)


def checked(html: str) -> set[str]:
    """The values of the checked boxes of a form."""
    return set(re.findall(r'<input checked[^>]*value="([^"]+)"', html))


def set_sections(app, customer_id: int, keys) -> None:
    with app.app_context():
        db.session.get(Customer, customer_id).portal_sections = " ".join(keys)
        db.session.commit()


def test_every_route_of_a_section_carries_its_guard(app):
    for key, endpoints in GUARDED.items():
        for endpoint in endpoints:
            assert section_of(app, endpoint) == key, endpoint
    assert set(MENU) == set(PORTAL_SECTIONS)


@pytest.mark.parametrize("key", PORTAL_SECTIONS)
def test_a_hidden_section_is_not_found_anywhere_in_the_portal_and_absent_from_its_menu(app, world, ids, portal_client,
                                                                                      key):
    """Ben (an Admin contact of B) asks for every portal route of B's objects, first with every section open
    (nothing is 404: the routes are within his reach), then with `key` hidden."""
    client = portal_client(world.ben_email)
    rows = [row for row in urls(app, ids) if row[0].startswith("portal.")
            and (section_of(app, row[0]) == key or row[0] in GUARDED.get(key, ()))]
    assert key in ("store", "balance") or rows, key  # the balance is a figure of the home page, not a route
    home = client.get("/portal/").get_data(as_text=True)
    for text in MENU[key]:
        assert text in home, text
    for endpoint, method, url, _ in rows:
        assert request(client, method, url).status_code != 404, (endpoint, method, url)

    set_sections(app, world.b, [other for other in PORTAL_SECTIONS if other != key])
    for endpoint, method, url, _ in rows:
        assert request(client, method, url).status_code == 404, (endpoint, method, url)
        assert request(client, method, url.replace("?", "?x=1&") if "?" in url else url + "?frame=daily").status_code == 404
    for page in ("/portal/", "/portal/profile", f"/portal/customers/{world.b}"):
        html = client.get(page).get_data(as_text=True)
        for text in MENU[key]:
            assert text not in html, (page, text)
    # The other sections are untouched.
    for endpoint, method, url, _ in urls(app, ids):
        other = endpoint.startswith("portal.") and section_of(app, endpoint)
        if other and other != key and method == "GET":
            assert request(client, method, url).status_code != 404, url


def test_in_portal_login_staff_see_only_the_sections_the_contact_sees(app, world, impersonating):
    set_sections(app, world.a, ["balance"])
    for url in (f"/portal/customers/{world.a}/summary", f"/portal/customers/{world.a}/summary/records.csv?frame=daily&period=2026-11-18",
                "/portal/invoices", "/portal/deployments", "/portal/support-credits", "/portal/report-issue",
                "/portal/deployments/search?q=x"):
        assert impersonating.get(url).status_code == 404, url
    home = impersonating.get("/portal/").get_data(as_text=True)
    assert ">Call summary</a>" not in home and 'href="/portal/invoices"' not in home and 'data-testid="balance"' in home


def test_a_sub_account_that_hides_a_section_hides_it_from_its_resellers_admin_too(app, world, portal_client):
    with app.app_context():
        east = create_customer(SYSTEM, {"name": "Alpha East", "reseller_id": world.a, "status": "Active"}, "USD").id
        unit_of_work.commit()
        db.session.get(Contact, world.ana).contact_type = "Admin"
        db.session.commit()
    client = portal_client(world.ana_email)
    assert client.get(f"/portal/customers/{east}/summary").status_code == 200
    set_sections(app, east, ["invoices"])
    assert client.get(f"/portal/customers/{east}/summary").status_code == 404
    assert client.get(f"/portal/customers/{east}/deployments").status_code == 404
    record = client.get(f"/portal/customers/{east}").get_data(as_text=True)
    assert f'href="/portal/customers/{east}/summary"' not in record
    assert f'href="/portal/customers/{world.a}/summary"' in record  # the menu's, of A
    assert client.get(f"/portal/customers/{world.a}/summary").status_code == 200  # A's own stays open


def test_the_deployment_picker_goes_with_the_deployments_section(app, world, portal_client):
    client = portal_client(world.ana_email)
    assert "/portal/deployments/search" in client.get("/portal/report-issue").get_data(as_text=True)
    set_sections(app, world.a, ["reports"])
    assert "/portal/deployments/search" not in client.get("/portal/report-issue").get_data(as_text=True)


def test_a_new_customer_gets_the_default_of_settings_options(app, world, as_role):
    with app.app_context():
        assert db.session.get(Customer, world.a).portal_sections == " ".join(PORTAL_SECTIONS)  # the default default
        set_option("portal_sections", "reports calls")
        db.session.commit()
        made = create_customer(SYSTEM, {"name": "Gamma"}, "USD")
        unit_of_work.commit()
        factory_made = CustomerFactory(name="Delta")
        assert made.portal_sections == "calls reports" and factory_made.portal_sections == "calls reports"
        assert section_open(made, "calls") and not section_open(made, "invoices")
        assert db.session.get(Customer, world.a).portal_sections == " ".join(PORTAL_SECTIONS)  # existing ones keep theirs
        with pytest.raises(KeyError):
            section_open(made, "invoice")

    admin = as_role("admin")
    page = admin.get("/settings/options").get_data(as_text=True)
    assert checked(page) >= {"calls", "reports"} and "invoices" not in checked(page)
    response = admin.post("/settings/options", {"portal_sections": ["balance", "invoices"], "sip_realm": "sip.example.net"})
    assert response.status_code == 303
    assert admin.post("/settings/options", {"portal_sections": ["everything"]}).status_code == 422
    assert admin.post("/customers/new", {"name": "Epsilon", "currency": "USD", "status": "Active", "debit_limit": "0",
                                         "channel_limit": "0", "flow_speed": "0", "invoice_schedule": "none",
                                         "customer_type": "End Customer", "payment_terms": "Prepaid",
                                         "shipping_same_as_billing": "y", "save_action": "continue"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(Customer.portal_sections).where(Customer.name == "Epsilon")) == "balance invoices"


def test_staff_change_portal_access_on_the_main_tab_audited(app, world, as_role, portal_client):
    staff = as_role("staff")
    main = staff.get(f"/customers/{world.a}").get_data(as_text=True)
    assert f'hx-get="/customers/{world.a}/portal-access"' in main
    form = staff.get(f"/customers/{world.a}/portal-access", htmx=True)
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and "Portal Access" in html
    assert checked(html) == set(PORTAL_SECTIONS)

    saved = staff.post(f"/customers/{world.a}/portal-access", {"sections": ["balance", "reports"]}, htmx=True)
    assert saved.status_code == 200 and "Portal Access saved." in saved.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Customer, world.a).portal_sections == "balance reports"
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "customer",
                                                               AuditEntry.customer_id == world.a)
                                   .order_by(AuditEntry.id.desc())).first()
        assert (entry.action, entry.message) == ("PUT", "Update")
        assert "portal_sections" in json.loads(entry.data)
        assert "staff@example.com" in entry.user_label
    again = staff.post(f"/customers/{world.a}/portal-access", {"sections": ["balance", "reports"]}, htmx=True)
    assert "Nothing was changed." in again.get_data(as_text=True)
    assert portal_client(world.ana_email).get("/portal/invoices").status_code == 404

    bad = staff.post(f"/customers/{world.a}/portal-access", {"sections": ["balance", "everything"]}, htmx=True)
    assert bad.status_code == 422 and "not a valid choice" in bad.get_data(as_text=True).lower()
    none = staff.post(f"/customers/{world.a}/portal-access", {}, htmx=True)
    assert none.status_code == 200
    with app.app_context():
        assert db.session.get(Customer, world.a).portal_sections == ""
    assert staff.post("/customers/999999/portal-access", {"sections": ["calls"]}).status_code == 404
    readonly = staff_sign_in(app, "readonly@example.com")
    assert readonly.post(f"/customers/{world.a}/portal-access", {"sections": ["calls"]}).status_code == 403
    assert "Save Portal Access" not in readonly.get(f"/customers/{world.a}/portal-access", htmx=True).get_data(as_text=True)
