"""Accessibility, checked by axe-core (node_modules/axe-core, pinned in package.json) on every page and
main fragment of the panel and the portal: no serious or critical violation. And narrow screens: no page
scrolls sideways at 800 px (panel) or 375 px (portal), and the row menus stay in view.

axe is injected as an init script of the browser context (Page.addScriptToEvaluateOnNewDocument), which
the pages' Content-Security-Policy does not apply to: the pages keep their CSP while they are checked."""
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from panel.extensions import db
from tests.browser.test_onboarding import _customer_information
from tests.factories import (
    ContactFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    NumberBlockFactory,
    PaymentFactory,
    StaffUserFactory,
)
from tests.helpers import CONTACT_PASSWORD, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT = 5_000  # ms
ADMIN_EMAIL = "admin@example.com"
CONTACT_EMAIL = "ada.admin@example.com"
SERIOUS = ("serious", "critical")


def axe_problems(page: Page, where: str, context: str | None = None) -> list[str]:
    """The serious and critical violations axe finds on the page as it is now (or inside `context`)."""
    result = page.evaluate(
        """async (context) => {
             const found = await window.axe.run(context ? document.querySelector(context) : document,
                                                {resultTypes: ["violations"]});
             return found.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
           }""",
        context,
    )
    return [f"{where}: {v['id']} ({v['impact']}) {v['help']} at {v['nodes']}" for v in result if v["impact"] in SERIOUS]


@pytest.fixture
def world(live_server):
    """An admin, an Admin contact of the customer with an invoice, a payment and a number block."""
    with live_server.app.app_context():
        StaffUserFactory(email=ADMIN_EMAIL, role="admin")
        contact = ContactFactory(customer_id=live_server.customer_id, name="Ada Admin", email=CONTACT_EMAIL,
                                 contact_type="Admin", phone="+44 20 7946 0958", mobile="+44 7700 900123",
                                 public_notes="Call the NOC first", private_notes="Prefers e-mail")
        invoice = InvoiceFactory(customer_id=live_server.customer_id, total=Decimal("12.50"))
        InvoiceLineFactory(invoice_id=invoice.id, charge=Decimal("12.50"))
        PaymentFactory(customer_id=live_server.customer_id, amount=Decimal("5"))
        NumberBlockFactory(customer_id=live_server.customer_id)
        ids = {"contact": contact.id, "invoice": invoice.id, "number": invoice.number}
        db.session.remove()
    return ids


def staff_sign_in(page: Page, server, email: str) -> None:
    page.goto(server.url + "/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"), timeout=TIMEOUT)


def portal_sign_in(page: Page, server) -> None:
    page.goto(server.url + "/portal/login")
    page.locator("input[name=email]").fill(CONTACT_EMAIL)
    page.locator("input[name=password]").fill(CONTACT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url + "/portal/", timeout=TIMEOUT)


def with_axe(page: Page) -> None:
    assert AXE.is_file(), f"axe-core is missing at {AXE}: run npm install (package.json pins it)"
    page.context.add_init_script(path=str(AXE))


