"""The portal's call figures: the customer's own Summary, read-only (no Generate Invoice, no invoice check
boxes), with each period's call records and the selection's exports; an Admin contact's for every customer
of their tree; any other customer's is not found."""
import csv
import io
import re
from datetime import UTC, datetime

import openpyxl
import pytest

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.calls.importer import FIELDS, insert_records
from panel.contacts.models import Contact
from panel.customers.accounts import create_customer
from panel.extensions import db
from tests.summary.data import NOW, add_hours, hour_row
from tests.summary.test_summary_routes import cell, grid_rows, records
from tests.test_query_counts import count_queries


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr("panel.summary.section.utcnow", lambda: NOW)


@pytest.fixture
def figures(app, world):
    """Alpha (A) has calls on 18 and 19 November; its sub-account Alpha East on the 18th; Beta (B) on the 18th."""
    with app.app_context():
        east = create_customer(SYSTEM, {"name": "Alpha East", "reseller_id": world.a, "status": "Active"}, "USD").id
        unit_of_work.commit()
        add_hours(
            hour_row(world.a, datetime(2026, 11, 18, 9, tzinfo=UTC), calls=10, answered=6, seconds=600, billed=660,
                     charge="1.5000", cost="0.5000"),
            hour_row(world.a, datetime(2026, 11, 19, 22, tzinfo=UTC), calls=3, answered=2, seconds=125, billed=180,
                     charge="0.0300", cost="0.0100"),
            hour_row(east, datetime(2026, 11, 18, 9, tzinfo=UTC), calls=7, answered=7, seconds=70, billed=420,
                     charge="2.2500", cost="1.0000"),
            hour_row(world.b, datetime(2026, 11, 18, 9, tzinfo=UTC), calls=99, answered=1, seconds=1, billed=60,
                     charge="9.0000", cost="1.0000"),
        )
        insert_records(records(world.a,
                               ("a-1", "2026-11-18T09:00:00Z", "4420", True, 61, 120, "0.010000", "0.0200", "0.0300"),
                               ("a-2", "2026-11-18T09:59:59Z", "=HYPERLINK(1)", False, 0, 0, "0", "0", "0"))
                       + records(east, ("e-1", "2026-11-18T09:10:00Z", "+4477", True, 5, 60, "0.01", "0.0100", "0.0150"))
                       + records(world.b, ("b-1", "2026-11-18T09:00:00Z", "1", True, 1, 1, "0", "0", "0")), "sw")
        unit_of_work.commit()
    return {"a": world.a, "east": east, "b": world.b}


def make_admin(app, contact_id: int) -> None:
    with app.app_context():
        db.session.get(Contact, contact_id).contact_type = "Admin"
        db.session.commit()


def test_a_contact_sees_their_own_summary_read_only_with_the_staff_grid(portal_client, world, figures):
    client = portal_client(world.ana_email)
    page = client.get(f"/portal/customers/{world.a}/summary")
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    html = page.get_data(as_text=True)
    assert "<html" in html and "summary.js" in html and 'id="summary-grid"' in html
    assert "All times are 24-hour UTC" in html
    assert 'aria-current="page">Call summary</a>' in html  # the portal's menu
    for name in ("Live", "Daily", "Weekly", "Monthly"):
        assert f">{name}</a>" in html
    # Read-only: none of staff's invoice controls, and no link into the control panel.
    assert "Generate Invoice" not in html and "Auto Generate" not in html
    assert 'name="period"' not in html and "Action</th>" not in html
    assert "/customers/" not in html.replace("/portal/customers/", "")
    # The same selection menu and export form as staff, pointing at the portal's own export.
    assert 'data-summary-action="copy-headers"' in html and 'data-summary-action="export-xlsx"' in html
    assert f'action="/portal/customers/{world.a}/summary/export"' in html

    daily = client.get(f"/portal/customers/{world.a}/summary?frame=daily", htmx=True)
    fragment = daily.get_data(as_text=True)
    assert daily.status_code == 200 and "<html" not in fragment and 'id="summary-grid"' in fragment
    assert cell(fragment, "2026-11-18", "attempts") == "10" and cell(fragment, "2026-11-19", "charge") == "0.0300"
    assert grid_rows(fragment)[0] == "2026-11-20"
    assert "Generate Invoice" not in fragment and 'name="period"' not in fragment
    assert f'hx-get="/portal/customers/{world.a}/summary?frame=weekly"' in fragment


def test_staff_in_portal_login_see_the_read_only_summary_too(impersonating, world, figures):
    html = impersonating.get(f"/portal/customers/{world.a}/summary?frame=daily", htmx=True).get_data(as_text=True)
    assert 'id="summary-grid"' in html and "Generate Invoice" not in html and 'name="period"' not in html


