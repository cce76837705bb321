"""The Summary grid in a real browser: select cells for their sum and average, copy with headers to the
clipboard, export the selection as XLSX, and generate invoices from two checked days (a second try refused)."""
import io
import re
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Locator, Page, expect

from panel.extensions import db
from panel.periods import period_start
from panel.types import utcnow
from tests.browser.test_customer_edit_flow import open_signed_in
from tests.summary.data import add_hours, hour_row

TIMEOUT = 5_000  # ms


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "permissions": ["clipboard-read", "clipboard-write"], "accept_downloads": True}


@pytest.fixture
def days(live_server) -> list[str]:
    """Three finished UTC days with calls (newest first, as the grid lists them): 10, 3 and 7 attempts."""
    today = period_start("daily", utcnow())
    starts = [today - timedelta(days=n) for n in (1, 2, 3)]
    with live_server.app.app_context():
        add_hours(
            hour_row(live_server.customer_id, starts[0] + timedelta(hours=9), calls=10, answered=6, seconds=600,
                     billed=660, charge="1.5000", cost="0.5000"),
            hour_row(live_server.customer_id, starts[1] + timedelta(hours=22), calls=3, answered=2, seconds=125,
                     billed=180, charge="0.0300", cost="0.0100"),
            hour_row(live_server.customer_id, starts[2], calls=7, answered=7, seconds=70, billed=420,
                     charge="2.2500", cost="1.0000"),
        )
        db.session.remove()
    return [f"{start:%Y-%m-%d}" for start in starts]


@pytest.fixture
def csp_errors(page: Page) -> list[str]:
    errors = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return errors


def open_daily(page: Page, server) -> Locator:
    """Sign in on the Main tab and switch the Summary to Daily; returns the grid."""
    main = f"/customers/{server.customer_id}"
    open_signed_in(page, server, main)
    summary = page.locator("#summary")
    expect(summary.locator("#summary-grid")).to_have_attribute("data-frame", "live", timeout=TIMEOUT)
    expect(summary).to_contain_text("All times are 24-hour UTC")
    summary.get_by_role("tab", name="Daily").click()
    grid = summary.locator("#summary-grid")
    expect(grid).to_have_attribute("data-frame", "daily", timeout=TIMEOUT)
    expect(page).to_have_url(server.url + main)  # the tabs never change the address
    return grid


def cell(grid: Locator, day: str, column: str) -> Locator:
    return grid.locator(f'tr[data-period="{day}"] td[data-col="{column}"]')


def stat(page: Page, name: str) -> Locator:
    return page.locator(f"#summary-bar [data-stat={name}]")


def test_selected_cells_show_their_count_sum_and_average(live_server, days, page: Page, csp_errors):
    grid = open_daily(page, live_server)
    d1, d2, d3 = days

    cell(grid, d1, "attempts").click()
    cell(grid, d3, "attempts").click(modifiers=["Shift"])  # the three days: 10 + 3 + 7
    expect(grid.locator("td[aria-selected=true]")).to_have_count(3)
    expect(stat(page, "count")).to_have_text("3")
    expect(stat(page, "sum")).to_have_text("20")
    expect(stat(page, "average")).to_have_text("6.67")

    grid.locator("tbody tr").first.locator('td[data-col="attempts"]').click(modifiers=["Control"])  # today: 0 more
    expect(stat(page, "count")).to_have_text("4")
    expect(stat(page, "sum")).to_have_text("20")
    expect(stat(page, "average")).to_have_text("5.00")

    # Dragging down the ASR column: the average of the three days' ASR, not the ASR of their calls (15 / 20).
    cell(grid, d1, "asr").hover()
    page.mouse.down()
    cell(grid, d2, "asr").hover()
    cell(grid, d3, "asr").hover()
    page.mouse.up()
    expect(grid.locator("td[aria-selected=true]")).to_have_count(3)
    expect(stat(page, "sum")).to_have_text("226.67")  # 60.00 + 66.67 + 100.00
    expect(stat(page, "average")).to_have_text("75.56")

    cell(grid, d1, "charge").click()
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Shift+ArrowDown")
    expect(stat(page, "sum")).to_have_text("3.7800")
    expect(stat(page, "average")).to_have_text("1.2600")

    page.keyboard.press("Escape")
    expect(grid.locator("td[aria-selected=true]")).to_have_count(0)
    expect(stat(page, "sum")).to_be_hidden()
    assert csp_errors == []


