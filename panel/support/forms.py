"""Forms for the support-credit ledger: a purchase, a deduction, a reversal."""
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, StopValidation, ValidationError

from panel.deployments.models import Deployment
from panel.extensions import db
from panel.forms import AmountField, AuditedForm, PanelForm
from panel.support.credits import MAX_CREDITS
from panel.support.models import CREDIT_PAYMENT_METHODS
from panel.support.reports import DESCRIPTION_LENGTH, SUBJECT_LENGTH


class CreditsField(AmountField):
    """A number of credits (two places), read by the one amount rule; its messages speak of credits."""

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except StopValidation as stop:
            message = str(stop.args[0]) if stop.args else ""
            raise StopValidation(message.replace("an amount", "a number of credits")
                                 .replace("That amount", "That number")) from None


def _credits(form, field):
    if field.data <= 0:
        raise ValidationError("Enter a number of credits above zero.")
    if field.data > MAX_CREDITS:
        raise ValidationError("That is more credits than the ledger holds in one transaction.")


def _required(message: str):
    def check(form, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError(message)

    return check


class PurchaseForm(AuditedForm):
    credits = CreditsField("Credits", validators=[_credits])
    payment_method = SelectField("Payment method", choices=[SelectChoice(m) for m in CREDIT_PAYMENT_METHODS],
                                 default=CREDIT_PAYMENT_METHODS[0])
    reference = StringField("Payment reference or PO number", validators=[
        _required("Enter the payment reference or PO number."), Length(max=100)])
    note = StringField("Note", validators=[Length(max=500)])


class DeductionForm(AuditedForm):
    credits = CreditsField("Credits", validators=[_credits])
    ticket_reference = StringField("Ticket reference", validators=[
        _required("Enter the ticket reference of the support work."), Length(max=100)])
    deployment_id = HiddenField("Deployment")
    q = StringField("Deployment", validators=[Length(max=200)])  # the picker's text box
    note = StringField("Note", validators=[Length(max=500)])

    def validate_deployment_id(self, field):
        text = (field.data or "").strip()
        if not text:
            field.data = None
            if (self.q.data or "").strip():
                raise ValidationError("Pick the deployment from the list, or empty the box for none.")
            return
        if not (text.isascii() and text.isdigit() and len(text) < 12):
            field.data = None
            raise ValidationError("Pick the deployment from the list.")
        field.data = int(text)


class ReverseForm(AuditedForm):
    note = StringField("Why is it reversed?", validators=[
        _required("Say why the transaction is reversed; it is kept with the reversal."), Length(max=500)])


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
