"""The portal's Summary in a real browser: a contact signs in, opens Call summary, switches to Daily,
selects cells for their sum, copies them with headers to the clipboard, downloads a day's call records;
no Generate Invoice anywhere."""
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from panel.actor import SYSTEM
from panel.calls.importer import insert_records
from panel.extensions import db
from tests.browser.test_portal import portal_sign_in
from tests.browser.test_summary_grid import cell, csp_errors, days, stat  # noqa: F401  (fixtures)
from tests.summary.test_summary_routes import records

TIMEOUT = 5_000  # ms
PASSWORD = "long enough password"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "permissions": ["clipboard-read", "clipboard-write"], "accept_downloads": True}


@pytest.fixture
def contact(live_server, days):
    from panel.contacts.records import create_contact, set_password

    with live_server.app.app_context():
        grace, _ = create_contact(SYSTEM, live_server.customer_id, {"name": "Grace Hopper", "email": "grace@example.com",
                                                                    "contact_type": "Billing"})
        set_password(grace, PASSWORD)  # as if Grace had chosen it (a password set for her is temporary)
        insert_records(records(live_server.customer_id,
                               ("g-1", f"{days[0]}T09:05:00Z", "=SUM(A1)", True, 61, 120, "0.01", "0.0200", "0.0300")),
                       "sw")
        db.session.commit()
        db.session.remove()
    return "grace@example.com"


def test_a_contact_selects_copies_and_downloads_their_own_figures(live_server, days, contact, page: Page, csp_errors,
                                                                  tmp_path: Path):
    page.goto(live_server.url + "/portal/login")
    portal_sign_in(page, live_server, contact, PASSWORD)
    expect(page).to_have_url(live_server.url + "/portal/", timeout=TIMEOUT)
    # The home page loads the Summary; the menu leads to its own page.
    expect(page.locator("#summary #summary-grid")).to_have_attribute("data-frame", "live", timeout=TIMEOUT)
    page.get_by_role("link", name="Call summary").click()
    expect(page).to_have_url(live_server.url + f"/portal/customers/{live_server.customer_id}/summary", timeout=TIMEOUT)
    summary = page.locator("#summary")
    expect(summary).to_contain_text("All times are 24-hour UTC")
    expect(page.get_by_role("button", name="Generate Invoice")).to_have_count(0)
    summary.get_by_role("tab", name="Daily").click()
    grid = summary.locator("#summary-grid")
    expect(grid).to_have_attribute("data-frame", "daily", timeout=TIMEOUT)
    expect(grid.locator('input[type="checkbox"]')).to_have_count(0)  # no invoice check boxes
    d1, d2, d3 = days

    cell(grid, d1, "attempts").click()
    cell(grid, d3, "attempts").click(modifiers=["Shift"])
    expect(stat(page, "count")).to_have_text("3")
    expect(stat(page, "sum")).to_have_text("20")

    cell(grid, d1, "period").hover()
    page.mouse.down()
    cell(grid, d2, "attempts").hover()
    page.mouse.up()
    cell(grid, d2, "attempts").click(button="right")
    menu = page.locator("#summary-menu")
    expect(menu).to_be_visible()
    menu.get_by_role("menuitem", name="Copy with Headers").click()
    expect(page.locator("#summary-bar")).to_contain_text("Copied 4 cells with headers.")
    assert page.evaluate("navigator.clipboard.readText()") == f"Period\tAttempts\n{d1}\t10\n{d2}\t3"

    with page.expect_download() as download_info:
        grid.locator(f'tr[data-period="{d1}"] td.records a').click()
    download = download_info.value
    assert download.suggested_filename == f"calls-{live_server.customer_id}-daily-{d1}.csv"
    saved = tmp_path / "records.csv"
    download.save_as(saved)
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and "g-1" in lines[1] and "'=SUM(A1)" in lines[1]
    assert csp_errors == []
