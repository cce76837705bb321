"""Internal Number Blocks in a real browser: an admin defines the number range under Settings → Options,
assigns two blocks with "+", makes a SIP user from the first (its password shown only once), and
may release only the block no SIP user holds."""
import re
from dataclasses import replace

import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from panel import unit_of_work
from panel.extensions import db
from tests.browser.test_customer_edit_flow import sign_in

TIMEOUT = 5_000  # ms
ADMIN_EMAIL = "admin@example.com"


def block_row(section: Locator, start: int, end: int) -> Locator:
    """The block's row in the section's table of blocks."""
    return section.locator("table.blocks tbody tr").filter(
        has=section.page.get_by_role("cell", name=f"{start} – {end}", exact=True))


def wait_for_number_blocks(page: Page) -> Locator:
    """The #number-blocks section, once htmx has replaced its placeholder."""
    section = page.locator("#number-blocks")
    expect(section.get_by_role("heading", name=re.compile(r"^Internal Number Block\b"))).to_be_visible(timeout=TIMEOUT)
    expect(section).not_to_contain_text("Loading…", timeout=TIMEOUT)
    expect(section.get_by_role("heading", name="SIP Users")).to_be_visible(timeout=TIMEOUT)
    return section


def test_admin_defines_the_range_assigns_two_blocks_and_release_is_refused_while_a_sip_user_exists(live_server, page: Page):
    from panel.audit.models import AuditEntry
    from panel.staff import create_staff_user

    with live_server.app.app_context():
        create_staff_user(ADMIN_EMAIL, live_server.password, "admin")
        unit_of_work.commit()
        db.session.remove()
    admin = replace(live_server, staff_email=ADMIN_EMAIL)
    main = f"/customers/{live_server.customer_id}"

    # 1. No range yet: "+" is disabled, and the hint says where the range is defined.
    page.goto(live_server.url + main)
    sign_in(page, admin, main)
    section = wait_for_number_blocks(page)
    plus = section.get_by_role("button", name="Assign the next number block")
    expect(plus).to_be_disabled(timeout=TIMEOUT)
    expect(section.locator(".hint")).to_contain_text("Settings → Options")
    expect(section.locator("table.blocks")).to_have_count(0)

    # 2. The admin defines the range.
    page.goto(live_server.url + "/settings/options")
    expect(page.get_by_role("heading", name="Options")).to_be_visible(timeout=TIMEOUT)
    page.locator("#number_range_start").fill("1000")
    page.locator("#number_range_end").fill("1999")
    page.locator("#number_block_size").fill("100")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(live_server.url + "/settings/options", timeout=TIMEOUT)
    expect(page.locator(".flashes")).to_contain_text("Options saved.", timeout=TIMEOUT)
    expect(page.locator("#number_range_start")).to_have_value("1000")
    expect(page.locator("#number_range_end")).to_have_value("1999")
    expect(page.locator("#number_block_size")).to_have_value("100")

    # 3. Back on the Main tab, "+" hands out the two lowest blocks, one per click.
    page.goto(live_server.url + main)
    section = wait_for_number_blocks(page)
    plus = section.get_by_role("button", name="Assign the next number block")
    expect(plus).to_be_enabled(timeout=TIMEOUT)
    expect(section.locator(".hint")).to_have_count(0)
    plus.click()
    expect(section.locator(".notice")).to_contain_text("Block 1000 – 1099 assigned.", timeout=TIMEOUT)
    plus.click()
    expect(section.locator(".notice")).to_contain_text("Block 1100 – 1199 assigned.", timeout=TIMEOUT)
    first, second = block_row(section, 1000, 1099), block_row(section, 1100, 1199)
    expect(section.locator("table.blocks tbody tr")).to_have_count(2)
    expect(first.locator("td").nth(1)).to_have_text("0 of 100")
    expect(second.locator("td").nth(1)).to_have_text("0 of 100")

    # 4. A SIP user on the lowest free number; its generated password is shown this once.
    form = section.locator("form.sip-form")
    expect(form.get_by_role("heading", name="New SIP user")).to_be_visible()
    username = form.locator("#username")
    expect(username.locator("option").first).to_have_text("1000")
    expect(username.locator("option").first).to_have_attribute("value", "1000")
    username.select_option("1000")
    form.locator("#caller_name").fill("Reception")
    expect(form.get_by_label("Generate a password")).to_be_checked()
    form.get_by_role("button", name="Add SIP user").click()

    created = section.locator(".notice.once")
    expect(created).to_contain_text("SIP user 1000 created.", timeout=TIMEOUT)
    secret = created.locator("code.secret")
    expect(secret).to_have_count(1)
    password = secret.inner_text().strip()
    assert len(password) >= 16, f"the generated password is too short: {password!r}"
    expect(section.locator("code.secret")).to_have_count(1)
    assert page.content().count(password) == 1, "the password is shown more than once"

    user_row = section.locator("table.sip-users tbody tr")
    expect(user_row).to_have_count(1)
    expect(user_row.locator("td").nth(0)).to_have_text("1000")
    expect(user_row.locator("td").nth(1)).to_have_text("Reception")
    expect(first.locator("td").nth(1)).to_have_text("1 of 100")
    expect(second.locator("td").nth(1)).to_have_text("0 of 100")
    expect(username.locator("option").first).to_have_text("1001")

    page.reload()
    section = wait_for_number_blocks(page)
    expect(section.locator("table.sip-users tbody tr")).to_have_count(1, timeout=TIMEOUT)
    expect(section.locator("code.secret")).to_have_count(0)
    assert password not in page.content(), "the SIP password is shown again after a reload"

    # 5. Release: refused while a SIP user holds a number of the block, done for the unused one.
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    first, second = block_row(section, 1000, 1099), block_row(section, 1100, 1199)
    first.get_by_role("button", name="Release").click()
    expect(section.locator(".error")).to_contain_text("in use by SIP user(s) 1000", timeout=TIMEOUT)
    expect(first).to_have_count(1)
    expect(first.locator("td").nth(1)).to_have_text("1 of 100")
    expect(second).to_have_count(1)
    assert dialogs and dialogs[0].startswith("Release block 1000 – 1099?"), dialogs

    second.get_by_role("button", name="Release").click()
    expect(second).to_have_count(0, timeout=TIMEOUT)
    expect(section.locator(".notice")).to_contain_text("Block 1100 – 1199 released.", timeout=TIMEOUT)
    expect(section.locator(".error")).to_have_count(0)
    expect(first).to_have_count(1)
    expect(section.locator("table.blocks tbody tr")).to_have_count(1)
    assert len(dialogs) == 2, dialogs

    # 6. The audit log has the blocks and the SIP user, and never the password.
    with live_server.app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        tables = {e.table_name for e in entries}
        leaks = [(e.id, e.table_name) for e in entries
                 if password in (e.data or "") or password in (e.comment or "") or password in (e.message or "")]
        block_actions = sorted(e.action for e in entries if e.table_name == "number_block")
        db.session.remove()
    assert {"number_block", "sip_user"} <= tables, tables
    assert len(block_actions) >= 3, block_actions  # two assigned, one released
    assert not leaks, f"audit entries contain the SIP password: {leaks}"
