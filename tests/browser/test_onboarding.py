"""The New sub-account flow in a real browser: a portal Admin contact onboards a sub-account with a
Maintainer and an Onsite Admin and sees it created; then tries one without an Onsite Admin and is told why."""
import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from panel.extensions import db
from tests.browser.test_portal import portal_sign_in
from tests.factories import ContactFactory

TIMEOUT = 5_000  # ms
PASSWORD = "admin contact password"
ADMIN_EMAIL = "grace@acme.example"


def _admin_contact(server) -> None:
    """An Admin contact who has chosen their own password (one typed by staff would be temporary)."""
    with server.app.app_context():
        ContactFactory(customer_id=server.customer_id, name="Grace Hopper", email=ADMIN_EMAIL, contact_type="Admin",
                       password=PASSWORD)
        db.session.remove()


def _customer_information(page: Page, name: str) -> None:
    expect(page.get_by_role("heading", name="1. Customer information")).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Business type").select_option("Retail")
    page.get_by_label("Address", exact=True).fill("42 Harbour Road")
    page.get_by_label("City").fill("Portsmouth")
    page.get_by_label("Postal code").fill("PO1 2AB")
    page.get_by_label("Country (2 letters)").fill("gb")


def _support_row(page: Page, n: int, name: str, email: str, kind: str) -> None:
    page.get_by_label(f"Support contact {n} name").fill(name)
    page.get_by_label(f"Support contact {n} e-mail").fill(email)
    page.get_by_label(f"Support contact {n} type").select_option(kind)


def test_a_portal_admin_onboards_a_sub_account_and_is_told_what_is_missing(live_server, page: Page, monkeypatch):
    from panel.contacts.models import Contact
    from panel.customers.models import Customer

    monkeypatch.setitem(live_server.app.config, "MAIL_SERVER", "")  # welcome mail goes to <instance>/outbox
    _admin_contact(live_server)
    page.goto(live_server.url + "/portal/login")
    portal_sign_in(page, live_server, ADMIN_EMAIL, PASSWORD)
    expect(page).to_have_url(live_server.url + "/portal/", timeout=TIMEOUT)

    page.goto(live_server.url + "/portal/onboarding/")
    expect(page.get_by_role("heading", name="New sub-account", level=1)).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("link", name="+ New sub-account").click()

    # Step 1: the customer and its mailing address; the currency is the reseller's.
    _customer_information(page, "Globex Harbour")
    expect(page.locator("main")).to_contain_text("USD")
    page.get_by_role("button", name="Next", exact=True).click()

    # Step 2: an admin contact; a second row is added and removed again, keeping what was typed.
    expect(page.get_by_role("heading", name="2. Admin contacts")).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("Admin contact 1 name").fill("Hank Scorpio")
    page.get_by_label("Admin contact 1 e-mail").fill("hank@globex.example")
    page.get_by_role("button", name="+ Add an admin contact").click()
    expect(page.get_by_label("Admin contact 2 name")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_label("Admin contact 1 name")).to_have_value("Hank Scorpio")
    page.get_by_role("button", name="Remove admin contact 2").click()
    expect(page.get_by_label("Admin contact 2 name")).to_have_count(0, timeout=TIMEOUT)
    page.get_by_role("button", name="Next", exact=True).click()

    # Step 3: the rows start as a Maintainer and an Onsite Admin.
    expect(page.get_by_role("heading", name="3. Support contacts")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_label("Support contact 1 type")).to_have_value("Maintainer")
    expect(page.get_by_label("Support contact 2 type")).to_have_value("Onsite Admin")
    _support_row(page, 1, "Mona Maint", "mona@globex.example", "Maintainer")
    _support_row(page, 2, "Otto Onsite", "otto@globex.example", "Onsite Admin")
    page.get_by_role("button", name="Create customer").click()

    expect(page).to_have_url(re.compile(re.escape(live_server.url) + r"/portal/customers/\d+$"), timeout=TIMEOUT)
    expect(page.locator(".flashes")).to_contain_text(
        "Customer Globex Harbour", timeout=TIMEOUT)
    expect(page.locator(".flashes")).to_contain_text(f"is created as a sub-account of {live_server.customer_name}")
    expect(page.get_by_role("heading", name="Globex Harbour", level=1)).to_be_visible()
    with live_server.app.app_context():
        created = db.session.scalar(sa.select(Customer).where(Customer.name == "Globex Harbour"))
        assert (created.reseller_id, created.currency, created.status, created.country) == (
            live_server.customer_id, "USD", "Pending Approval", "GB")
        kinds = sorted(db.session.scalars(sa.select(Contact.contact_type).where(Contact.customer_id == created.id)))
        assert kinds == ["Admin", "Maintainer", "Onsite Admin"]
        db.session.remove()

    # A second sub-account, without an Onsite Admin: Enter in a field means "Create customer", and the
    # page says what is missing; nothing is created.
    page.goto(live_server.url + "/portal/onboarding/new")
    _customer_information(page, "Initech Dock")
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="2. Admin contacts")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="3. Support contacts")).to_be_visible(timeout=TIMEOUT)
    _support_row(page, 1, "Milton Maint", "milton@initech.example", "Maintainer")
    _support_row(page, 2, "Peter Other", "peter@initech.example", "Other")
    page.get_by_label("Support contact 2 e-mail").press("Enter")

    expect(page.locator(".form-error")).to_have_text("Add an Onsite Admin support contact.", timeout=TIMEOUT)
    expect(page.get_by_label("Support contact 2 name")).to_have_value("Peter Other")
    expect(page.get_by_label("Support contact 2 type")).to_have_value("Other")
    with live_server.app.app_context():
        assert db.session.scalar(sa.select(Customer.id).where(Customer.name == "Initech Dock")) is None
        assert db.session.scalar(sa.select(Contact.id).where(Contact.email == "milton@initech.example")) is None
        db.session.remove()

    # Save and Back keeps the draft, and Resume opens it at the step it was left on.
    page.get_by_role("button", name="Save and Back").click()
    expect(page).to_have_url(live_server.url + "/portal/onboarding/", timeout=TIMEOUT)
    row = page.locator("#drafts tr", has_text="Initech Dock")
    expect(row).to_contain_text("3. Support contacts")
    row.get_by_role("link", name="Resume").click()
    expect(page.get_by_label("Support contact 1 name")).to_have_value("Milton Maint", timeout=TIMEOUT)
