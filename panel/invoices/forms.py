"""Forms for voiding an invoice and recording a payment."""
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from panel.forms import AuditedForm, parse_decimal
from panel.invoices.models import PAYMENT_METHODS, PAYMENT_STATUSES


class VoidInvoiceForm(AuditedForm):
    reason = TextAreaField("Why is this invoice void?", validators=[Length(max=500)])

    def validate_reason(self, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError("Say why the invoice is void; it is kept with the invoice and in the audit log.")


class PaymentForm(AuditedForm):
    amount = StringField("Amount")
    method = SelectField("Method", choices=[SelectChoice(m) for m in PAYMENT_METHODS], default=PAYMENT_METHODS[0])
    reference = StringField("Reference", validators=[Length(max=100)],
                            description="The bank reference, card transaction or cheque number.")
    status = SelectField("Status", choices=[SelectChoice(s) for s in PAYMENT_STATUSES[:2]], default="Pending",
                         description="Only Completed payments count toward the balance.")
    received_on = DateField("Received on", validators=[DataRequired(message="Enter the date as YYYY-MM-DD.")])

    def validate_amount(self, field):
        try:
            value = parse_decimal(field.data, places=2)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if value <= 0:
            raise ValidationError("A payment is more than zero.")
        field.data = value

    def values(self) -> dict:
        return {"amount": self.amount.data, "method": self.method.data, "reference": (self.reference.data or "").strip(),
                "status": self.status.data, "received_on": self.received_on.data}


class AllocationForm(AuditedForm):
    """Allocate Payment: the amounts are one input per open invoice (read by the route); this carries
    CSRF and the audit comment."""
