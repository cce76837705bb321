"""Issue 15, forms and lists that explain themselves, in Chromium at 1400 px and at 800 px: Record Payment in
reading order with today's date, the Reseller owner picker (mouse and keyboard), the audit log's User filter
and object names, and delayed changes with labels, a dismissable conflict and the note beside the editor.
axe finds no serious or critical violation on the pages and fragments this adds."""
import json
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel.delayed import changes
from panel.delayed.models import PendingChange
from panel.extensions import db
from panel.types import utcnow
from tests.browser.test_accessibility import ADMIN_EMAIL, axe_problems, staff_sign_in, with_axe
from tests.factories import ContactFactory, CustomerFactory, StaffUserFactory

TIMEOUT = 5_000  # ms
WIDTHS = [1400, 800]


@pytest.fixture
def admin(live_server):
    with live_server.app.app_context():
        StaffUserFactory(email=ADMIN_EMAIL, role="admin", name="Alice Admin")
        db.session.remove()


def fits(page: Page) -> None:
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page is {width} px wide in a {inner} px window"


@pytest.mark.parametrize("width", WIDTHS)
def test_record_payment_reads_top_to_bottom_with_today_and_completed(live_server, admin, page: Page, width):
    page.set_viewport_size({"width": width, "height": 900})
    staff_sign_in(page, live_server, ADMIN_EMAIL)
    cid = live_server.customer_id
    page.goto(live_server.url + f"/customers/{cid}/payments/new")
    amount = page.get_by_label("Amount")
    expect(amount).to_be_focused()
    received = page.get_by_label("Received on")
    expect(received).to_have_attribute("type", "date")
    expect(received).to_have_value(utcnow().date().isoformat())
    expect(page.get_by_label("Status")).to_have_value("Completed")
    boxes = [page.get_by_label(label).bounding_box() for label in ("Amount", "Received on", "Method", "Reference", "Status")]
    button = page.get_by_role("button", name="Record Payment").bounding_box()
    tops = [b["y"] for b in boxes] + [button["y"]]
    assert tops == sorted(tops) and len(set(tops)) == len(tops), f"not one field under the other: {tops}"
    assert all(abs(b["x"] - boxes[0]["x"]) < 2 for b in boxes), "the fields are not in one column"
    fits(page)
    amount.fill("7.25")
    page.get_by_role("button", name="Record Payment").click()
    expect(page).to_have_url(re.compile(rf"/customers/{cid}#payments$"), timeout=TIMEOUT)
    expect(page.locator("#payments")).to_contain_text("Completed", timeout=TIMEOUT)
    expect(page.locator("#payments")).to_contain_text("7.25")


@pytest.mark.parametrize("width", WIDTHS)
def test_pick_a_reseller_owner_by_name_with_the_mouse_and_the_keyboard(live_server, admin, page: Page, width):
    with live_server.app.app_context():
        north = CustomerFactory(name="Northwind Reseller", customer_type="Reseller").id
        nordic = CustomerFactory(name="Nordic Partner", customer_type="Partner").id
        CustomerFactory(name="Northern End Customer", customer_type="End Customer")
        db.session.remove()
    with_axe(page)
    page.set_viewport_size({"width": width, "height": 900})
    staff_sign_in(page, live_server, ADMIN_EMAIL)
    cid = live_server.customer_id
    page.goto(live_server.url + f"/customers/{cid}/edit")
    box = page.get_by_label("Reseller owner")
    box.press_sequentially("nor", delay=40)
    matches = page.locator("#reseller-matches button[data-pick]")
    expect(matches).to_have_count(2, timeout=TIMEOUT)  # not the End Customer
    problems = axe_problems(page, "customer edit, Reseller owner matches open")
    fits(page)
    matches.filter(has_text="Northwind").click()
    expect(box).to_have_value(f"#{north} · Northwind Reseller")
    expect(page.locator("input[name=reseller_id]")).to_have_value(str(north))
    page.get_by_role("button", name="Save and Continue").click()
    expect(page.get_by_test_id("reseller-owner")).to_contain_text("Northwind Reseller", timeout=TIMEOUT)

    # By keyboard: clear the box, type, Down to the first match, Enter picks; the id goes with it.
    page.goto(live_server.url + f"/customers/{cid}/edit")
    box = page.get_by_label("Reseller owner")
    expect(box).to_have_value(f"#{north} · Northwind Reseller")
    box.fill("")
    box.press_sequentially("nordic", delay=40)
    expect(matches).to_have_count(1, timeout=TIMEOUT)
    box.press("ArrowDown")
    expect(matches.first).to_be_focused()
    page.keyboard.press("Enter")
    expect(box).to_have_value(f"#{nordic} · Nordic Partner")
    expect(box).to_be_focused()
    page.get_by_role("button", name="Save and Continue").click()
    expect(page.get_by_test_id("reseller-owner")).to_contain_text("Nordic Partner", timeout=TIMEOUT)
    with live_server.app.app_context():
        assert db.session.get(Customer, cid).reseller_id == nordic
        db.session.remove()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_audit_log_filters_by_part_of_a_name_and_names_the_objects(live_server, admin, page: Page, width):
    cid = live_server.customer_id
    with live_server.app.app_context():
        carol = ContactFactory(customer_id=cid, name="Carol Jones", email="carol@acme.example").id
        db.session.remove()
    with_axe(page)
    page.set_viewport_size({"width": width, "height": 900})
    staff_sign_in(page, live_server, ADMIN_EMAIL)
    page.goto(live_server.url + "/audit")
    expect(page.locator("td.audit-object", has_text="contact Carol Jones (Acme Telecom)")).to_be_visible(timeout=TIMEOUT)
    assert not page.get_by_text(f"contact #{carol}").count()
    page.get_by_role("searchbox", name="User").press_sequentially("ALICE", delay=30)  # the admin's name, in another case
    expect(page).to_have_url(re.compile(r"user=ALICE"), timeout=TIMEOUT)
    users = page.locator("#entries td.user")
    expect(users.first).to_have_text(ADMIN_EMAIL, timeout=TIMEOUT)
    assert set(users.all_inner_texts()) == {ADMIN_EMAIL}
    problems = axe_problems(page, "audit log, filtered")
    fits(page)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", WIDTHS)