def test_panel_pages_and_fragments_have_no_serious_accessibility_violations(live_server, world, page: Page):
    with_axe(page)
    cid = live_server.customer_id
    problems = []
    page.goto(live_server.url + "/login")
    expect(page.locator("input[name=email]")).to_be_focused()  # the sign-in page focuses the e-mail field
    problems += axe_problems(page, "/login")
    staff_sign_in(page, live_server, ADMIN_EMAIL)

    pages = ["/customers", "/contacts", "/audit", "/delay-log", "/settings/options", "/settings/api-tokens",
             f"/customers/{cid}/invoices/{world['invoice']}", f"/customers/{cid}/edit", "/customers/new",
             f"/customers/{cid}/audit", f"/customers/{cid}/support-credits", f"/customers/{cid}/payments/new",
             "/onboarding/", "/onboarding/new"]
    for path in pages:
        page.goto(live_server.url + path)
        expect(page.locator("main h1").first).to_be_visible(timeout=TIMEOUT)
        problems += axe_problems(page, path)

    # The Main tab with its sections loaded, then the inline editor, Change Password and the new-contact form.
    page.goto(live_server.url + f"/customers/{cid}")
    for section in ("#contacts", "#number-blocks", "#summary", "#invoices", "#payments", "#deployments", "#issue-reports"):
        expect(page.locator(section)).not_to_contain_text("Loading…", timeout=TIMEOUT)
    problems += axe_problems(page, "Main tab")
    row = page.locator(f"tr#contact-{world['contact']}")
    row.click()
    expect(page.locator(f"tr#contact-{world['contact']}.editing form")).to_be_visible(timeout=TIMEOUT)
    problems += axe_problems(page, "contact inline editor")
    page.keyboard.press("Escape")
    expect(page.locator(f"tr#contact-{world['contact']}.contact-row")).to_be_visible(timeout=TIMEOUT)
    page.locator('summary[aria-label="Menu for Ada Admin"]').click()
    problems += axe_problems(page, "contact row menu open")
    page.get_by_role("button", name="Change Password").click()
    expect(page.locator(f"tr#contact-{world['contact']}.editing form")).to_be_visible(timeout=TIMEOUT)
    problems += axe_problems(page, "Change Password form")
    page.get_by_role("button", name="Add contact").click()
    expect(page.locator("#new-contact")).to_be_visible(timeout=TIMEOUT)
    problems += axe_problems(page, "new contact form")
    for tab in ("Daily", "Monthly"):
        page.locator("#summary").get_by_role("tab", name=tab).click()
        expect(page.locator("#summary").get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true", timeout=TIMEOUT)
        problems += axe_problems(page, f"Summary, {tab} tab", "#summary")

    # The onboarding steps; "+ Add an admin contact" puts the focus in the new row's first field.
    page.goto(live_server.url + "/onboarding/new")
    _customer_information(page, "Globex Axe")
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="2. Admin contacts")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="+ Add an admin contact").click()
    expect(page.get_by_label("Admin contact 2 name")).to_be_focused(timeout=TIMEOUT)
    problems += axe_problems(page, "onboarding step 2")
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="3. Support contacts")).to_be_visible(timeout=TIMEOUT)
    problems += axe_problems(page, "onboarding step 3")
    page.get_by_role("button", name="Create customer", exact=True).click()  # refused: no Onsite Admin yet
    expect(page.locator(".form-error")).to_be_visible(timeout=TIMEOUT)
    problems += axe_problems(page, "onboarding step 3, refused")
    assert not problems, "\n".join(problems)


def test_portal_pages_have_no_serious_accessibility_violations(live_server, world, page: Page):
    with_axe(page)
    problems = []
    page.goto(live_server.url + "/portal/login")
    expect(page.locator("input[name=email]")).to_be_focused()
    problems += axe_problems(page, "/portal/login")
    portal_sign_in(page, live_server)
    cid = live_server.customer_id
    for path in ["/portal/", "/portal/profile", "/portal/invoices", f"/portal/invoices/{world['number']}",
                 "/portal/customers", f"/portal/customers/{cid}", f"/portal/customers/{cid}/contacts",
                 f"/portal/customers/{cid}/contacts/new", "/portal/report-issue", "/portal/password",
                 "/portal/support-credits", "/portal/onboarding/"]:
        page.goto(live_server.url + path)
        expect(page.locator("main h1").first).to_be_visible(timeout=TIMEOUT)
        problems += axe_problems(page, path)
    assert not problems, "\n".join(problems)


def in_view_vertically(page: Page, locator) -> None:
    """Scroll the window (only down, never sideways, nor any box inside) to the element, which must then be
    in the viewport: a row menu hidden to the right of its table would fail this."""
    locator.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 100)")
    expect(locator).to_be_in_viewport(ratio=1)


def no_sideways_scroll(page: Page, where: str) -> list[str]:
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    return [] if width <= inner else [f"{where}: {width} px wide in a {inner} px window"]


def no_scroll_in_a_box(page: Page, where: str, selector: str) -> list[str]:
    """The table's box is as wide as the table: nothing hides to its right behind a scroll bar."""
    sizes = page.locator(selector).first.evaluate("el => [el.scrollWidth, el.clientWidth]")
    return [] if sizes[0] <= sizes[1] + 1 else [f"{where}: the table scrolls in its box ({sizes[0]} px in {sizes[1]})"]


