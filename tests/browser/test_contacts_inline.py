"""Contacts on the customer Main tab, in a real browser: inline edit, messages kept in the form,
Save and Stay, a delayed save applied by the worker while the page stays open, and notes that
look like a password."""
import os
import re
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from panel.actor import SYSTEM
from panel.extensions import db
from tests.browser.test_customer_edit_flow import sign_in
from tests.helpers import temporary_password

TIMEOUT = 5_000  # ms
APPLIED_TIMEOUT = 10_000  # ms: a delayed save due in 4 s, a worker pass every 0.5 s, a badge polling every 3 s
CONTACT_PASSWORD = "long enough password"
BAD_EMAIL_MESSAGE = "Enter an e-mail address such as name@example.com."


def add_contact(server, **values) -> int:
    """Setup only: a contact of the live server's customer, added with the app's own function."""
    from panel.contacts.records import create_contact

    with server.app.app_context():
        contact, _message = create_contact(SYSTEM, server.customer_id, values, password=CONTACT_PASSWORD)
        db.session.commit()
        contact_id = contact.id
        db.session.remove()
    return contact_id


def stored_contact(server, contact_id: int) -> dict:
    from panel.contacts.models import Contact

    with server.app.app_context():
        contact = db.session.get(Contact, contact_id)
        values = {k: getattr(contact, k) for k in ("name", "email", "phone", "mobile", "private_notes")}
        db.session.remove()
    return values


def open_main_tab(page: Page, server) -> str:
    """Sign in on the customer's Main tab and wait for its Contacts section."""
    main = f"/customers/{server.customer_id}"
    page.goto(server.url + main)
    sign_in(page, server, main)
    contacts = page.locator("#contacts")
    expect(contacts.get_by_role("heading", name=re.compile(r"^Contacts\b"))).to_be_visible(timeout=TIMEOUT)
    expect(contacts).not_to_contain_text("Loading…", timeout=TIMEOUT)
    return main


def watch_for_reloads(page: Page) -> list:
    """Mark the window and record main-frame navigations: both show a reload instead of a swap."""
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    page.evaluate("window.__marker = 1")
    return navigations


def assert_not_reloaded(page: Page, navigations: list) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was reloaded instead of the row swapped"
    assert navigations == [], f"the page navigated: {navigations}"


def contact_row(page: Page, contact_id: int) -> Locator:
    """The contact's row as shown (not its edit form)."""
    return page.locator(f"tr#contact-{contact_id}.contact-row")


def cells(row: Locator) -> dict:
    """The row's cells by column (the Main tab has no Customer column)."""
    names = ("name", "email", "type", "phone", "mobile", "verified", "public_notes", "private_notes")
    return {name: row.locator("td").nth(i) for i, name in enumerate(names)}


def open_edit_form(page: Page, contact_id: int) -> Locator:
    """Click the row (its name cell, not the ▾ menu) and return its inline edit form."""
    row = contact_row(page, contact_id)
    expect(row).to_be_visible(timeout=TIMEOUT)
    cells(row)["name"].click()
    form = page.locator(f"tr#contact-{contact_id}.editing form")
    expect(form).to_be_visible(timeout=TIMEOUT)
    expect(contact_row(page, contact_id)).to_have_count(0)
    return form


def field_of(form: Locator, name: str) -> Locator:
    """The .field block around the control named `name` (label, help and messages)."""
    # `has` is matched inside each div.field: a selector from the page, not one chained from the form.
    return form.locator("div.field", has=form.page.locator(f"[name={name}]")).last


def test_contact_is_edited_inline_and_the_row_comes_back(live_server, page: Page):
    contact_id = add_contact(live_server, name="Grace Hopper", email="grace@example.com", phone="+1 555 0100")
    open_main_tab(page, live_server)
    row = contact_row(page, contact_id)
    expect(cells(row)["phone"]).to_have_text("+1 555 0100", timeout=TIMEOUT)
    navigations = watch_for_reloads(page)

    form = open_edit_form(page, contact_id)
    expect(form.get_by_role("heading", name="Edit Grace Hopper")).to_be_visible()
    expect(form.locator("input[name=phone]")).to_have_value("+1 555 0100")
    form.locator("input[name=phone]").fill("+1 555 0199")
    form.get_by_role("button", name="Save and Continue").click()

    expect(cells(row)["phone"]).to_have_text("+1 555 0199", timeout=TIMEOUT)
    expect(cells(row)["name"]).to_contain_text("Grace Hopper")
    expect(cells(row)["name"].locator(".notice")).to_have_text("Saved.")
    expect(page.locator(f"tr#contact-{contact_id}.editing")).to_have_count(0)
    expect(page.locator(f"#contact-{contact_id}")).to_have_count(1)
    assert_not_reloaded(page, navigations)

    assert stored_contact(live_server, contact_id)["phone"] == "+1 555 0199"