def test_delayed_changes_read_as_labels_a_conflict_is_dismissed_and_the_editor_says_a_change_waits(
        live_server, admin, page: Page, width):
    cid = live_server.customer_id
    with live_server.app.app_context():
        contact = ContactFactory(customer_id=cid, name="Dana Delay", phone="1")
        change = changes.schedule_update(SYSTEM, "contact", contact, {"phone": "2"}, utcnow() - timedelta(seconds=1))
        unit_of_work.commit()
        db.session.get(Contact, contact.id).phone = "3"  # someone else, meanwhile: a conflict when it is due
        db.session.commit()
        changes.apply_due()
        conflict_id = change.id
        with unit_of_work.unit():
            customer = db.session.get(Customer, cid)
            changes.schedule_update(SYSTEM, "customer", customer, {"channel_limit": 45, "debit_limit": customer.debit_limit},
                                    utcnow() + timedelta(hours=2))
        db.session.remove()
    with_axe(page)
    page.set_viewport_size({"width": width, "height": 900})
    staff_sign_in(page, live_server, ADMIN_EMAIL)
    page.goto(live_server.url + f"/customers/{cid}")
    pending = page.locator("#pending")
    expect(pending).to_contain_text("Channel limit: 30 → 45", timeout=TIMEOUT)
    expect(pending).not_to_contain_text("channel_limit")
    expect(pending).not_to_contain_text("Debit limit")  # the same amount, typed with fewer places
    expect(pending).to_contain_text("Phone: 1 → 2")
    problems = axe_problems(page, "Main tab, pending changes with a conflict", "#pending")
    pending.get_by_role("button", name="Dismiss").click()
    expect(pending).not_to_contain_text("conflict, not applied", timeout=TIMEOUT)
    expect(pending).to_contain_text("Channel limit: 30 → 45")
    with live_server.app.app_context():
        assert db.session.get(PendingChange, conflict_id).dismissed_by == ADMIN_EMAIL
        db.session.remove()
    page.goto(live_server.url + "/delay-log?status=conflict")
    expect(page.locator(f"#delayed-{conflict_id}")).to_contain_text(f"Dismissed by {ADMIN_EMAIL}", timeout=TIMEOUT)
    fits(page)

    page.goto(live_server.url + f"/customers/{cid}/edit")
    note = page.get_by_test_id("scheduled-changes")
    expect(note).to_contain_text(re.compile(r"A change to Channel limit is scheduled for (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC\."))
    note_box, form_box = note.bounding_box(), page.locator("main form.card").bounding_box()
    assert note_box["y"] < form_box["y"] and note_box["y"] < 900, "the note is not beside (above) the form, in view"
    problems += axe_problems(page, "customer edit with a scheduled change")
    fits(page)
    assert not problems, "\n".join(problems)