def menu_is_usable(page: Page, name: str) -> None:
    """The ▾ menu of a contact is on the screen, opens, and every item in it is on the screen too."""
    menu = page.locator(f'summary[aria-label="Menu for {name}"]')
    expect(menu).to_be_visible(timeout=TIMEOUT)
    in_view_vertically(page, menu)
    box = menu.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 800, f"the row menu button is off the screen: {box}"
    menu.click()
    items = menu.locator("xpath=..").locator(".menu button")
    expect(items.first).to_be_visible()
    for label in ("Edit", "Change Password", "Portal Login", "Delete"):
        item = menu.locator("xpath=..").get_by_role("button", name=label, exact=True)
        expect(item).to_be_visible()
        item_box = item.bounding_box()
        assert item_box["x"] >= 0 and item_box["x"] + item_box["width"] <= 800, f"{label} is off the screen: {item_box}"
    page.keyboard.press("Escape")


def test_no_panel_page_scrolls_sideways_at_800_px(live_server, world, page: Page):
    from datetime import timedelta

    from panel.periods import period_start
    from panel.types import utcnow
    from tests.summary.data import add_hours, hour_row

    page.set_viewport_size({"width": 800, "height": 900})
    cid = live_server.customer_id
    with live_server.app.app_context():  # wide figures, so the Summary grid is wider than its box
        yesterday = period_start("daily", utcnow()) - timedelta(days=1)
        add_hours(hour_row(cid, yesterday + timedelta(hours=9), calls=123456789, answered=98765432,
                           seconds=987654321, billed=987654321, charge="98765432.1234", cost="12345678.1234"))
        db.session.remove()
    staff_sign_in(page, live_server, ADMIN_EMAIL)
    wide = []
    page.goto(live_server.url + f"/customers/{cid}")
    for section in ("#contacts", "#number-blocks", "#summary", "#invoices", "#payments"):
        expect(page.locator(section)).not_to_contain_text("Loading…", timeout=TIMEOUT)
    wide += no_sideways_scroll(page, "Main tab")
    wide += no_scroll_in_a_box(page, "Main tab contacts", "#contacts .table-box")
    menu_is_usable(page, "Ada Admin")
    # The folded cells sit under the name, labelled; the key columns stay on the row's first line.
    row = page.locator(f"tr#contact-{world['contact']}")
    expect(row.locator("td.email")).to_be_visible()
    name_box, phone_box = row.locator("td.name").bounding_box(), row.locator("td.phone").first.bounding_box()
    assert phone_box["y"] >= name_box["y"] + name_box["height"] - 1, "the phone number is not folded under the name"
    phone = page.locator(f"tr#contact-{world['contact']} td.phone").first
    lines = phone.evaluate("el => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects().length; }")
    assert lines == 1, f"the phone number wraps onto {lines} lines"
    page.locator("#summary").get_by_role("tab", name="Daily").click()
    action = page.locator("#summary-grid th.action")
    expect(action).to_be_visible(timeout=TIMEOUT)
    # The tab that was pressed was swapped with the section: the focus is on the new one, not lost.
    expect(page.locator("#summary [role=tab][aria-selected=true]")).to_be_focused()
    scroll = page.locator(".summary-scroll").evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert scroll[0] > scroll[1], f"the grid fits its box ({scroll}): this check would not see a hidden Action column"
    box = action.bounding_box()
    edge = page.locator(".summary-scroll").evaluate("el => el.getBoundingClientRect().right")
    assert box["x"] + box["width"] <= edge + 1, f"the Action column hides in the Summary's scroll box: {box}, {edge}"
    expect(page.locator("#summary-grid td.action input[name=period]").first).to_be_visible()
    wide += no_sideways_scroll(page, "Main tab, Daily summary")
    for path in ["/customers", "/contacts", "/audit", "/delay-log", "/settings/options", "/settings/api-tokens",
                 f"/customers/{cid}/invoices/{world['invoice']}", f"/customers/{cid}/edit", "/onboarding/new"]:
        page.goto(live_server.url + path)
        expect(page.locator("main h1").first).to_be_visible(timeout=TIMEOUT)
        wide += no_sideways_scroll(page, path)
    page.goto(live_server.url + "/contacts")
    expect(page.locator('summary[aria-label="Menu for Ada Admin"]')).to_be_visible(timeout=TIMEOUT)
    wide += no_scroll_in_a_box(page, "Global Contacts", "main .table-box")
    menu_is_usable(page, "Ada Admin")
    # Usable: Edit from the menu opens the inline editor, in view and within the screen.
    page.locator('summary[aria-label="Menu for Ada Admin"]').click()
    page.locator(f"tr#contact-{world['contact']}").get_by_role("button", name="Edit", exact=True).click()
    editor = page.locator(f"tr#contact-{world['contact']}.editing")
    expect(editor.locator("input[name=name]")).to_be_visible(timeout=TIMEOUT)
    wide += no_sideways_scroll(page, "Global Contacts, editing")
    page.goto(live_server.url + "/audit")
    view = page.get_by_role("button", name="View Difference").first
    expect(view).to_be_visible(timeout=TIMEOUT)
    wide += no_scroll_in_a_box(page, "Audit log", "#entries .table-box")
    box = view.bounding_box()
    assert box["x"] + box["width"] <= 800, f"View Difference is off the screen: {box}"
    first = page.locator("#entries tr[id^=audit-]").first
    when = first.locator("td.when").evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert when[0] <= when[1], f"the date runs out of its cell into the user's: {when}"
    view.click()
    expect(page.locator("#entries td[id^=diff-] table, #entries td[id^=diff-] p").first).to_be_visible(timeout=TIMEOUT)
    wide += no_sideways_scroll(page, "Audit log, a difference open")
    assert not wide, "\n".join(wide)