def test_copy_with_headers_puts_tab_separated_rows_on_the_clipboard(live_server, days, page: Page, csp_errors):
    grid = open_daily(page, live_server)
    d1, d2, _ = days
    cell(grid, d1, "period").hover()
    page.mouse.down()
    cell(grid, d2, "attempts").hover()
    page.mouse.up()
    cell(grid, d2, "charge").click(modifiers=["Control"])
    cell(grid, d2, "charge").click(button="right")  # inside the selection: it stays
    menu = page.locator("#summary-menu")
    expect(menu).to_be_visible()
    menu.get_by_role("menuitem", name="Copy with Headers").click()
    expect(menu).to_be_hidden()
    expect(page.locator("#summary-bar")).to_contain_text("Copied 5 cells with headers.")
    text = page.evaluate("navigator.clipboard.readText()")
    assert text == (f"Period\tAttempts\tCustomer charge (USD)\n"
                    f"{d1}\t10\t\n"  # the charge of d1 was not selected: an empty cell keeps the columns in line
                    f"{d2}\t3\t0.0300")

    cell(grid, d1, "cost").click(button="right")  # outside the selection: it becomes the selection
    page.get_by_role("menuitem", name="Copy", exact=True).click()
    expect(page.locator("#summary-bar")).to_contain_text("Copied 1 cell.")
    assert page.evaluate("navigator.clipboard.readText()") == "0.5000"
    assert csp_errors == []


def test_export_xlsx_downloads_the_selected_rows_built_by_the_server(live_server, days, page: Page, csp_errors):
    grid = open_daily(page, live_server)
    d1, d2, d3 = days
    cell(grid, d1, "period").click()
    cell(grid, d3, "connected").click(modifiers=["Shift"])
    cell(grid, d2, "profit").click(modifiers=["Control"])
    cell(grid, d2, "profit").click(button="right")
    with page.expect_download() as download_info:
        page.get_by_role("menuitem", name="Export XLSX").click()
    download = download_info.value
    assert download.suggested_filename == f"summary-{live_server.customer_id}-daily-{d3}-{d1}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert list(book.active.values) == [
        ("Period", "Attempts", "Connected", "Profit (USD)"),
        (d1, 10, 6, 1),
        (d2, 3, 2, 0.02),
        (d3, 7, 7, 1.25),
    ]
    assert page.url == f"{live_server.url}/customers/{live_server.customer_id}"  # the page stayed
    assert csp_errors == []


def test_generate_invoice_from_two_checked_days_then_a_second_try_is_refused(live_server, days, page: Page, csp_errors):
    d1, d2, _ = days
    grid = open_daily(page, live_server)
    # A second tab opened before the invoice exists: it still offers the same days.
    other = page.context.new_page()
    other_grid = open_daily_signed_in(other, live_server)

    generate = page.locator("#summary").get_by_role("button", name="Generate Invoice", exact=True)
    expect(generate).to_be_disabled()
    grid.locator(f'input[name=period][value="{d1}"]').check()
    grid.locator(f'input[name=period][value="{d2}"]').check()
    expect(generate).to_be_enabled()
    generate.click()
    invoices = page.locator("#invoices")
    expect(invoices).to_contain_text("Created INV-", timeout=TIMEOUT)
    # The result is also where the eye is: beside the button, and in a toast in view.
    beside = page.locator("#summary-result")
    expect(beside).to_contain_text("Created INV-", timeout=TIMEOUT)
    expect(beside).to_be_in_viewport()
    expect(page.locator("#toast")).to_contain_text("Created INV-")
    expect(page.locator("#toast")).to_be_in_viewport()
    # The Summary reloads itself on the same tab: both days now name their invoice instead of a check box.
    expect(grid.locator(f'tr[data-period="{d1}"] a.invoice-link')).to_have_text(
        re.compile(r"^INV-\d+$"), timeout=TIMEOUT)
    expect(page.locator("#summary-grid")).to_have_attribute("data-frame", "daily")
    expect(page.locator(f'#summary-grid tr[data-period="{d2}"] input[name=period]')).to_have_count(0)
    numbers = page.locator("#summary-grid a.invoice-link").all_text_contents()
    assert len(set(numbers)) == 2

    other_grid.locator(f'input[name=period][value="{d1}"]').check()
    other_grid.locator(f'input[name=period][value="{d2}"]').check()
    other.locator("#summary").get_by_role("button", name="Generate Invoice", exact=True).click()
    refused = other.locator("#invoices")
    expect(refused).to_contain_text("No invoice was created", timeout=TIMEOUT)
    expect(refused).to_contain_text(f"{d1}: already invoiced in INV-")
    expect(refused).to_contain_text(f"{d2}: already invoiced in INV-")
    expect(other.locator("#summary-result.is-error")).to_contain_text(f"{d1}: already invoiced in INV-")
    expect(other.locator("#toast")).to_contain_text("No invoice was created")
    expect(other.locator(f'#summary-grid tr[data-period="{d1}"] a.invoice-link')).to_be_visible(timeout=TIMEOUT)
    other.close()
    assert csp_errors == []


def open_daily_signed_in(page: Page, server) -> Locator:
    """Like open_daily, in a tab whose browser context is signed in already."""
    page.goto(f"{server.url}/customers/{server.customer_id}")
    summary = page.locator("#summary")
    expect(summary.locator("#summary-grid")).to_have_attribute("data-frame", "live", timeout=TIMEOUT)
    summary.get_by_role("tab", name="Daily").click()
    grid = summary.locator("#summary-grid")
    expect(grid).to_have_attribute("data-frame", "daily", timeout=TIMEOUT)
    return grid
