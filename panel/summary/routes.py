"""Routes for /customers/<id>/summary: the section of the Main tab, its exports and each period's call records.

All three are reads (GET), so read-only staff may view and export; the exports carry the selection in
the query string. Unknown frames, periods and columns answer 422 with a message.
"""
from flask import Response, abort, redirect, request, stream_with_context, url_for

from panel import access
from panel import actor as actors
from panel.calls.rollup import last_changed
from panel.invoices.billing import invoiced_periods
from panel.periods import BILLING_FRAMES, FRAME_NAMES, FRAMES, period_end
from panel.summary import bp
from panel.summary.chart import render as render_chart
from panel.summary.export import (
    XLSX_MIMETYPE,
    heading,
    record_lines,
    rows_csv,
    rows_xlsx,
)
from panel.summary.figures import (
    COLUMNS,
    FiguresError,
    check_columns,
    check_frame,
    check_start,
    frame_page,
    raw,
    rows_for,
    shown,
)
from panel.types import utcnow
from panel.web import render_fragment, wants_fragment

DEFAULT_FRAME = "live"
FORMATS = ("csv", "xlsx")


def _invoices_by_period(customer_id: int, page) -> dict:
    """Each row's invoices (a grid row offers a check box only when it has none): one query for the page."""
    if page.frame not in BILLING_FRAMES:
        return {}
    invoices = invoiced_periods(actors.current(), customer_id, page.start, page.end)
    return {row.key: [invoice for invoice in invoices
                      if invoice.period_start < row.end and invoice.period_end > row.start]
            for row in page.rows}


def get_customer(customer_id: int):
    return access.fetch_customer(actors.current(), customer_id)


def _attachment(body, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<int:customer_id>/summary")
def section(customer_id: int):
    """The Summary section of the Main tab, on one time frame (?frame=live|daily|weekly|monthly, ?before=<period>)."""
    customer = get_customer(customer_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="summary"))
    frame = request.args.get("frame") or DEFAULT_FRAME
    now = utcnow()
    try:
        page = frame_page(customer.id, frame, now, request.args.get("before"))
    except FiguresError as error:
        abort(422, str(error))
    title = f"{FRAME_NAMES[frame]} calls and customer charge of {customer.name}, {page.rows[-1].label} to {page.rows[0].label} (UTC)"
    return render_fragment(
        "summary/_section.html", customer=customer, page=page, frame=frame, frames=FRAMES, frame_names=FRAME_NAMES,
        billing=frame in BILLING_FRAMES, columns=COLUMNS, raw=raw, shown=shown,
        headings={column.key: heading(column, customer.currency) for column in COLUMNS},
        last_changed=last_changed(), invoices=_invoices_by_period(customer.id, page),
        chart=render_chart(frame, page.rows, customer.currency, title), now=now,
    )


@bp.get("/<int:customer_id>/summary/records.csv")
def records(customer_id: int):
    """The raw call records of one period (?frame=&period=<start>), streamed in the import's CSV format."""
    customer = get_customer(customer_id)
    try:
        frame = check_frame(request.args.get("frame"))
        start = check_start(frame, request.args.get("period"))
    except FiguresError as error:
        abort(422, str(error))
    stamp = start.strftime("%Y-%m-%dT%H%M" if frame == "live" else "%Y-%m-%d")
    body = stream_with_context(record_lines(customer.id, start, period_end(frame, start)))
    return _attachment(body, "text/csv; charset=utf-8", f"calls-{customer.id}-{frame}-{stamp}.csv")


@bp.get("/<int:customer_id>/summary/export")
def export(customer_id: int):
    """Selected rows (?period= repeated) and columns (?column= repeated, all when none) as ?format=csv|xlsx."""
    customer = get_customer(customer_id)
    file_format = request.args.get("format", "")
    try:
        if file_format not in FORMATS:
            raise FiguresError(f"There is no export format {file_format[:20]!r}: choose csv or xlsx.")
        frame = check_frame(request.args.get("frame"))
        columns = check_columns(request.args.getlist("column")) if request.args.getlist("column") else list(COLUMNS)
        rows = rows_for(customer.id, frame, request.args.getlist("period"))
    except FiguresError as error:
        abort(422, str(error))
    name = f"summary-{customer.id}-{frame}-{rows[-1].key}-{rows[0].key}".replace(":", "")
    if file_format == "csv":
        return _attachment(rows_csv(columns, rows, customer.currency), "text/csv; charset=utf-8", f"{name}.csv")
    sheet = f"{FRAME_NAMES[frame]} summary"
    return _attachment(rows_xlsx(columns, rows, customer.currency, sheet), XLSX_MIMETYPE, f"{name}.xlsx")
