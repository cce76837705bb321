"""The main flows with the keyboard only (Tab, Enter, Escape, arrows; no mouse click): sign in, find a
customer, edit a contact, reset its password, Portal Login and back, assign a number block, select Summary
cells and copy them. Focus follows the work: the first field of a form that opens, the row when it closes."""
import re

import pytest
from playwright.sync_api import Page, expect

from panel import unit_of_work
from panel.extensions import db
from tests.factories import ContactFactory, StaffUserFactory
from tests.helpers import PASSWORD

TIMEOUT = 5_000  # ms
ADMIN_EMAIL = "admin@example.com"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "permissions": ["clipboard-read", "clipboard-write"]}


def tab_to(page: Page, selector: str, most: int = 250, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches `selector`."""
    for _ in range(most):
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{selector} was not reached with {most} presses of Tab")


def focused(page: Page, selector: str) -> None:
    expect(page.locator(selector)).to_be_focused(timeout=TIMEOUT)


@pytest.fixture
def world(live_server):
    from panel.numbering.allocation import NumberRange, save_range

    with live_server.app.app_context():
        StaffUserFactory(email=ADMIN_EMAIL, role="admin")
        contact_id = ContactFactory(customer_id=live_server.customer_id, name="Kay Board", email="kay@example.com",
                                    contact_type="Technical").id
        with unit_of_work.unit():
            save_range(NumberRange(1000, 1999, 100))
        db.session.remove()
    return contact_id


def test_the_main_flows_by_keyboard_only(live_server, world, page: Page):
    contact = world
    row = f"tr#contact-{contact}.contact-row"
    url = live_server.url

    # Sign in: the e-mail field has the focus.
    page.goto(url + "/customers")
    focused(page, "input[name=email]")
    page.keyboard.type(ADMIN_EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(url + "/customers", timeout=TIMEOUT)

    # A skip link first, then find the customer by typing in the search box (it has the focus).
    focused(page, "input[name=q][type=search]")
    page.keyboard.type("Acme")
    expect(page.locator("#results")).to_contain_text(live_server.customer_name, timeout=TIMEOUT)
    tab_to(page, f"#results a[href='/customers/{live_server.customer_id}']")
    page.keyboard.press("Enter")
    expect(page).to_have_url(url + f"/customers/{live_server.customer_id}", timeout=TIMEOUT)
    for section in ("#contacts", "#number-blocks", "#summary"):
        expect(page.locator(section)).not_to_contain_text("Loading…", timeout=TIMEOUT)

    # Edit a contact: Enter on the row opens the editor with the focus in its first field; Escape cancels.
    tab_to(page, row)
    page.keyboard.press("Enter")
    name = page.locator(f"tr#contact-{contact}.editing input[name=name]")
    expect(name).to_be_focused(timeout=TIMEOUT)
    page.keyboard.press("Escape")
    focused(page, row)
    page.keyboard.press("Enter")
    expect(name).to_be_focused(timeout=TIMEOUT)
    page.keyboard.press("Control+a")
    page.keyboard.type("Kay Keyboard")
    tab_to(page, "button[value=continue]")
    page.keyboard.press("Enter")
    focused(page, row)  # back on the row, which says it was saved, and a toast says so in view
    expect(page.locator(row)).to_contain_text("Kay Keyboard")
    expect(page.locator(row).locator(".notice")).to_have_text("Saved.")
    expect(page.locator("#toast")).to_have_text("Saved.")
    expect(page.locator("#toast")).to_be_in_viewport()

    # Reset the password from the row menu: Tab to ▾, Enter opens it, arrows move, Escape closes.
    menu = f"tr#contact-{contact} .row-menu summary"
    tab_to(page, menu)
    page.keyboard.press("Enter")
    expect(page.locator(f"tr#contact-{contact} .row-menu details")).to_have_attribute("open", "", timeout=TIMEOUT)
    focused(page, f"tr#contact-{contact} .menu button:text-is('Edit')")
    page.keyboard.press("Escape")
    expect(page.locator(f"tr#contact-{contact} .row-menu details")).not_to_have_attribute("open", "")
    focused(page, menu)
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    focused(page, f"tr#contact-{contact} .menu button:text-is('Change Password')")
    page.keyboard.press("Enter")
    expect(page.locator(f"tr#contact-{contact}.editing input[name=auto_password]")).to_be_focused(timeout=TIMEOUT)
    tab_to(page, f"tr#contact-{contact}.editing button[type=submit]")
    page.keyboard.press("Enter")
    focused(page, row)
    expect(page.locator(row).locator(".notice")).to_be_visible()

    # Portal Login and back.
    tab_to(page, menu, backwards=True)
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    focused(page, f"tr#contact-{contact} .menu button:text-is('Portal Login')")
    page.keyboard.press("Enter")
    expect(page).to_have_url(url + "/portal/", timeout=TIMEOUT)
    page.keyboard.press("Tab")
    focused(page, "a.skip-link")
    tab_to(page, ".impersonation button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(url + f"/customers/{live_server.customer_id}", timeout=TIMEOUT)
    for section in ("#contacts", "#number-blocks", "#summary"):
        expect(page.locator(section)).not_to_contain_text("Loading…", timeout=TIMEOUT)

    # Assign a number block.
    page.keyboard.press("Tab")
    tab_to(page, "#number-blocks button[aria-label='Assign the next number block']")
    page.keyboard.press("Enter")
    expect(page.locator("#number-blocks")).to_contain_text("1000", timeout=TIMEOUT)

    # Summary cells: Tab into the grid, Shift+arrows select, the context-menu key opens Copy.
    tab_to(page, "#summary-grid td[data-col]")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    expect(page.locator("#summary-grid td[aria-selected=true]")).to_have_count(2, timeout=TIMEOUT)
    page.keyboard.press("Shift+F10")
    expect(page.locator("#summary-menu")).to_be_visible(timeout=TIMEOUT)
    copy = page.locator("#summary-menu button[data-summary-action=copy]")
    if not page.evaluate("document.activeElement && document.activeElement.matches('#summary-menu button')"):
        page.keyboard.press("ArrowDown")
    expect(copy).to_be_focused(timeout=TIMEOUT)
    page.keyboard.press("Enter")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(r"[^\t\n]*\n[^\t\n]*\n?", copied), copied


def test_one_row_menu_open_at_a_time_closed_by_a_click_elsewhere_or_escape(live_server, world, page: Page):
    with live_server.app.app_context():
        other = ContactFactory(customer_id=live_server.customer_id, name="Mo Mouse", email="mo@example.com").id
        db.session.remove()
    page.goto(live_server.url + "/login")
    page.locator("input[name=email]").fill(ADMIN_EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server.url + "/contacts")
    first = page.locator(f"tr#contact-{world} .row-menu details")
    second = page.locator(f"tr#contact-{other} .row-menu details")
    first.locator("summary").click()
    expect(first).to_have_attribute("open", "")
    second.locator("summary").click()
    expect(second).to_have_attribute("open", "")
    expect(first).not_to_have_attribute("open", "")  # only one open at a time
    page.locator("main h1").click()
    expect(second).not_to_have_attribute("open", "")  # a click elsewhere closes it
    first.locator("summary").click()
    expect(first).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(first).not_to_have_attribute("open", "")
    expect(first.locator("summary")).to_be_focused()
    # The Edit item opens the inline editor, focus in its first field.
    first.locator("summary").click()
    first.get_by_role("button", name="Edit", exact=True).click()
    expect(page.locator(f"tr#contact-{world}.editing input[name=name]")).to_be_focused(timeout=TIMEOUT)
    page.keyboard.press("Escape")
    expect(page.locator(f"tr#contact-{world}.contact-row")).to_be_focused(timeout=TIMEOUT)

    # Delete from the menu: the toast says so (HX-Trigger notice), the focus goes to the row beside it.
    page.on("dialog", lambda dialog: dialog.accept())
    menu = page.locator(f"tr#contact-{other} .row-menu summary")
    menu.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowUp")  # from the first item up to the last: Delete
    expect(page.locator(f"tr#contact-{other} .menu button.danger")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"tr#contact-{other}")).to_have_count(0, timeout=TIMEOUT)
    expect(page.locator("#toast")).to_have_text("Contact Mo Mouse deleted.")

    expect(page.locator("tr.contact-row:focus")).to_have_count(1, timeout=TIMEOUT)
