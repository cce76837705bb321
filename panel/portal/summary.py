"""Portal pages: the customer's own Summary (Live, Daily, Weekly, Monthly, UTC), read-only, with each
period's call records as CSV and the selection's exports (registered on the portal blueprint, behind its
contact guard and the "calls" section of Portal Access).

The same fragment, figures, exports and grid script as staff (panel/summary/section.py), without
Generate Invoice or the invoice check boxes. A contact sees their own customer; an Admin contact every
customer of their tree; any other id is not found.
"""
from panel import access
from panel import actor as actors
from panel.portal import bp
from panel.portal.sections import section_required
from panel.summary.section import SummaryLinks, export_response, records_response, section_context
from panel.web import render_page


def _customer(customer_id: int):
    return access.fetch_customer(actors.current(), customer_id, message=access.NOT_YOURS)


def _links(customer_id: int) -> SummaryLinks:
    return SummaryLinks(customer_id, section_endpoint="portal.customer_summary",
                        records_endpoint="portal.summary_records", export_endpoint="portal.summary_export",
                        page_endpoint="portal.customer_summary", page_anchor=None, read_only=True)


@bp.get("/customers/<int:customer_id>/summary")
@section_required("calls")
def customer_summary(customer_id: int):
    """The Summary page; an htmx request (a tab, the pager) gets the section alone."""
    customer = _customer(customer_id)
    return render_page("portal/summary.html", block="section", **section_context(customer, _links(customer.id)))


@bp.get("/customers/<int:customer_id>/summary/records.csv")
@section_required("calls")
def summary_records(customer_id: int):
    return records_response(_customer(customer_id))


@bp.get("/customers/<int:customer_id>/summary/export")
@section_required("calls")
def summary_export(customer_id: int):
    return export_response(_customer(customer_id))
