"""The Summary's routes: the section fragment, each period's records as CSV, exports as CSV and XLSX, bad input as 422."""
import csv
import html as markup
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.calls.importer import FIELDS, import_csv, insert_records, parse_row
from panel.calls.models import CallRecord
from panel.calls.rollup import last_changed, rollup
from panel.customers.accounts import create_customer
from panel.extensions import db
from tests.summary.data import NOW, add_hours, hour_row
from tests.test_forms_never_crash import JUNK


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr("panel.summary.routes.utcnow", lambda: NOW)


@pytest.fixture
def figures(app, customer):
    """Acme's calls on 18 and 19 November 2026 and in this hour (13:00 on the 20th)."""
    with app.app_context():
        add_hours(
            hour_row(customer, datetime(2026, 11, 18, 9, tzinfo=UTC), calls=10, answered=6, seconds=600, billed=660,
                     charge="1.5000", cost="0.5000"),
            hour_row(customer, datetime(2026, 11, 19, 22, tzinfo=UTC), calls=3, answered=2, seconds=125, billed=180,
                     charge="0.0300", cost="0.0100"),
            hour_row(customer, datetime(2026, 11, 20, 13, tzinfo=UTC), calls=4, answered=0, charge="0", cost="0"),
        )
    return customer


def section(client, customer_id, **args):
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return client.get(f"/customers/{customer_id}/summary?{query}", htmx=True)


def grid_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-period="([^"]+)"', html)


def cell(html: str, period: str, column: str) -> str:
    row = re.search(rf'<tr data-period="{re.escape(period)}".*?</tr>', html, re.S).group(0)
    return re.search(rf'data-col="{column}" data-value="([^"]*)"', row).group(1)


def test_the_section_is_a_fragment_with_tabs_utc_note_chart_and_grid(app, as_role, figures):
    client = as_role("staff")
    response = section(client, figures)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert "<html" not in html and "All times are 24-hour UTC" in html
    assert "No call figures rolled up yet" in html
    for name in ("Live", "Daily", "Weekly", "Monthly"):
        assert f">{name}</a>" in html
    assert 'aria-current="page">Live</a>' in html
    assert "<svg" in html and "<title id=\"summary-chart-title\">Live calls and customer charge of Acme Telecom" in html
    rows = grid_rows(html)
    assert len(rows) == 24 and rows[0] == "2026-11-20T13:00" and rows[-1] == "2026-11-19T14:00"
    assert cell(html, "2026-11-20T13:00", "attempts") == "4" and cell(html, "2026-11-20T13:00", "acd") == ""
    assert cell(html, "2026-11-19T22:00", "charge") == "0.0300"
    for heading in ("Period", "Attempts", "Connected", "ASR %", "ACD (s)", "Duration (s)", "Billed duration (s)",
                    "Customer charge (USD)", "Cost (USD)", "Profit (USD)", "Profit %"):
        assert f">{heading}</th>" in html
    assert "Action</th>" not in html  # hours are never invoiced
    assert 'hx-trigger="invoices-changed from:body"' in html
    assert "style=" not in html and "<script" not in html and "hx-on" not in html  # the CSP allows neither


def test_the_section_says_when_the_roll_up_last_changed_the_figures(app, as_role, customer):
    with app.app_context():
        with unit_of_work.unit():
            insert_records(records(customer, ("c-1", "2026-11-20T10:15:00Z", "44", True, 30, 60, "0.01", "0.0100",
                                              "0.0200")), "sw")
        rollup()
        changed = last_changed()
    html = section(as_role("readonly"), customer, frame="daily").get_data(as_text=True)
    assert f'Last updated <time datetime="{changed.isoformat()}" data-testid="summary-updated">{changed:%Y-%m-%d %H:%M:%S} UTC</time>' in html
    assert cell(html, "2026-11-20", "attempts") == "1" and cell(html, "2026-11-20", "charge") == "0.0200"


def test_daily_weekly_and_monthly_tabs_sum_the_days(as_role, figures):
    client = as_role("readonly")
    daily = section(client, figures, frame="daily").get_data(as_text=True)
    assert len(grid_rows(daily)) == 31 and grid_rows(daily)[0] == "2026-11-20"
    assert cell(daily, "2026-11-18", "asr") == "60.00" and cell(daily, "2026-11-18", "profit") == "1.0000"
    assert cell(daily, "2026-11-18", "profit_pct") == "66.67" and cell(daily, "2026-11-18", "acd") == "100.0"
    assert cell(daily, "2026-11-17", "attempts") == "0" and cell(daily, "2026-11-17", "asr") == ""
    assert "Action</th>" in daily and 'name="period" value="2026-11-18"' in daily
    assert ">1,500.0000<" not in daily and ">1.5000<" in daily
    weekly = section(client, figures, frame="weekly").get_data(as_text=True)
    assert grid_rows(weekly)[0] == "2026-11-16" and cell(weekly, "2026-11-16", "attempts") == "17"
    monthly = section(client, figures, frame="monthly").get_data(as_text=True)
    assert len(grid_rows(monthly)) == 12 and cell(monthly, "2026-11-01", "charge") == "1.5300"
    assert re.search(r'<tfoot>.*?>17<.*?>1\.5300<', monthly, re.S)  # the total row


