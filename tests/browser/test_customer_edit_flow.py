"""A staff member's path through a customer in a real browser: sign-in, edit, audit difference,
the live Main tab, and a session that ends while the tab keeps polling."""
import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from panel import unit_of_work
from panel.actor import SYSTEM

TIMEOUT = 5_000  # ms; the overview polls every second in these tests


def sign_in(page: Page, server, expect_path: str) -> None:
    """Fill the sign-in form the browser was sent to, and land on expect_path."""
    expect(page).to_have_url(re.compile(r"/login(\?|$)"), timeout=TIMEOUT)
    page.locator("input[name=email]").fill(server.staff_email)
    page.locator("input[name=password]").fill(server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url + expect_path, timeout=TIMEOUT)
    # The URL changes when the page arrives, before its deferred scripts have run: typing at once could come
    # before htmx listens (a person never types that fast).
    page.wait_for_load_state("load")


def open_signed_in(page: Page, server, path: str) -> None:
    page.goto(server.url + path)
    sign_in(page, server, path)


def wait_for_sections(page: Page) -> None:
    """The Main tab's sections loaded by htmx (hx-trigger="load") have replaced their placeholders."""
    contacts = page.locator("#contacts")
    expect(contacts.get_by_role("heading", name=re.compile(r"^Contacts\b"))).to_be_visible(timeout=TIMEOUT)
    expect(contacts).not_to_contain_text("Loading…", timeout=TIMEOUT)
    expect(contacts).to_contain_text("No contacts yet.", timeout=TIMEOUT)
    for section in ("#number-blocks", "#summary"):
        expect(page.locator(section)).not_to_contain_text("Loading…", timeout=TIMEOUT)


def test_staff_signs_in_edits_a_customer_and_sees_the_difference_in_the_audit_log(live_server, page: Page):
    main = f"/customers/{live_server.customer_id}"
    old_name, new_name = live_server.customer_name, "Acme Telecom International"

    page.goto(live_server.url + main)
    sign_in(page, live_server, main)
    expect(page.locator("h1")).to_contain_text(old_name, timeout=TIMEOUT)
    wait_for_sections(page)

    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}{main}/edit", timeout=TIMEOUT)
    page.locator("#name").fill(new_name)
    page.locator("#debit_limit").fill("250.00")
    page.get_by_role("button", name="Save and Continue").click()

    expect(page).to_have_url(live_server.url + main, timeout=TIMEOUT)
    expect(page.locator("h1")).to_contain_text(new_name, timeout=TIMEOUT)
    expect(page.locator(".flashes")).to_contain_text("Saved.", timeout=TIMEOUT)
    expect(page.locator("#overview")).to_contain_text("250.00 USD", timeout=TIMEOUT)

    page.get_by_role("link", name="View Audit Log").click()
    expect(page).to_have_url(f"{live_server.url}{main}/audit", timeout=TIMEOUT)
    newest = page.locator("table.audit tbody tr[id^='audit-']").first
    expect(newest).to_contain_text("Update", timeout=TIMEOUT)
    newest.get_by_role("button", name="View Difference").click()

    difference = page.locator(".difference tbody tr")
    name_row = difference.filter(has=page.get_by_role("cell", name="name", exact=True))
    expect(name_row).to_have_count(1, timeout=TIMEOUT)
    expect(name_row.locator("td")).to_have_text(["name", old_name, new_name])
    debit_row = difference.filter(has=page.get_by_role("cell", name="debit_limit", exact=True))
    expect(debit_row.locator("td").nth(2)).to_contain_text("250")


def test_invalid_customer_input_keeps_what_was_typed(live_server, page: Page):
    edit = f"/customers/{live_server.customer_id}/edit"
    open_signed_in(page, live_server, edit)

    page.locator("#name").fill("Acme Renamed")
    page.locator("#debit_limit").fill("abc")
    page.get_by_role("button", name="Save and Continue").click()

    debit_field = page.locator(".field", has=page.locator("#debit_limit"))
    expect(debit_field.locator(".error")).to_have_text("Enter an amount such as 250 or 250.00.", timeout=TIMEOUT)
    expect(page.locator("#debit_limit")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#debit_limit")).to_have_value("abc")
    expect(page.locator("#name")).to_have_value("Acme Renamed")
    expect(page).to_have_url(live_server.url + edit)

    # Nothing was saved.
    from panel.customers.models import Customer
    from panel.extensions import db

    with live_server.app.app_context():
        assert db.session.get(Customer, live_server.customer_id).name == live_server.customer_name


def test_channels_in_use_refreshes_without_reloading(live_server, page: Page):
    from panel.customers.accounts import set_channels_in_use

    main = f"/customers/{live_server.customer_id}"
    open_signed_in(page, live_server, main)
    channels = page.get_by_test_id("channels")
    expect(channels).to_have_text("0 / 30", timeout=TIMEOUT)
    wait_for_sections(page)

    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    page.evaluate("window.__marker = 1")

    with live_server.app.app_context():
        set_channels_in_use(SYSTEM, live_server.customer_id, 7)
        unit_of_work.commit()

    expect(channels).to_contain_text("7 /", timeout=TIMEOUT)
    expect(channels).to_have_text("7 / 30")
    assert page.evaluate("window.__marker") == 1, "the page was reloaded instead of the section refreshed"
    assert navigations == []
    expect(page).to_have_url(live_server.url + main)


def test_expired_session_on_an_htmx_request_goes_to_the_login_page(live_server, page: Page):
    main = f"/customers/{live_server.customer_id}"
    open_signed_in(page, live_server, main)
    wait_for_sections(page)

    polls = []
    page.on("response", lambda r: polls.append(r) if urlsplit(r.url).path == f"{main}/overview" else None)
    page.context.clear_cookies()

    expect(page).to_have_url(re.compile(r"/login\?next="), timeout=TIMEOUT)
    url = urlsplit(page.url)
    assert url.path == "/login"
    assert parse_qs(url.query)["next"] == [main]
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#overview")).to_have_count(0)

    # The poll that found no session was answered with HX-Redirect, not with the sign-in page
    # (which htmx would have swapped into #overview).
    unauthorised = [r for r in polls if r.status != 200]
    assert unauthorised, f"no overview poll was refused: {[(r.status, r.url) for r in polls]}"
    assert unauthorised[0].status == 401
    assert unauthorised[0].headers.get("hx-redirect", "").startswith("/login?next=")

    # Signing in again returns to the customer.
    sign_in(page, live_server, main)
