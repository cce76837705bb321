"""Portal pages: support credits (registered on the portal blueprint, behind its contact guard).

A contact sees the balance and the transaction log of their own customer; buying, deducting and
reversing credits are staff work, so the portal has no route that writes to the ledger."""
from flask import render_template

from panel import access
from panel import actor as actors
from panel.portal import bp
from panel.portal.sections import section_required
from panel.support import credits
from panel import pages

LOG_SIZE = 25


@bp.get("/support-credits")
@section_required("deployments")
def support_credits():
    """The contact's own customer's support credits; the customer comes from the session, never the URL."""
    actor = actors.current()
    customer = access.fetch_customer(actor, actor.customer_id)
    return render_template("support/portal_credits.html", customer=customer,
                           log=credits.log(actors.current(), customer.id, pages.requested(), LOG_SIZE))
