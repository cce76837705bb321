"""Alerts in a real browser: staff add a low-balance alert in the Alerts section of the Main tab (a refused
threshold keeps what was typed, with its message by the field), the worker fires it, and the section shows
it fired and when."""
import re

from playwright.sync_api import Page, expect

from tests.browser.test_customer_edit_flow import open_signed_in

TIMEOUT = 5_000  # ms


def test_staff_add_an_alert_and_see_it_fire(live_server, page: Page):
    from decimal import Decimal

    from panel.alerts.evaluate import alerts_job
    from panel.extensions import db
    from tests.factories import LedgerEntryFactory

    main = f"/customers/{live_server.customer_id}"
    open_signed_in(page, live_server, main)
    section = page.locator("#alerts")
    expect(section.get_by_role("heading", name="Alerts")).to_be_visible(timeout=TIMEOUT)
    expect(section).not_to_contain_text("Loading…", timeout=TIMEOUT)
    section.get_by_text("Add an alert").click()
    form = section.locator("form.alert-form")
    form.get_by_label("Name").fill("Low balance")
    form.get_by_label("Threshold").fill("5,00")
    form.get_by_role("button", name="Add alert").click()
    expect(form.locator(".has-error")).to_contain_text("Use a point for decimals", timeout=TIMEOUT)
    expect(section.locator("form.alert-form").get_by_label("Threshold")).to_have_value("5,00")
    form = section.locator("form.alert-form")
    form.get_by_label("Threshold").fill("5.00")
    form.get_by_role("button", name="Add alert").click()
    expect(section.get_by_role("status")).to_contain_text("Alert “Low balance” added.", timeout=TIMEOUT)
    row = section.locator("table.alerts tbody tr").first
    expect(row.get_by_test_id("alert-state")).to_contain_text("Armed")

    with live_server.app.app_context():
        LedgerEntryFactory(customer_id=live_server.customer_id, kind="charge", amount=Decimal("-3"))
        assert alerts_job() == "1 fired"
        db.session.remove()
    page.reload()
    section = page.locator("#alerts")
    expect(section.locator("table.alerts tbody tr").first.get_by_test_id("alert-state")).to_contain_text(
        "Fired", timeout=TIMEOUT)
    expect(section.locator("table.alerts tbody tr").first.get_by_test_id("alert-last-fired")).to_have_text(
        re.compile(r"\d{4}-\d{2}-\d{2}"))
    expect(section.locator("table.alert-firings")).to_contain_text("Low balance")
