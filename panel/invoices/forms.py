"""Forms for voiding an invoice, recording a payment and allocating it."""
from decimal import Decimal

from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from panel.forms import AmountField, AuditedForm
from panel.money import places, show
from panel.invoices.models import PAYMENT_METHODS, PAYMENT_STATUSES
from panel.types import utcnow


def _today():
    """The date the panel calls today (UTC, like every date it shows)."""
    return utcnow().date()


class VoidInvoiceForm(AuditedForm):
    reason = TextAreaField("Why is this invoice void?", validators=[Length(max=500)])

    def validate_reason(self, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError("Say why the invoice is void; it is kept with the invoice and in the audit log.")


class PaymentForm(AuditedForm):
    """Record Payment, in the order the page shows it: amount, when, how, the reference, then the status.
    The money was received (the form asks when), so it is Completed unless staff say it is still Pending
    (a cheque not yet cleared)."""

    amount = AmountField("Amount")
    received_on = DateField("Received on", default=_today,
                            validators=[InputRequired(message="Pick the day the payment was received.")],
                            invalid_value_message="That is not a date: pick the day the payment was received.",
                            description="The day the money arrived (UTC); today unless you change it.")
    method = SelectField("Method", choices=[SelectChoice(m) for m in PAYMENT_METHODS], default=PAYMENT_METHODS[0])
    reference = StringField("Reference", validators=[Length(max=100)],
                            description="The bank reference, card transaction or cheque number.")
    status = SelectField("Status", choices=[SelectChoice(s) for s in PAYMENT_STATUSES[:2]], default="Completed",
                         description="Only Completed payments count toward the balance; choose Pending for money "
                                     "not yet cleared (a cheque).")

    def __init__(self, *args, currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.amount.decimals = places(currency)  # in the customer's currency, to its minor unit

    def validate_amount(self, field):
        if field.data <= 0:
            raise ValidationError("A payment is more than zero.")

    def values(self) -> dict:
        return {"amount": self.amount.data, "method": self.method.data, "reference": (self.reference.data or "").strip(),
                "status": self.status.data, "received_on": self.received_on.data}


class AllocationForm(AuditedForm):
    """Allocate Payment: an optional amount per open invoice, each an `amount-<invoice id>` field with
    its own message; the whole allocation is made only when every amount is good (all or none)."""

    @classmethod
    def for_invoices(cls, rows, currency: str, **kwargs) -> "AllocationForm":
        """The form for these open invoices (payments.OpenInvoice rows) of a payment in `currency`."""
        fields = {f"amount-{row.invoice.id}": AmountField(
            f"Amount for {row.invoice.number}", decimals=places(currency), optional=True,
            validators=[_at_most_due(row.due, currency)]) for row in rows}
        form = type("AllocationAmounts", (cls,), fields)(**kwargs)
        form.rows = [(row, form[f"amount-{row.invoice.id}"]) for row in rows]
        return form

    def amounts(self) -> dict[int, Decimal]:
        """{invoice id: amount} for the amounts typed (empty ones are left out)."""
        return {row.invoice.id: field.data for row, field in self.rows if field.data is not None}


def _at_most_due(due: Decimal, currency: str):
    def check(form, field):
        if field.data <= 0:
            raise ValidationError("Enter an amount above zero, or leave it empty.")
        if field.data > due:
            raise ValidationError(f"That is more than the {show(due, currency)} due.")

    return check