def test_invalid_contact_input_stays_in_the_form_with_messages(live_server, page: Page):
    contact_id = add_contact(live_server, name="Ada Lovelace", email="ada@example.com")
    open_main_tab(page, live_server)
    navigations = watch_for_reloads(page)

    form = open_edit_form(page, contact_id)
    form.locator("input[name=name]").fill("Ada King")
    form.locator("input[name=email]").fill("not-an-email")
    with page.expect_response(lambda r: r.request.method == "POST" and f"/contacts/{contact_id}" in r.url) as posted:
        form.get_by_role("button", name="Save and Continue").click()
    assert posted.value.status == 422

    form = page.locator(f"tr#contact-{contact_id}.editing form")
    expect(form).to_be_visible(timeout=TIMEOUT)
    expect(field_of(form, "email").locator(".error")).to_have_text(BAD_EMAIL_MESSAGE, timeout=TIMEOUT)
    expect(form.locator("input[name=email]")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("input[name=email]")).to_have_value("not-an-email")
    expect(form.locator("input[name=name]")).to_have_value("Ada King")
    expect(field_of(form, "name").locator(".error")).to_have_count(0)
    assert stored_contact(live_server, contact_id)["name"] == "Ada Lovelace"

    form.get_by_role("button", name="Cancel").click()
    row = contact_row(page, contact_id)
    expect(row).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(f"tr#contact-{contact_id}.editing")).to_have_count(0)
    expect(cells(row)["name"]).to_contain_text("Ada Lovelace")
    expect(cells(row)["email"]).to_have_text("ada@example.com")
    assert_not_reloaded(page, navigations)
    assert stored_contact(live_server, contact_id) == {
        "name": "Ada Lovelace", "email": "ada@example.com", "phone": "", "mobile": "", "private_notes": "",
    }


def _temporary_password(eml: Path) -> tuple[str, str, str]:
    """(to, subject, temporary password) of a welcome e-mail written to the outbox."""
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    body = message.get_content()
    return str(message["To"]), str(message["Subject"]), temporary_password(body)


def test_save_and_stay_twice_adds_two_contacts_in_a_row(live_server, page: Page, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "MAIL_SERVER", "")  # mail goes to <instance>/outbox
    outbox = Path(os.environ["PANEL_INSTANCE_PATH"]) / "outbox"
    assert Path(live_server.app.instance_path) == outbox.parent
    people = [("Katherine Johnson", "katherine@example.com"), ("Dorothy Vaughan", "dorothy@example.com")]

    open_main_tab(page, live_server)
    expect(page.locator("#contacts")).to_contain_text("No contacts yet.", timeout=TIMEOUT)
    navigations = watch_for_reloads(page)

    page.get_by_role("button", name="Add contact").click()
    form = page.locator("#new-contact")
    expect(form.get_by_role("heading", name="New contact")).to_be_visible(timeout=TIMEOUT)
    for name, email in people:
        expect(form.locator("input[name=name]")).to_have_value("")
        expect(form.locator("input[name=email]")).to_have_value("")
        expect(form.get_by_label("Auto Generate Password")).to_be_checked()
        form.locator("input[name=name]").fill(name)
        form.locator("input[name=email]").fill(email)
        form.locator("select[name=contact_type]").select_option("Technical")  # chosen deliberately, never a default
        form.get_by_role("button", name="Save and Stay").click()

        notice = page.locator("#contacts > .notice")
        expect(notice).to_contain_text(f"Contact {name} added.", timeout=TIMEOUT)
        expect(notice).to_contain_text(re.compile(r"^Saved\."))
        expect(notice).to_contain_text(f"An e-mail with a temporary password was sent to {email}.")
        expect(form).to_be_visible()
        expect(form.locator("input[name=name]")).to_have_value("")
        expect(form.locator("input[name=email]")).to_have_value("")

    rows = page.locator("#contact-rows tr.contact-row")
    expect(rows).to_have_count(2, timeout=TIMEOUT)
    # Sorted by name.
    expect(rows.locator("td:first-child strong")).to_have_text(["Dorothy Vaughan", "Katherine Johnson"])
    expect(rows.locator("td:nth-child(2)")).to_have_text(["dorothy@example.com", "katherine@example.com"])
    expect(page.locator("#contact-count")).to_have_text("(2)")
    expect(form).to_be_visible()
    expect(form.locator("input[name=name]")).to_have_value("")
    expect(form.locator("input[name=email]")).to_have_value("")
    expect(form.locator(".error")).to_have_count(0)
    assert_not_reloaded(page, navigations)

    # A welcome e-mail for each, delivered at once to the outbox; its password is never shown.
    files = sorted(outbox.glob("*.eml"))
    welcome = [_temporary_password(path) for path in files]
    assert sorted(to for to, _subject, _password in welcome) == sorted(email for _name, email in people), files
    assert all(subject == "Your customer portal account" for _to, subject, _password in welcome)
    html = page.content()
    for to, _subject, password in welcome:
        assert len(password) >= 8
        assert password not in html, f"the temporary password of {to} is in the page"