def test_the_portal_works_on_a_375_px_phone(live_server, world, page: Page):
    page.set_viewport_size({"width": 375, "height": 740})
    portal_sign_in(page, live_server)
    cid = live_server.customer_id
    wide = []
    for path in ["/portal/", "/portal/profile", "/portal/invoices", f"/portal/invoices/{world['number']}",
                 "/portal/customers", f"/portal/customers/{cid}", f"/portal/customers/{cid}/contacts",
                 "/portal/report-issue", "/portal/password"]:
        page.goto(live_server.url + path)
        expect(page.locator("main h1").first).to_be_visible(timeout=TIMEOUT)
        wide += no_sideways_scroll(page, path)
    page.goto(live_server.url + f"/portal/customers/{cid}/contacts")
    edit = page.get_by_role("link", name="Edit Ada Admin")
    expect(edit).to_be_visible(timeout=TIMEOUT)
    in_view_vertically(page, edit)
    assert not wide, "\n".join(wide)


def test_record_payment_lands_on_the_payments_section_after_the_sections_have_loaded(live_server, world, page: Page):
    cid = live_server.customer_id
    with live_server.app.app_context():  # enough contacts above Payments to push it far down the page
        for n in range(12):
            ContactFactory(customer_id=cid, name=f"Filler {n:02d}", public_notes="A long note\n" * 3)
        db.session.remove()
    staff_sign_in(page, live_server, ADMIN_EMAIL)
    page.set_viewport_size({"width": 1400, "height": 700})
    page.goto(live_server.url + f"/customers/{cid}/payments/new")
    page.locator("input[name=amount]").fill("7.25")
    page.locator("input[name=received_on]").fill("2026-11-30")
    page.get_by_role("button", name="Record Payment").click()
    expect(page).to_have_url(re.compile(rf"/customers/{cid}#payments$"), timeout=TIMEOUT)
    for section in ("#contacts", "#number-blocks", "#summary", "#invoices", "#payments", "#deployments"):
        expect(page.locator(section)).not_to_contain_text("Loading…", timeout=TIMEOUT)
    payments = page.locator("#payments")
    expect(payments).to_contain_text("7.25")
    expect(payments.get_by_role("heading", name=re.compile(r"^Payments"))).to_be_in_viewport(timeout=TIMEOUT)
