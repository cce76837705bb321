"""Forms of two-factor sign-in."""
from wtforms import SelectField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length

from panel.forms import AuditedForm, PanelForm
from panel.twofactor.factors import REQUIRE_CHOICES


class CodeForm(PanelForm):
    code = StringField("Code", validators=[DataRequired(message="Enter the code."), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True},
                       description="The 6 digits your authenticator app shows, or one of your recovery codes.")


class ConfirmForm(PanelForm):
    code = StringField("First code", validators=[DataRequired(message="Enter the 6 digits your app shows."),
                                                 Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
                       description="The 6 digits your authenticator app shows now.")


class RequirementForm(AuditedForm):
    required = SelectField("Require two-factor sign-in for",
                           choices=[SelectChoice(value, label) for value, label in REQUIRE_CHOICES])

