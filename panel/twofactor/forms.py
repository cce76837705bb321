"""Forms of two-factor sign-in."""
from wtforms import PasswordField, SelectField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length, Optional

from panel.forms import AuditedForm, PanelForm
from panel.passwords import MAX_LENGTH
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



class TurnOffForm(PanelForm):
    """Turning one's own second factor off: a current code or the password proves it is the owner."""

    code = StringField("Code from your app, or a recovery code", validators=[Optional(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code"})
    password = PasswordField("or your password", validators=[Optional(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not (self.code.data or "").strip() and not self.password.data:
            self.code.errors = ["Enter a code from your app, a recovery code, or your password."]
            return False
        return ok
