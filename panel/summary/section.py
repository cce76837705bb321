"""The Summary section, its exports and each period's call records, for whichever side shows them.

Staff (panel/summary/routes.py) and the portal (panel/portal/summary.py) render the same fragment
(templates/summary/_section.html) with the same figures; what differs is where its links point
(`SummaryLinks`) and whether it is read-only (the portal: no Generate Invoice, no invoice check boxes).
The caller has fetched the customer through panel/access.py already.
"""
from dataclasses import dataclass, field

from flask import Response, abort, request, stream_with_context, url_for

from panel import actor as actors
from panel.calls.rollup import last_changed
from panel.invoices.billing import invoiced_periods
from panel.periods import BILLING_FRAMES, FRAME_NAMES, FRAMES, period_end
from panel.summary.chart import render as render_chart
from panel.summary.export import XLSX_MIMETYPE, heading, record_lines, rows_csv, rows_xlsx
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
from panel.web import render_fragment

DEFAULT_FRAME = "live"
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class SummaryLinks:
    """Where the section's tabs, pager, records and exports lead, for one customer on one side."""

    customer_id: int
    section_endpoint: str = "summary.section"
    records_endpoint: str = "summary.records"
    export_endpoint: str = "summary.export"
    page_endpoint: str = "customers.show"  # the page holding the section (a link's href without htmx)
    page_anchor: str | None = "summary"
    read_only: bool = False  # no Generate Invoice, Auto Generate or invoice check boxes
    extra: dict = field(default_factory=dict)

    def section(self, **args) -> str:
        return url_for(self.section_endpoint, customer_id=self.customer_id, **args)

    def records(self, **args) -> str:
        return url_for(self.records_endpoint, customer_id=self.customer_id, **args)

    def export(self) -> str:
        return url_for(self.export_endpoint, customer_id=self.customer_id)

    def page(self) -> str:
        return url_for(self.page_endpoint, customer_id=self.customer_id, _anchor=self.page_anchor)


def _invoices_by_period(customer_id: int, page) -> dict:
    """Each row's invoices (a grid row offers a check box only when it has none): one query for the page."""
    if page.frame not in BILLING_FRAMES:
        return {}
    invoices = invoiced_periods(actors.current(), customer_id, page.start, page.end)
    return {row.key: [invoice for invoice in invoices
                      if invoice.period_start < row.end and invoice.period_end > row.start]
            for row in page.rows}


def attachment(body, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def section_context(customer, links: SummaryLinks, now=None) -> dict:
    """What the fragment needs for ?frame= and ?before= of the request (422 for a frame or period it cannot use)."""
    frame = request.args.get("frame") or DEFAULT_FRAME
    now = now or utcnow()
    try:
        page = frame_page(customer.id, frame, now, request.args.get("before"))
    except FiguresError as error:
        abort(422, str(error))
    title = f"{FRAME_NAMES[frame]} calls and customer charge of {customer.name}, {page.rows[-1].label} to {page.rows[0].label} (UTC)"
    return dict(
        customer=customer, page=page, frame=frame, frames=FRAMES, frame_names=FRAME_NAMES,
        billing=frame in BILLING_FRAMES and not links.read_only, columns=COLUMNS, raw=raw, shown=shown,
        headings={column.key: heading(column, customer.currency) for column in COLUMNS},
        last_changed=last_changed(), invoices={} if links.read_only else _invoices_by_period(customer.id, page),
        chart=render_chart(frame, page.rows, customer.currency, title), now=now, links=links,
    )


def render_section(customer, links: SummaryLinks, now=None):
    return render_fragment("summary/_section.html", **section_context(customer, links, now))


def records_response(customer) -> Response:
    """The raw call records of one period (?frame=&period=<start>), streamed in the import's CSV format."""
    try:
        frame = check_frame(request.args.get("frame"))
        start = check_start(frame, request.args.get("period"))
    except FiguresError as error:
        abort(422, str(error))
    stamp = start.strftime("%Y-%m-%dT%H%M" if frame == "live" else "%Y-%m-%d")
    body = stream_with_context(record_lines(customer.id, start, period_end(frame, start)))
    return attachment(body, "text/csv; charset=utf-8", f"calls-{customer.id}-{frame}-{stamp}.csv")


def export_response(customer) -> Response:
    """Selected rows (?period= repeated) and columns (?column= repeated, all when none) as ?format=csv|xlsx."""
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
        return attachment(rows_csv(columns, rows, customer.currency), "text/csv; charset=utf-8", f"{name}.csv")
    sheet = f"{FRAME_NAMES[frame]} summary"
    return attachment(rows_xlsx(columns, rows, customer.currency, sheet), XLSX_MIMETYPE, f"{name}.xlsx")
