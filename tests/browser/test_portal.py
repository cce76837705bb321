"""The customer portal in a real browser: staff's Portal Login as a contact and its return to the
control panel, and a contact's first sign-in with a generated password that must be changed."""
import os
import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

from playwright.sync_api import Page, expect

from panel.actor import SYSTEM
from panel.extensions import db
from tests.browser.test_customer_edit_flow import sign_in
from tests.helpers import temporary_password

TIMEOUT = 5_000  # ms
CONTACT_PASSWORD = "long enough password"
NEW_PASSWORD = "my own password 123"
FAILED = "The e-mail or password is not right, or signing in from your address is not allowed."




def portal_sign_in(page: Page, server, email: str, password: str) -> None:
    """Fill the portal's sign-in form (the page must be on /portal/login)."""
    expect(page).to_have_url(server.url + "/portal/login", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Customer portal")).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_staff_portal_login_shows_what_the_contact_sees_and_returns(live_server, page: Page):
    from panel.contacts.records import create_contact

    name = "Radia Perlman"
    with live_server.app.app_context():
        contact, message = create_contact(SYSTEM, live_server.customer_id, {
            "name": name, "email": "radia@example.com", "contact_type": "Technical",
            "public_notes": "Call the NOC first", "private_notes": "PRIVATE-MARKER-42",
        }, password=CONTACT_PASSWORD)
        db.session.commit()
        contact_id = contact.id
        assert message is None
        db.session.remove()

    main = f"/customers/{live_server.customer_id}"
    page.goto(live_server.url + main)
    sign_in(page, live_server, main)
    contacts = page.locator("#contacts")
    expect(contacts.get_by_role("heading", name=re.compile(r"^Contacts\b"))).to_be_visible(timeout=TIMEOUT)
    expect(contacts).not_to_contain_text("Loading…", timeout=TIMEOUT)
    row = page.locator(f"tr#contact-{contact_id}.contact-row")
    expect(row).to_be_visible(timeout=TIMEOUT)
    # The staff page does show the private notes: the portal must not.
    expect(row).to_contain_text("PRIVATE-MARKER-42")

    row.get_by_label(f"Menu for {name}").click()
    portal_login = row.get_by_role("button", name="Portal Login")
    expect(portal_login).to_be_visible(timeout=TIMEOUT)
    portal_login.click()

    expect(page).to_have_url(live_server.url + "/portal/", timeout=TIMEOUT)
    banner = page.locator(".impersonation")
    expect(banner).to_contain_text(f"Signed in as {name} by {live_server.staff_email}", timeout=TIMEOUT)
    back = banner.get_by_role("button", name="Return to control panel")
    expect(back).to_be_visible()
    expect(page.get_by_role("heading", name=live_server.customer_name, level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Call the NOC first")
    assert "Call the NOC first" in page.content()
    assert "PRIVATE-MARKER-42" not in page.content(), "the portal shows a contact's private notes"
    # In Portal Login staff cannot change the contact's password, nor sign the contact out.
    expect(page.get_by_role("link", name="Password", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    back.click()
    expect(page).to_have_url(live_server.url + main, timeout=TIMEOUT)
    # Still signed in as staff: the control panel's own page, with its staff-only links.
    expect(page.locator("h1")).to_contain_text(live_server.customer_name, timeout=TIMEOUT)
    expect(page.get_by_role("link", name="Edit", exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".impersonation")).to_have_count(0)

    # The Portal Login ended: the portal wants a contact's own sign-in now.
    page.goto(live_server.url + "/portal/")
    expect(page).to_have_url(live_server.url + "/portal/login", timeout=TIMEOUT)
    expect(page.locator(".impersonation")).to_have_count(0)

    from panel.portal.models import PortalLogin

    with live_server.app.app_context():
        login = db.session.scalars(db.select(PortalLogin).where(PortalLogin.contact_id == contact_id)).one()
        assert login.staff_email == live_server.staff_email
        assert login.ended_at is not None
        assert login.end_reason == "returned to the control panel"
        db.session.remove()


def test_contact_signs_in_with_a_generated_password_and_must_change_it(live_server, page: Page, monkeypatch):
    from panel.contacts.records import create_contact
    from panel.mail.outbox import deliver

    monkeypatch.setitem(live_server.app.config, "MAIL_SERVER", "")  # mail goes to <instance>/outbox
    outbox = Path(os.environ["PANEL_INSTANCE_PATH"]) / "outbox"
    email = "barbara@example.com"
    with live_server.app.app_context():
        contact, message = create_contact(SYSTEM, live_server.customer_id, {"name": "Barbara Liskov", "email": email})
        db.session.commit()
        assert message is not None, "no welcome e-mail was queued for a contact without a password"
        temporary = temporary_password(message.body)
        report = deliver([message.id])
        assert report.sent == 1, report
        db.session.remove()
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 1, files
    eml = BytesParser(policy=policy.default).parsebytes(files[0].read_bytes())
    assert str(eml["To"]) == email
    assert temporary_password(eml.get_content()) == temporary

    page.goto(live_server.url + "/portal/login")
    portal_sign_in(page, live_server, email, temporary)

    expect(page).to_have_url(live_server.url + "/portal/password", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_label("Current password")).to_have_count(0)

    # Nothing else of the portal until the password is chosen.
    page.goto(live_server.url + "/portal/")
    expect(page).to_have_url(live_server.url + "/portal/password", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible(timeout=TIMEOUT)

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save password").click()

    expect(page).to_have_url(live_server.url + "/portal/", timeout=TIMEOUT)
    expect(page.locator(".flashes")).to_contain_text("Your password is changed.", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name=live_server.customer_name, level=1)).to_be_visible()
    expect(page.locator(".impersonation")).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(live_server.url + "/portal/login", timeout=TIMEOUT)
    page.goto(live_server.url + "/portal/")
    expect(page).to_have_url(live_server.url + "/portal/login", timeout=TIMEOUT)

    # The temporary password no longer works.
    portal_sign_in(page, live_server, email, temporary)
    expect(page.locator(".form-error")).to_have_text(FAILED, timeout=TIMEOUT)
    expect(page).to_have_url(live_server.url + "/portal/login")

    # The new one does, straight to the portal.
    portal_sign_in(page, live_server, email, NEW_PASSWORD)
    expect(page).to_have_url(live_server.url + "/portal/", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name=live_server.customer_name, level=1)).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("link", name="Password", exact=True)).to_be_visible()
