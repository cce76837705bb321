"""Issue reports on the staff side (the customer page's "Issue reports" section), and the portal's
"Report an issue" form (its page is in panel/portal/onboarding.py, on the portal blueprint)."""
from flask import redirect, url_for
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from panel import access
from panel import actor as actors
from panel.deployments.models import Deployment
from panel.extensions import db
from panel.forms import PanelForm
from panel.support import bp
from panel.support.reports import DESCRIPTION_LENGTH, SUBJECT_LENGTH, names_for, reports_of
from panel.web import render_fragment, wants_fragment

SECTION_LIMIT = 50


class IssueReportForm(PanelForm):
    """Subject, description, and optionally a deployment chosen with the deployment picker
    (templates/deployments/_picker.html posts its id as deployment_id and its text as q)."""

    subject = StringField("Subject", validators=[Length(max=SUBJECT_LENGTH)])
    description = TextAreaField("Description", validators=[Length(max=DESCRIPTION_LENGTH)],
                                description="What happened, when, and what you expected instead.")
    deployment_id = StringField("Deployment (optional)")
    q = StringField(validators=[Length(max=200)])

    def __init__(self, *args, reachable, **kwargs):
        super().__init__(*args, **kwargs)
        self.reachable = reachable  # customer id -> whether this contact may report on its deployments
        self.chosen: Deployment | None = None

    def validate_subject(self, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError("Say in a few words what the issue is.")

    def validate_description(self, field):
        field.data = (field.data or "").strip()
        if not field.data:
            raise ValidationError("Describe the issue.")

    def validate_deployment_id(self, field):
        text = (field.data or "").strip()
        if not text:
            if (self.q.data or "").strip():
                raise ValidationError("Pick the deployment from the list, or clear the box.")
            return
        found = db.session.get(Deployment, int(text)) if text.isdigit() and len(text) < 12 else None
        if found is None or not self.reachable(found.customer_id):
            raise ValidationError("Pick the deployment from the list, or clear the box.")
        self.chosen = found


@bp.get("/<int:customer_id>/issue-reports")
def issue_reports(customer_id: int):
    """The Issue reports section of the Main tab: what the customer's contacts reported in the portal."""
    customer = access.fetch_customer(actors.current(), customer_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="issue-reports"))
    reports = reports_of(customer.id, SECTION_LIMIT + 1)
    reporters, deployments = names_for(reports)
    return render_fragment("support/_issue_reports.html", customer=customer, reports=reports[:SECTION_LIMIT],
                           more=len(reports) > SECTION_LIMIT, reporters=reporters, deployments=deployments)