def test_readonly_sees_no_invoice_buttons_and_staff_does(as_role, figures, app):
    staff = as_role("staff")
    html = section(staff, figures, frame="daily").get_data(as_text=True)
    assert f'hx-post="/customers/{figures}/invoices/generate"' in html
    # No Invoice Schedule: Auto Generate is there, disabled, with its reason; one button, not two.
    assert "invoices/auto-generate" not in html
    assert re.search(r'<button type="button" disabled aria-describedby="auto-generate-why">Auto Generate Invoice</button>', html)
    assert "No Invoice Schedule: set one in Edit to use Auto Generate." in html
    from panel.customers.models import Customer
    with app.app_context(), unit_of_work.unit():
        db.session.get(Customer, figures).invoice_schedule = "monthly"
    html = section(staff, figures, frame="daily").get_data(as_text=True)
    assert html.count(f'hx-post="/customers/{figures}/invoices/auto-generate"') == 1
    invoices = staff.get(f"/customers/{figures}/invoices", htmx=True).get_data(as_text=True)
    assert "auto-generate" not in invoices
    readonly_client = type(staff)(app.test_client())
    readonly_client.login("readonly@example.com")
    html = section(readonly_client, figures, frame="daily").get_data(as_text=True)
    assert "Generate Invoice" not in html and "invoices/generate" not in html
    assert 'name="period" value="2026-11-18" aria-label="Invoice 2026-11-18"\n                   disabled' in html


def test_only_ended_periods_offer_a_check_box(as_role, figures):
    from panel.periods import start_key

    html = section(as_role("staff"), figures, frame="daily").get_data(as_text=True)
    today = start_key("daily", NOW)
    assert f'data-period="{today}"' in html and f'name="period" value="{today}"' not in html
    assert 'title="A period is invoiced once it has ended">open</span>' in html
    assert 'name="period" value="2026-11-18"' in html


def test_an_invoiced_day_shows_its_invoice_instead_of_a_check_box(app, as_role, figures):
    from panel.customers.models import Customer
    from panel.invoices.billing import generate, void_invoice

    with app.app_context():
        with unit_of_work.unit():
            outcome = generate(SYSTEM, db.session.get(Customer, figures), "daily", [datetime(2026, 11, 18, tzinfo=UTC)],
                               now=NOW)
        invoice = outcome.created[0]
        number, invoice_id = invoice.number, invoice.id
    client = as_role("staff")
    daily = section(client, figures, frame="daily").get_data(as_text=True)
    row = re.search(r'<tr data-period="2026-11-18".*?</tr>', daily, re.S).group(0)
    assert f'href="/customers/{figures}/invoices/{invoice_id}"' in row and number in row and "checkbox" not in row
    weekly = section(client, figures, frame="weekly").get_data(as_text=True)
    assert number in re.search(r'<tr data-period="2026-11-16".*?</tr>', weekly, re.S).group(0)
    with app.app_context():
        with unit_of_work.unit():
            void_invoice(SYSTEM, db.session.get(type(invoice), invoice_id), "wrong figures")
    daily = section(client, figures, frame="daily").get_data(as_text=True)
    assert number not in daily and 'name="period" value="2026-11-18"' in daily


def test_earlier_and_later_pages(as_role, figures):
    client = as_role("staff")
    html = section(client, figures, frame="daily").get_data(as_text=True)
    earlier = re.search(r'hx-get="([^"]*before=2026-10-21[^"]*)"', html).group(1).replace("&amp;", "&")
    older = client.get(earlier, htmx=True).get_data(as_text=True)
    assert grid_rows(older)[0] == "2026-10-20" and grid_rows(older)[-1] == "2026-09-20"
    assert "Latest →" in older and "Later →" not in older
    # A reload after an invoice keeps the page the user is on.
    assert re.search(r'<span hidden hx-get="[^"]*frame=daily[^"]*before=2026-10-21"', older)


def test_opened_directly_the_section_sends_the_browser_to_the_main_tab(as_role, figures):
    response = as_role("readonly").get(f"/customers/{figures}/summary?frame=daily")
    assert response.status_code == 302 and response.headers["Location"] == f"/customers/{figures}#summary"


