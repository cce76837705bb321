"""Portal pages: a portal Admin contact onboards a sub-account step by step; any contact reports an issue.

Onboarding uses the same pages as the control panel's (panel/onboarding/pages.py); only an Admin
contact has them (anyone else: 404, as for any customer outside their reach). In Portal Login staff
see and do what the contact would, audited as themselves.
"""
from flask import flash, redirect, request, url_for

from panel import access
from panel import actor as actors
from panel.onboarding import pages
from panel.portal import bp
from panel.portal.sections import open_for, section_required
from panel.support.forms import IssueReportForm
from panel.support.reports import file_report, reports_of
from panel.web import render_page


@bp.get("/onboarding/")
def onboarding_index():
    return pages.index(actors.current())


@bp.route("/onboarding/new", methods=["GET", "POST"])
def onboarding_new():
    return pages.new(actors.current())


@bp.route("/onboarding/<int:draft_id>/step/<int:step>", methods=["GET", "POST"])
def onboarding_step(draft_id: int, step: int):
    return pages.step(actors.current(), draft_id, step)


@bp.route("/onboarding/<int:draft_id>/cancel", methods=["GET", "POST"])
def onboarding_cancel(draft_id: int):
    return pages.cancel(actors.current(), draft_id)


# Report an issue ---------------------------------------------------------------------------------

@bp.route("/report-issue", methods=["GET", "POST"])
@section_required("reports")
def report_issue():
    """Any contact reports an issue of their own customer; an Admin contact may pick a deployment of a
    sub-account, and then reports it for that customer. E-mailed to that customer's support contacts."""
    actor = actors.current()
    own = access.fetch_customer(actor, actor.customer_id)
    # With Deployments hidden (Portal Access) there is no picker, and no deployment id is one of theirs.
    pick = open_for(actor, "deployments")
    form = IssueReportForm(reachable=lambda customer_id: pick and access.can_see_customer(actor, customer_id))
    if request.method == "POST" and form.validate():
        customer = own if form.chosen is None else access.fetch_customer(actor, form.chosen.customer_id)
        report, messages = file_report(actor, customer, actor.contact, form.subject.data, form.description.data,
                                       form.chosen, by_staff=actor.impersonated)
        if messages:
            flash(f"Your report #{report.id} is sent to {len(messages)} support contact(s) of {customer.name}: "
                  f"{report.sent_to}.")
        else:
            flash(f"Your report #{report.id} is kept on {customer.name}'s record, but {customer.name} has no "
                  "support contacts, so nobody was e-mailed. Your provider's staff can see the report.")
        return redirect(url_for("portal.report_issue"), 303)
    return render_page("portal/report_issue.html", code=422 if form.errors else 200, form=form, customer=own,
                       reports=reports_of(actor, own.id, 20),
                       pick_deployment=pick)
