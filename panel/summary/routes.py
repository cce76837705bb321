"""Routes for /customers/<id>/summary: the section of the Main tab, its exports and each period's call records.

All three are reads (GET), so read-only staff may view and export; the exports carry the selection in
the query string. Unknown frames, periods and columns answer 422 with a message. The portal shows the
same section read-only (panel/portal/summary.py); both go through panel/summary/section.py.
"""
from flask import redirect, url_for

from panel import access
from panel import actor as actors
from panel.summary import bp
from panel.summary.section import SummaryLinks, export_response, records_response, render_section
from panel.types import utcnow
from panel.web import wants_fragment


def get_customer(customer_id: int):
    return access.fetch_customer(actors.current(), customer_id)


@bp.get("/<int:customer_id>/summary")
def section(customer_id: int):
    """The Summary section of the Main tab, on one time frame (?frame=live|daily|weekly|monthly, ?before=<period>)."""
    customer = get_customer(customer_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="summary"))
    return render_section(customer, SummaryLinks(customer.id), now=utcnow())


@bp.get("/<int:customer_id>/summary/records.csv")
def records(customer_id: int):
    """The raw call records of one period (?frame=&period=<start>), streamed in the import's CSV format."""
    return records_response(get_customer(customer_id))


@bp.get("/<int:customer_id>/summary/export")
def export(customer_id: int):
    """Selected rows (?period= repeated) and columns (?column= repeated, all when none) as ?format=csv|xlsx."""
    return export_response(get_customer(customer_id))
