"""Forms for staff sign-in."""
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from panel.forms import PanelForm
from panel.passwords import MAX_LENGTH, MIN_LENGTH, RULE


class LoginForm(PanelForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


class EmptyForm(PanelForm):
    """For buttons that only POST (sign out, delete): carries the CSRF token."""


class ForgotPasswordForm(PanelForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(PanelForm):
    """A new password chosen through a mailed link (staff and portal alike): the project's rules."""

    new = PasswordField("New password", description=RULE, validators=[
        DataRequired(message=RULE), Length(min=MIN_LENGTH, max=MAX_LENGTH, message=RULE)])
    repeat = PasswordField("Repeat the new password", validators=[
        DataRequired(), EqualTo("new", message="The two passwords are not the same.")])


class NewPasswordWithCodeForm(NewPasswordForm):
    """The mailed link's form for someone with a second factor: the code is asked before the new password is
    accepted (not required here: a passkey, used on the same page, may stand in for it)."""

    code = StringField("Code from your authenticator app, or a recovery code", validators=[Length(max=20)],
                       render_kw={"autocomplete": "one-time-code"})