@pytest.mark.parametrize("args, message", [
    ({"frame": "yearly"}, "There is no time frame"),
    ({"frame": "daily", "before": "2026-11-20T13:00"}, "is not a period start"),
    ({"frame": "weekly", "before": "2026-11-18"}, "is not the start of a weekly period"),
    ({"frame": "daily", "before": "0001-01-01"}, "outside the years"),
])
def test_bad_frames_and_pages_answer_422_with_the_reason(as_role, figures, args, message):
    response = section(as_role("readonly"), figures, **args)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(app, customer):
    from tests.helpers import PanelClient

    client = PanelClient(app.test_client())
    for url in (f"/customers/{customer}/summary?frame=daily", f"/customers/{customer}/summary/export?format=csv",
                f"/customers/{customer}/summary/records.csv?frame=daily&period=2026-11-18"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
    htmx = client.get(f"/customers/{customer}/summary?frame=daily", htmx=True)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")


def test_unknown_customers_are_404(as_role):
    client = as_role("staff")
    for url in ("/customers/999/summary", "/customers/999/summary/records.csv?frame=daily&period=2026-11-18",
                "/customers/999/summary/export?frame=daily&format=csv&period=2026-11-18"):
        assert client.get(url, htmx=True).status_code == 404, url


def records(customer_id, *rows):
    return [parse_row({"customer_id": customer_id, "call_id": call_id, "start_time": start, "destination": destination,
                       "answered": answered, "duration": duration, "billed_duration": billed, "rate": rate,
                       "cost": cost, "charge": charge})
            for call_id, start, destination, answered, duration, billed, rate, cost, charge in rows]


def test_a_rows_call_records_download_as_csv_in_the_import_format(app, as_role, customer):
    with app.app_context():
        other = create_customer(SYSTEM, {"name": "Other", "status": "Active"}, "USD").id
        unit_of_work.commit()
        insert_records(records(customer,
                               ("a-1", "2026-11-18T00:00:00Z", "4420", True, 61, 120, "0.010000", "0.0200", "0.0300"),
                               ("a-2", "2026-11-18T23:59:59.250000Z", "=1+1", False, 0, 0, "0", "0", "0"),
                               ("a-3", "2026-11-19T00:00:00Z", "4421", True, 5, 60, "0.01", "0.0100", "0.0150"),
                               ("a-4", "2026-11-17T23:59:59Z", "4422", True, 5, 60, "0.01", "0.0100", "0.0150"))
                       + records(other, ("b-1", "2026-11-18T10:00:00Z", "1", True, 1, 1, "0", "0", "0")), "sw")
        unit_of_work.commit()
    client = as_role("readonly")
    response = client.get(f"/customers/{customer}/summary/records.csv?frame=daily&period=2026-11-18")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="calls-{customer}-daily-2026-11-18.csv"'
    text = response.get_data(as_text=True)
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == FIELDS
    assert lines[1:] == [
        [str(customer), "a-1", "2026-11-18T00:00:00Z", "4420", "true", "61", "120", "0.010000", "0.0200", "0.0300"],
        # A formula is written so that a spreadsheet shows it (panel/cells.py), and imports back as it was.
        [str(customer), "a-2", "2026-11-18T23:59:59.250000Z", "'=1+1", "false", "0", "0", "0.000000", "0.0000", "0.0000"],
    ]
    # It imports again: both records are known already, and nothing in it is refused.
    with app.app_context():
        report = import_csv(io.StringIO(text), "sw")
        assert (report.inserted, report.duplicates, report.bad) == (0, 2, [])
        db.session.query(CallRecord).filter(CallRecord.call_id.in_(["a-1", "a-2"])).delete()
        db.session.commit()
        report = import_csv(io.StringIO(text), "sw")
        assert (report.inserted, report.duplicates) == (2, 0)
        assert db.session.scalar(sa.select(CallRecord.destination).where(CallRecord.call_id == "a-2")) == "=1+1"
    hour = client.get(f"/customers/{customer}/summary/records.csv?frame=live&period=2026-11-18T23:00")
    assert [line[1] for line in csv.reader(io.StringIO(hour.get_data(as_text=True)))][1:] == ["a-2"]
    assert 'filename="calls-1-live-2026-11-18T2300.csv"' in hour.headers["Content-Disposition"]
    empty = client.get(f"/customers/{customer}/summary/records.csv?frame=monthly&period=2026-01-01")
    assert empty.get_data(as_text=True) == ",".join(FIELDS) + "\r\n"


@pytest.mark.parametrize("query, message", [
    ("", "There is no time frame"),
    ("frame=daily", "is not a period start"),
    ("frame=daily&period=2026-11-18T05:00", "is not a period start"),
    ("frame=weekly&period=2026-11-18", "is not the start of a weekly period"),
    ("frame=hourly&period=2026-11-18", "There is no time frame"),
])
def test_bad_record_downloads_answer_422(as_role, customer, query, message):
    response = as_role("staff").get(f"/customers/{customer}/summary/records.csv?{query}")
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def export(client, customer_id, **fields):
    return client.client.get(f"/customers/{customer_id}/summary/export", query_string=fields)


def test_export_csv_has_the_selected_rows_and_columns_from_the_roll_up(as_role, figures):
    client = as_role("readonly")  # exporting is reading: read-only staff may
    response = export(client, figures, frame="daily", format="csv", period=["2026-11-18", "2026-11-19", "2026-11-17"],
                      column=["charge", "asr", "acd"])
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="summary-1-daily-2026-11-17-2026-11-19.csv"' in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # a byte-order mark: spreadsheets read UTF-8
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines == [["Period", "ASR %", "ACD (s)", "Customer charge (USD)"],
                     ["2026-11-19", "66.67", "62.5", "0.0300"],
                     ["2026-11-18", "60.00", "100.0", "1.5000"],
                     ["2026-11-17", "", "", "0.0000"]]
    everything = export(client, figures, frame="weekly", format="csv", period="2026-11-16")
    lines = list(csv.reader(io.StringIO(everything.get_data().decode("utf-8-sig"))))
    assert len(lines[0]) == 11 and lines[1][:3] == ["2026-11-16 – 2026-11-22 (week 47)", "17", "8"]


def test_export_xlsx_opens_in_openpyxl_with_numbers_as_numbers(as_role, figures):
    response = export(as_role("staff"), figures, frame="daily", format="xlsx", period=["2026-11-18", "2026-11-19"],
                      column=["attempts", "charge", "profit_pct"])
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = book.active
    assert sheet.title == "Daily summary"
    values = list(sheet.values)
    assert values[0] == ("Period", "Attempts", "Customer charge (USD)", "Profit %")
    assert values[1][:2] == ("2026-11-19", 3) and values[2][:2] == ("2026-11-18", 10)
    assert Decimal(str(values[2][2])) == Decimal("1.5") and Decimal(str(values[2][3])) == Decimal("66.67")
    assert sheet["A1"].font.bold and sheet["C2"].number_format == "#,##0.0000"


@pytest.mark.parametrize("fields, message", [
    ({"frame": "daily", "format": "pdf", "period": "2026-11-18"}, "There is no export format 'pdf'"),
    ({"frame": "daily", "period": "2026-11-18"}, "There is no export format"),
    ({"frame": "live", "format": "csv"}, "Select at least one period"),
    ({"frame": "yearly", "format": "csv", "period": "2026-11-18"}, "There is no time frame"),
    ({"frame": "daily", "format": "csv", "period": ["2026-11-18", "2026-11-18T01:00"]}, "is not a period start"),
    ({"frame": "daily", "format": "xlsx", "period": "2026-11-18", "column": ["asr", "margin"]}, "There is no column 'margin'"),
])
def test_bad_exports_answer_422_with_the_reason(as_role, figures, fields, message):
    response = export(as_role("staff"), figures, **fields)
    assert response.status_code == 422 and message in markup.unescape(response.get_data(as_text=True))


def test_no_summary_url_crashes_on_junk(as_role, figures):
    client = as_role("readonly")
    base = {"frame": "daily", "format": "csv", "period": "2026-11-18", "before": "2026-11-18", "column": "asr"}
    urls = {"section": f"/customers/{figures}/summary", "records": f"/customers/{figures}/summary/records.csv",
            "export": f"/customers/{figures}/summary/export"}
    for name, url in urls.items():
        for field in base:
            for junk in JUNK + ["%00", "9999-12-31", "2026-13-01", "2026-02-30", "-1"]:
                response = client.client.get(url, query_string={**base, field: junk}, headers={"HX-Request": "true"})
                assert response.status_code in (200, 422), (name, field, junk, response.status_code)
                assert "<script>alert" not in response.get_data(as_text=True)


def test_the_customers_name_is_escaped_in_the_chart_and_the_grid(app, as_role):
    with app.app_context():
        customer_id = create_customer(SYSTEM, {"name": '<img src=x onerror="alert(1)"> & Co', "status": "Active"}, "EUR").id
        unit_of_work.commit()
    html = section(as_role("readonly"), customer_id, frame="monthly").get_data(as_text=True)
    assert "<img" not in html and "&lt;img src=x onerror=" in html
    assert "Customer charge (EUR)" in html
