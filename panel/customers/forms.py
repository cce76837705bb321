"""The customer form: create (currency chosen once) and edit (currency fixed)."""
from wtforms import IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from panel.customers.accounts import EDITABLE
from panel.customers.models import CURRENCIES, INVOICE_SCHEDULES, STATUSES
from panel.forms import AuditedForm, email_address, parse_decimal
from panel.save_options import SaveOptionsMixin

TEXT_FIELDS = ("name", "email", "phone", "address_line1", "address_line2", "city", "region", "postal_code", "country")


class MoneyField(StringField):
    """A text input holding a Decimal; a bad amount is a message by the field, never a crash."""

    def _value(self):
        if self.data is None:
            return ""
        return str(self.data)


class CustomerForm(SaveOptionsMixin, AuditedForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    status = SelectField("Status", choices=[SelectChoice(s) for s in STATUSES], default="Pending Approval")
    currency = SelectField("Currency", choices=[SelectChoice(c) for c in CURRENCIES], default="USD")
    debit_limit = MoneyField(
        "Debit limit",
        default="0",
        description="How far below zero the balance may go: 0 for prepaid, more for a credit line.",
    )
    channel_limit = IntegerField(
        "Channel limit", default=0, validators=[NumberRange(min=0, max=1_000_000)],
        description="The most concurrent live calls.",
    )
    flow_speed = IntegerField(
        "Flow speed (calls per second)", default=0, validators=[NumberRange(min=0, max=100_000)],
        description="0 means unlimited.",
    )
    invoice_schedule = SelectField(
        "Invoice Schedule", choices=[SelectChoice(s, s.capitalize()) for s in INVOICE_SCHEDULES], default="none",
        description="Which invoices Auto Generate Invoice makes (the button, and the worker each day).",
    )
    email = StringField("E-mail", validators=[Optional(), Length(max=254), email_address])
    phone = StringField("Phone", validators=[Optional(), Length(max=40), Regexp(r"^[0-9+()\-.\s]*$", message="Use digits, spaces and + ( ) - . only.")])
    address_line1 = StringField("Address", validators=[Length(max=200)])
    address_line2 = StringField("Address (line 2)", validators=[Length(max=200)])
    city = StringField("City", validators=[Length(max=100)])
    region = StringField("State / region", validators=[Length(max=100)])
    postal_code = StringField("Postal code", validators=[Length(max=20)])
    country = StringField("Country (2 letters)", validators=[Optional(), Regexp(r"^[A-Za-z]{2}$", message="Use the two-letter country code, such as US or GB.")])

    def validate_debit_limit(self, field):
        try:
            value = parse_decimal(field.data, places=2)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if value < 0:
            raise ValidationError("The debit limit cannot be negative.")
        field.data = value

    def validate_name(self, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError("Enter the customer's name.")

    def values(self) -> dict:
        data = {name: getattr(self, name).data for name in EDITABLE}
        for name in TEXT_FIELDS:
            data[name] = (data[name] or "").strip()
        data["country"] = data["country"].upper()
        return data


class NewCustomerForm(CustomerForm):
    """A customer that does not exist yet cannot wait for a delayed save."""

    allow_delay = False


class CustomerEditForm(CustomerForm):
    """Same fields, but the currency was chosen at creation and is never changed."""

    currency = None
