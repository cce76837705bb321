"""Forms of the staff Orders pages: record a wire or cheque payment, cancel, mark shipped."""
from wtforms import BooleanField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from panel.forms import AuditedForm


class RecordPaymentForm(AuditedForm):
    method = RadioField("Method", choices=[SelectChoice("wire", "Wire Transfer"), SelectChoice("cheque", "Check")], default="wire",
                        validators=[DataRequired("Choose Wire Transfer or Check.")])
    reference = StringField("Reference", description="The transfer's reference or the cheque's number.",
                            validators=[DataRequired("Enter the payment's reference."), Length(max=100)])


class CancelOrderForm(AuditedForm):
    reason = TextAreaField("Reason", validators=[DataRequired("Say why the order is cancelled."), Length(max=500)])


class ShipForm(AuditedForm):
    tracking_reference = StringField("Tracking reference",
                                     validators=[DataRequired("Enter the tracking reference."), Length(max=100)])


class ConvertQuoteForm(AuditedForm):
    """Staff converting a customer's quote (the customer's contact may do it in the portal too)."""

    method = RadioField("Payment method", choices=[SelectChoice("wire", "Wire Transfer"), SelectChoice("cheque", "Check")],
                        default="wire", validators=[DataRequired("Choose Wire Transfer or Check.")])
    terms = BooleanField("The customer accepted the Terms and Conditions")
