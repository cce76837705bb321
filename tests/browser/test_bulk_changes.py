"""Bulk changes in a real browser: tick three customers and Bulk Edit their channel limit; then a batch of
all matching customers, too big for the request, watched on its progress bar until the worker is done."""
import re
import threading

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from panel.bulk import jobs
from panel.customers.models import Customer
from panel.extensions import db
from tests.browser.test_customer_edit_flow import open_signed_in
from tests.factories import CustomerFactory

TIMEOUT = 10_000


class BulkWorker:
    """The worker's bulk step, every 0.3 s in a daemon thread, as `flask worker` would run it."""

    def __init__(self, app):
        self.app, self.errors, self._stop = app, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="bulk-worker")

    def _run(self):
        with self.app.app_context():
            while not self._stop.is_set():
                try:
                    jobs.work_next()
                except Exception as error:  # noqa: BLE001 - reported at the end
                    self.errors.append(repr(error))
                finally:
                    db.session.remove()
                self._stop.wait(0.3)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join(timeout=20)


def test_bulk_edit_three_ticked_customers_then_a_big_batch_with_its_progress_bar(live_server, page: Page):
    with live_server.app.app_context():
        picked = [CustomerFactory(name=f"Bulkpick {n}", channel_limit=4).id for n in range(4)]
        for n in range(230):
            CustomerFactory(name=f"Massive {n:03d}", channel_limit=1)

    open_signed_in(page, live_server, "/customers?q=bulkpick")
    header = page.get_by_label("Select the customers of this page")
    header.check()  # the header box ticks the page's rows, and clears them again
    for customer_id in picked:
        expect(page.get_by_test_id(f"select-{customer_id}")).to_be_checked()
    header.uncheck()
    for customer_id in picked:
        expect(page.get_by_test_id(f"select-{customer_id}")).not_to_be_checked()
    for customer_id in picked[:3]:
        page.get_by_test_id(f"select-{customer_id}").check()
    page.get_by_role("button", name="Bulk changes…").click()
    expect(page.get_by_test_id("selection")).to_contain_text("3 selected customers", timeout=TIMEOUT)
    page.locator("#bulk-edit input[name=channel_limit]").fill("55")
    page.get_by_role("button", name="Apply to the selected customers").click()
    expect(page.get_by_test_id("bulk-result")).to_contain_text("3 of 3 selected customers changed", timeout=TIMEOUT)
    with live_server.app.app_context():
        limits = dict(db.session.execute(sa.select(Customer.id, Customer.channel_limit).where(Customer.id.in_(picked))).all())
    assert [limits[i] for i in picked] == [55, 55, 55, 4]

    page.goto(live_server.url + "/customers?q=massive")
    page.get_by_test_id("all-matching").check()
    expect(page.locator("#bulk-select")).to_contain_text("Select all 230 matching")
    page.get_by_role("button", name="Bulk changes…").click()
    page.locator("#bulk-edit input[name=channel_limit]").fill("9")
    page.get_by_role("button", name="Apply to the selected customers").click()
    expect(page).to_have_url(re.compile(r"/customers/bulk/\d+$"), timeout=TIMEOUT)
    expect(page.get_by_test_id("bulk-status")).to_have_text("Queued")
    with BulkWorker(live_server.app) as worker:
        expect(page.get_by_test_id("bulk-status")).to_have_text("Done", timeout=TIMEOUT)  # polled by htmx
    assert not worker.errors, worker.errors
    expect(page.get_by_test_id("bulk-bar")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("bulk-summary")).to_contain_text("230 of 230 selected customers changed")
    with live_server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Customer.name.like("Massive%"),
                                                                  Customer.channel_limit == 9)) == 230
