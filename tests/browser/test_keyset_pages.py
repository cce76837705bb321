"""Keyset pages in Chromium: Next and Previous swap the list in place and push a URL, the back button comes back
to the same rows, a bookmarked (reloaded) page shows the same rows, Last reads the end of the list, and Next
lands at the top of the new page."""
import re

from playwright.sync_api import Page, expect

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.customers.accounts import create_customer
from tests.browser.test_customer_edit_flow import sign_in

TIMEOUT = 5_000  # ms


def names(page: Page) -> list[str]:
    return page.locator("#results table tbody tr a[href*='/customers/']").all_inner_texts()


def test_next_previous_back_and_bookmark(live_server, page: Page):
    live_server.app.config["PAGE_SIZE"] = 5
    with live_server.app.app_context(), unit_of_work.unit():
        for n in range(12):
            create_customer(SYSTEM, {"name": f"Bulk {n:02d}"}, "USD")
    page.goto(f"{live_server.url}/customers?q=Bulk")
    sign_in(page, live_server, "/customers?q=Bulk")
    expect(page.locator("#results .pager span")).to_have_text("Rows 1–5", timeout=TIMEOUT)
    first = names(page)
    assert all(name.startswith("Bulk") for name in first) and len(first) == 5

    page.get_by_role("link", name="Next →").click()
    expect(page.locator("#results .pager span")).to_have_text("Rows 6–10", timeout=TIMEOUT)
    second = names(page)
    assert not set(second) & set(first)
    assert re.search(r"[?&]after=", page.url) and "q=Bulk" in page.url
    bookmark = page.url
    assert page.evaluate("window.scrollY") <= page.locator("#results").bounding_box()["y"] + 5

    page.get_by_role("link", name="Next →").click()
    expect(page.locator("#results .pager span")).to_have_text("Rows 11–12", timeout=TIMEOUT)
    expect(page.get_by_role("link", name="Next →")).to_have_count(0)

    page.go_back()
    expect(page.locator("#results .pager span")).to_have_text("Rows 6–10", timeout=TIMEOUT)
    assert names(page) == second

    page.get_by_role("link", name="← Previous").click()
    expect(page.locator("#results .pager span")).to_have_text("Rows 1–5", timeout=TIMEOUT)
    assert names(page) == first

    page.goto(bookmark)  # a bookmark or a shared link opens the same rows
    expect(page.locator("#results .pager span")).to_have_text("Rows 6–10", timeout=TIMEOUT)
    assert names(page) == second

    page.get_by_role("link", name="Last »").click()
    expect(page.locator("#results .pager span")).to_have_text("Last 5 rows", timeout=TIMEOUT)
    assert names(page)[-1] == "Bulk 11"
    page.get_by_role("link", name="« First").click()
    expect(page.locator("#results .pager span")).to_have_text("Rows 1–5", timeout=TIMEOUT)
