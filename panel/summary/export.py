"""Downloads from the Summary: selected rows as CSV or XLSX, and one period's raw call records as CSV.

The rows are recomputed from call_hour on the server (never taken from the page). The records CSV
has the import format's header and values (panel.calls.importer.FIELDS), so it can be imported again.
"""
import csv
import io
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from panel import cells, unit_of_work
from panel.calls.importer import FIELDS
from panel.calls.models import CallRecord
from panel.extensions import db
from panel.summary.figures import Column, Row

RECORDS_BATCH = 2000
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBER_FORMATS = {"count": "#,##0", "decimal": "#,##0.0", "money": "#,##0.0000", "percent": "0.00"}


def heading(column: Column, currency: str) -> str:
    """A column's heading in the grid, its copies and its exports: money says its currency."""
    return f"{column.title} ({currency})" if column.kind == "money" else column.title


def _plain(value) -> str:
    return "" if value is None else cells.escape(str(value))


def rows_csv(columns: list[Column], rows: list[Row], currency: str) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the period's dash right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cells.escape(heading(column, currency)) for column in columns])
    for row in rows:
        writer.writerow([_plain(row.value(column.key)) for column in columns])
    return out.getvalue().encode("utf-8-sig")


def rows_xlsx(columns: list[Column], rows: list[Row], currency: str, sheet_title: str) -> bytes:
    """One sheet: a bold header row, then numbers as numbers (money exact, from Decimal)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=sheet_title[:31])
    sheet.freeze_panes = "A2"
    for i, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = 30 if column.key == "period" else max(12, len(heading(column, currency)) + 2)
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=cells.escape(heading(column, currency)))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        row_cells = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=cells.escape(row.value(column.key)))
            if column.kind in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[column.kind]
            row_cells.append(cell)
        sheet.append(row_cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def records_query(customer_id: int, start: datetime, end: datetime) -> sa.Select:
    """The customer's records that started in [start, end): on PostgreSQL the bounds on start_time
    prune call_record's monthly partitions to the months of the period."""
    r = CallRecord.__table__
    return (
        sa.select(r.c.customer_id, r.c.call_id, r.c.start_time, r.c.destination, r.c.answered, r.c.duration_seconds,
                  r.c.billed_seconds, r.c.rate, r.c.cost, r.c.charge)
        .where(r.c.customer_id == customer_id, r.c.start_time >= start, r.c.start_time < end)
        .order_by(r.c.start_time, r.c.id)
    )


def record_lines(customer_id: int, start: datetime, end: datetime) -> Iterator[str]:
    """The customer's call records that started in [start, end), as CSV text in the import format,
    streamed in batches through the (customer_id, start_time) index."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    yield out.getvalue()
    result = db.session.execute(records_query(customer_id, start, end).execution_options(yield_per=RECORDS_BATCH))
    try:
        for batch in result.partitions():
            out.seek(0)
            out.truncate()
            writer.writerows(
                (customer, cells.escape(call_id), _time(started), cells.escape(destination), "true" if answered else "false", duration, billed,
                 rate, cost, charge)
                for customer, call_id, started, destination, answered, duration, billed, rate, cost, charge in batch
            )
            yield out.getvalue()
    finally:
        result.close()
        unit_of_work.end_read()  # end the read transaction (and a server-side cursor) as soon as the file is sent
