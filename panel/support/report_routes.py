"""Issue reports on the staff side (the customer page's "Issue reports" section), and the portal's
"Report an issue" form (its page is in panel/portal/onboarding.py, on the portal blueprint)."""
from flask import redirect, url_for

from panel import access
from panel import actor as actors
from panel.support import bp
from panel.support.reports import names_for, reports_of
from panel.web import render_fragment, wants_fragment

SECTION_LIMIT = 50


@bp.get("/<int:customer_id>/issue-reports")
def issue_reports(customer_id: int):
    """The Issue reports section of the Main tab: what the customer's contacts reported in the portal."""
    customer = access.fetch_customer(actors.current(), customer_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="issue-reports"))
    reports = reports_of(actors.current(), customer.id, SECTION_LIMIT + 1)
    reporters, deployments = names_for(reports)
    return render_fragment("support/_issue_reports.html", customer=customer, reports=reports[:SECTION_LIMIT],
                           more=len(reports) > SECTION_LIMIT, reporters=reporters, deployments=deployments)
