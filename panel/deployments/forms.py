"""Forms for adding a deployment, a licence or a support plan, and for decommissioning a deployment."""
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from panel import money
from panel.deployments.models import PRODUCTS, SUPPORT_PLANS
from panel.forms import AuditedForm

MAX_QUANTITY = 1_000_000


def _required_text(message: str):
    def check(form, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError(message)

    return check


class DeploymentForm(AuditedForm):
    product = SelectField("Product", choices=[SelectChoice(p) for p in PRODUCTS], default=PRODUCTS[0])
    name = StringField("Name", validators=[_required_text("Give the deployment a name."), Length(max=200)],
                       description="How the customer knows it, such as “Head office PBX”.")


class LicenceForm(AuditedForm):
    name = StringField("Licence", validators=[_required_text("Name the licence."), Length(max=200)])
    quantity = StringField("Quantity", default="1", render_kw={"inputmode": "numeric", "pattern": money.pattern(0),
                                                               "title": money.hint(0)})
    expires_on = DateField("Expires on", validators=[Optional()], description="YYYY-MM-DD; empty if it never expires.")

    def validate_quantity(self, field):
        # The one amount rule (commas only between thousands), with no decimal places.
        try:
            number = money.parse_amount(field.data, decimals=0)
        except ValueError:
            number = None
        if number is None or not 1 <= number <= MAX_QUANTITY:
            raise ValidationError(f"Enter a whole number from 1 to {MAX_QUANTITY:,}.")
        field.data = int(number)


class SupportPlanForm(AuditedForm):
    plan = SelectField("Support plan", choices=[SelectChoice(p) for p in SUPPORT_PLANS], default=SUPPORT_PLANS[0])
    starts_on = DateField("Starts on", validators=[DataRequired(message="Enter the date as YYYY-MM-DD.")])
    ends_on = DateField("Ends on", validators=[DataRequired(message="Enter the date as YYYY-MM-DD.")])

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError("A support plan ends on or after the day it starts.")


class DecommissionForm(AuditedForm):
    """Decommission: a button; this carries CSRF and the audit comment when it is required."""
