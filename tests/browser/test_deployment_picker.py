"""The deployment picker in a real browser: on the support-credits page, type part of a deployment's
name, pick it from the list (by mouse, and by keyboard), and record a deduction for it."""
import re
from decimal import Decimal

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.extensions import db
from tests.browser.test_customer_edit_flow import sign_in

TIMEOUT = 5_000  # ms


def setup_ledger(server) -> dict:
    """Three deployments and 10 credits for the live server's customer, made with the app's own functions."""
    from panel.customers.models import Customer
    from panel.deployments.records import create_deployment
    from panel.support.credits import purchase

    with server.app.app_context():
        with unit_of_work.unit():
            ids = {name: create_deployment(SYSTEM, server.customer_id, product, name).id for product, name in [
                ("PBX", "Head office PBX"), ("SBC", "Harbour edge SBC"), ("Gateway", "Warehouse gateway")]}
            purchase(SYSTEM, db.session.get(Customer, server.customer_id), Decimal(10), "Purchase order", "PO-1")
        db.session.remove()
    return ids


def deductions(server) -> list[tuple]:
    from panel.support.models import CreditTransaction

    with server.app.app_context():
        rows = db.session.execute(sa.select(CreditTransaction.credits, CreditTransaction.ticket_reference,
                                            CreditTransaction.deployment_id)
                                  .where(CreditTransaction.kind == "deduction").order_by(CreditTransaction.id)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def test_pick_a_deployment_by_typing_part_of_its_name_and_deduct_credits(live_server, page: Page):
    ids = setup_ledger(live_server)
    problems = []  # script errors and CSP refusals (no inline script or style may be needed)
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "status of 422" not in message.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    path = f"/customers/{live_server.customer_id}/support-credits"
    page.goto(live_server.url + path)
    sign_in(page, live_server, path)
    expect(page.get_by_test_id("support-credits")).to_have_text("10.00")

    page.get_by_text("Record deduction", exact=True).first.click()
    form = page.locator("form#credit-deduction")
    form.get_by_label("Credits").fill("2.5")
    form.get_by_label("Ticket reference").fill("TCK-1001")
    box = form.get_by_label("Deployment (optional)")
    box.press_sequentially("harb", delay=40)
    matches = form.locator("[data-picker-matches] button[data-pick]")
    expect(matches).to_have_count(1, timeout=TIMEOUT)
    expect(matches.first).to_contain_text("D-100002")
    matches.first.click()
    expect(box).to_have_value("D-100002 · Harbour edge SBC")
    expect(form.locator("input[name=deployment_id]")).to_have_value(str(ids["Harbour edge SBC"]))
    expect(matches).to_have_count(0)
    form.get_by_role("button", name="Record deduction").click()

    expect(page.locator(".notice")).to_have_text("2.50 credits deducted for ticket TCK-1001.", timeout=TIMEOUT)
    expect(page.get_by_test_id("support-credits")).to_have_text("7.50")
    newest = page.locator("table.credit-log tbody tr").first
    expect(newest).to_contain_text("TCK-1001")
    expect(newest).to_contain_text("D-100002")
    assert deductions(live_server) == [(Decimal("-2.50"), "TCK-1001", ids["Harbour edge SBC"])]

    # By keyboard only: type, Down to the matches, Down again, Enter picks; Enter in the box then submits.
    page.get_by_text("Record deduction", exact=True).first.click()
    form = page.locator("form#credit-deduction")
    form.get_by_label("Credits").fill("1")
    form.get_by_label("Ticket reference").fill("TCK-1002")
    box = form.get_by_label("Deployment (optional)")
    box.press_sequentially("o", delay=40)  # "Head office PBX", "Harbour edge SBC", "Warehouse gateway"
    matches = form.locator("[data-picker-matches] button[data-pick]")
    expect(matches).to_have_count(3, timeout=TIMEOUT)
    box.press("ArrowDown")
    expect(matches.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(matches.nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(box).to_be_focused()
    chosen = form.locator("input[name=deployment_id]")
    expect(chosen).not_to_have_value("")
    picked_label = box.input_value()
    assert re.fullmatch(r"D-10000\d · .+", picked_label)
    # Typing over the choice clears it: the hidden id never disagrees with the box.
    box.press("End")
    box.press_sequentially("x")
    expect(chosen).to_have_value("")
    box.press("Backspace")
    form.get_by_role("button", name="Record deduction").click()
    expect(form.locator(".picker .error")).to_have_text("Pick the deployment from the list, or empty the box for none.",
                                                        timeout=TIMEOUT)
    expect(form.get_by_label("Ticket reference")).to_have_value("TCK-1002")
    assert len(deductions(live_server)) == 1
    assert problems == []