def test_delay_and_save_is_applied_without_reloading(live_server, worker_thread, page: Page):
    from panel.delayed.models import PendingChange

    old_mobile, new_mobile = "+44 7700 900001", "+44 7700 900999"
    contact_id = add_contact(live_server, name="Margaret Hamilton", email="margaret@example.com", mobile=old_mobile)
    open_main_tab(page, live_server)
    row = contact_row(page, contact_id)
    expect(cells(row)["mobile"]).to_have_text(old_mobile, timeout=TIMEOUT)
    navigations = watch_for_reloads(page)

    form = open_edit_form(page, contact_id)
    form.locator("input[name=mobile]").fill(new_mobile)
    form.locator("select[name=delay]").select_option(label="at a date and time (UTC)…")
    until = form.locator("input[name=delay_until]")
    expect(until).to_be_visible(timeout=TIMEOUT)
    due = datetime.now(UTC) + timedelta(seconds=4)
    until.fill(due.strftime("%Y-%m-%dT%H:%M:%S"))
    form.get_by_role("button", name="Delay and Save").click()

    # Stored, not applied: the row keeps the old mobile and says when the change applies.
    badge = row.locator(".badge.pending")
    expect(badge).to_contain_text("pending, applies at", timeout=TIMEOUT)
    expect(badge).to_contain_text(due.strftime("%Y-%m-%d %H:%M") + " UTC")
    expect(cells(row)["mobile"]).to_have_text(old_mobile)
    pending = page.locator("#pending")
    listed = pending.locator("li.pending", has_text="Contact Margaret Hamilton")
    expect(listed).to_contain_text(new_mobile, timeout=TIMEOUT)
    expect(listed).to_contain_text("pending, applies at")
    expect(listed.get_by_role("button", name="Cancel")).to_be_visible()

    # The worker applies it; the badge's poll brings the row back with the new value.
    expect(cells(row)["mobile"]).to_have_text(new_mobile, timeout=APPLIED_TIMEOUT)
    expect(row.locator(".badge")).to_have_count(0)
    expect(row).to_have_count(1)
    assert_not_reloaded(page, navigations)
    expect(page).to_have_url(f"{live_server.url}/customers/{live_server.customer_id}")

    assert stored_contact(live_server, contact_id)["mobile"] == new_mobile
    with live_server.app.app_context():
        change = db.session.scalars(db.select(PendingChange).where(PendingChange.row_id == contact_id)).one()
        assert (change.status, change.table_name, change.kind) == ("applied", "contact", "update")
        db.session.remove()
    assert worker_thread.applied == 1


def test_password_like_notes_need_confirmation(live_server, page: Page):
    contact_id = add_contact(live_server, name="Hedy Lamarr", email="hedy@example.com")
    open_main_tab(page, live_server)
    navigations = watch_for_reloads(page)

    form = open_edit_form(page, contact_id)
    expect(form.get_by_label("These notes hold no password")).to_have_count(0)
    form.locator("textarea[name=private_notes]").fill("pwd=hunter22")
    form.get_by_role("button", name="Save and Continue").click()

    form = page.locator(f"tr#contact-{contact_id}.editing form")
    expect(field_of(form, "private_notes").locator(".error")).to_contain_text(
        "This looks like a password", timeout=TIMEOUT)
    expect(form.locator("textarea[name=private_notes]")).to_have_value("pwd=hunter22")
    assert stored_contact(live_server, contact_id)["private_notes"] == ""

    confirm = form.get_by_label("These notes hold no password")
    expect(confirm).not_to_be_checked()
    confirm.check()
    form.get_by_role("button", name="Save and Continue").click()

    row = contact_row(page, contact_id)
    expect(cells(row)["private_notes"]).to_have_text("pwd=hunter22", timeout=TIMEOUT)
    expect(page.locator(f"tr#contact-{contact_id}.editing")).to_have_count(0)
    assert_not_reloaded(page, navigations)
    assert stored_contact(live_server, contact_id)["private_notes"] == "pwd=hunter22"
