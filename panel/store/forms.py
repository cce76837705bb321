"""Forms of the store: a product and its prices, a shipping rate, the store's settings (staff), the
quantities of the portal's Store and cart, and the staff Orders pages (record a wire or cheque payment,
cancel, mark shipped, convert a quote)."""
from wtforms import (BooleanField, HiddenField, IntegerField, RadioField, SelectChoice, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from panel import money
from panel.forms import AmountField, AuditedForm, PanelForm
from panel.store.cart import MAX_QUANTITY
from panel.store.catalogue import CURRENCIES, LONG_TEXT, MAX_TERM_MONTHS, PRODUCT_LINES
from panel.deployments.models import SUPPORT_PLANS
from panel.store.models import KINDS, TABS


def _price_fields(cls):
    """One optional price per currency, typed by the one amount rule with the currency's places."""
    for currency in CURRENCIES:
        setattr(cls, f"price_{currency}", AmountField(f"Price in {currency}", decimals=money.places(currency),
                                                      optional=True))
    return cls


class _Prices:
    def prices(self) -> dict:
        return {c: getattr(self, f"price_{c}").data for c in CURRENCIES if getattr(self, f"price_{c}").data is not None}

    def price_fields(self) -> list:
        return [getattr(self, f"price_{c}") for c in CURRENCIES]


@_price_fields
class ProductForm(AuditedForm, _Prices):
    sku = StringField("SKU", validators=[Length(max=40)])
    name = StringField("Name", validators=[Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    tab = SelectField("Tab", choices=[SelectChoice(k, v) for k, v in TABS.items()], default="support")
    category = StringField("Category", validators=[Length(max=100)],
                           description="The menu on the left of the tab, such as “Hourly Support”.")
    kind = SelectField("What buying it does", choices=[SelectChoice(k, v) for k, v in KINDS.items()], default="credits")
    credits = AmountField("Support credits", optional=True, description="Support credits: how many one buys.")
    plan = SelectField("Plan", choices=[SelectChoice("", "—")] + [SelectChoice(p) for p in SUPPORT_PLANS], default="",
                       description="Support plan: the plan put on the deployment.")
    term_months = IntegerField("Term (months)", validators=[Optional(), NumberRange(1, MAX_TERM_MONTHS)],
                               description="Support plan: 12, 24, 36 …")
    product_line = SelectField("Product line", choices=[SelectChoice("", "Any")] + [SelectChoice(p) for p in PRODUCT_LINES],
                               default="", description="Deployment-specific products: the deployments they apply to.")
    position = IntegerField("Position", validators=[Optional(), NumberRange(0, 100_000)], default=0,
                            description="Lower comes first in its category.")

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in ("sku", "name", "description", "tab", "category", "kind",
                                                            "credits", "plan", "term_months", "product_line", "position")}


@_price_fields
class ShippingRateForm(AuditedForm, _Prices):
    name = StringField("Name", validators=[Length(max=100)])
    position = IntegerField("Position", validators=[Optional(), NumberRange(0, 100_000)], default=0)


class StoreSettingsForm(AuditedForm):
    terms = TextAreaField("Terms and Conditions", validators=[Length(max=LONG_TEXT)],
                          description="Buyers tick that they agree; a change makes a new version.")
    wire_instructions = TextAreaField("Wire transfer instructions", validators=[Length(max=LONG_TEXT)])
    cheque_instructions = TextAreaField("Cheque instructions", validators=[Length(max=LONG_TEXT)])
    quote_days = IntegerField("Quotes stay valid for (days)", validators=[InputRequired("Enter a number of days."),
                                                                         NumberRange(1, 365)], default=30)


def _quantity_field():
    return IntegerField("Quantity", default=1, validators=[
        InputRequired(f"Enter a quantity from 1 to {MAX_QUANTITY}."),
        NumberRange(1, MAX_QUANTITY, f"Enter a quantity from 1 to {MAX_QUANTITY}.")],
        render_kw={"min": 1, "max": MAX_QUANTITY, "step": 1, "inputmode": "numeric"})


class AddToCartForm(PanelForm):
    product_id = HiddenField()
    quantity = _quantity_field()

    def validate_product_id(self, field):
        if not (field.data or "").isdigit() or len(field.data) > 9:
            raise ValidationError("This product is not available.")


class QuantityForm(PanelForm):
    quantity = _quantity_field()


class PlanChoiceForm(PanelForm):
    """The plan wizard's choices so far (each step posts the earlier ones back)."""

    line = StringField(validators=[Length(max=20)])
    product_id = StringField(validators=[Length(max=9)])



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