def test_the_home_page_loads_the_summary_section(portal_client, world, figures):
    html = portal_client(world.ana_email).get("/portal/").get_data(as_text=True)
    assert f'hx-get="/portal/customers/{world.a}/summary"' in html and "summary.js" in html


def test_another_customers_summary_records_and_export_are_not_found(portal_client, world, figures):
    client = portal_client(world.ana_email)  # Ana is not an Admin: not even a sub-account of A
    for customer_id in (figures["b"], figures["east"], 999_999):
        for url in (f"/portal/customers/{customer_id}/summary",
                    f"/portal/customers/{customer_id}/summary?frame=daily",
                    f"/portal/customers/{customer_id}/summary/records.csv?frame=daily&period=2026-11-18",
                    f"/portal/customers/{customer_id}/summary/export?frame=daily&format=csv&period=2026-11-18"):
            response = client.get(url, htmx=True)
            assert response.status_code == 404, url
            assert "Beta" not in response.get_data(as_text=True)


def test_an_admin_contact_sees_every_customer_of_their_tree_and_nothing_outside(app, portal_client, world, figures):
    make_admin(app, world.ana)
    client = portal_client(world.ana_email)
    html = client.get(f"/portal/customers/{figures['east']}/summary?frame=daily", htmx=True).get_data(as_text=True)
    assert cell(html, "2026-11-18", "attempts") == "7" and "Alpha East" in html
    assert f'action="/portal/customers/{figures["east"]}/summary/export"' in html
    record = client.get(f"/portal/customers/{figures['east']}/summary/records.csv?frame=daily&period=2026-11-18")
    assert record.status_code == 200
    assert [line[1] for line in csv.reader(io.StringIO(record.get_data(as_text=True)))][1:] == ["e-1"]
    page = client.get(f"/portal/customers/{figures['east']}")
    assert f'href="/portal/customers/{figures["east"]}/summary"' in page.get_data(as_text=True)
    assert client.get(f"/portal/customers/{figures['b']}/summary", htmx=True).status_code == 404


def test_a_periods_call_records_download_with_formulas_neutralised(portal_client, world, figures):
    client = portal_client(world.ana_email)
    response = client.get(f"/portal/customers/{world.a}/summary/records.csv?frame=live&period=2026-11-18T09:00")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == f'attachment; filename="calls-{world.a}-live-2026-11-18T0900.csv"'
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert tuple(lines[0]) == FIELDS
    assert [line[1] for line in lines[1:]] == ["a-1", "a-2"]
    assert lines[2][3] == "'=HYPERLINK(1)"  # a spreadsheet shows it as text (panel/cells.py)
    bad = client.get(f"/portal/customers/{world.a}/summary/records.csv?frame=daily&period=2026-11-18T05:00")
    assert bad.status_code == 422


def test_the_selection_exports_as_csv_and_xlsx(portal_client, world, figures):
    client = portal_client(world.ana_email)
    base = f"/portal/customers/{world.a}/summary/export?frame=daily&period=2026-11-19&period=2026-11-18"
    text = client.get(base + "&format=csv&column=period&column=attempts").get_data().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [["Period", "Attempts"], ["2026-11-19", "3"], ["2026-11-18", "10"]]
    xlsx = client.get(base + "&format=xlsx")
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet["A1"].value == "Period" and sheet["B3"].value == 10
    assert client.get(base + "&format=pdf").status_code == 422


def test_the_portal_summary_costs_as_many_queries_with_1000_hours_as_with_10(app, portal_client, world):
    client = portal_client(world.ana_email)
    client.token()

    def grow(have, want):
        with app.app_context():
            add_hours(*(hour_row(world.a, datetime(2026, 10, 1, tzinfo=UTC).replace(day=1 + i // 24 % 28, hour=i % 24,
                                                                                    month=10 - i // (24 * 28)),
                                 calls=2, answered=1, seconds=60, billed=60, charge="0.1", cost="0.05")
                        for i in range(have, want)))

    def counts():
        return {frame: count_queries(app, lambda f=frame: client.get(f"/portal/customers/{world.a}/summary?frame={f}",
                                                                      htmx=True))
                for frame in ("live", "daily", "weekly", "monthly")} | {
            "page": count_queries(app, lambda: client.get(f"/portal/customers/{world.a}/summary"))}

    grow(0, 10)
    small = counts()
    grow(10, 1000)
    assert counts() == small
    assert max(small.values()) <= 15, small


def test_call_figures_of_the_hour_are_shown_in_live(portal_client, world, figures):
    html = portal_client(world.ana_email).get(f"/portal/customers/{world.a}/summary", htmx=True).get_data(as_text=True)
    rows = re.findall(r'<tr data-period="([^"]+)"', html)
    assert rows[0] == "2026-11-20T13:00" and len(rows) == 24
    assert "2026-11-18T09:00" not in rows  # outside the last 24 hours
