"""Forms of the staff Orders pages: record a wire or cheque payment, cancel, mark shipped."""
from wtforms import RadioField, SelectChoice, StringField, TextAreaField
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
