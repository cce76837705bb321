"""Forms for staff sign-in."""
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from panel.forms import PanelForm
from panel.passwords import MAX_LENGTH


class LoginForm(PanelForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


class EmptyForm(PanelForm):
    """For buttons that only POST (sign out, delete): carries the CSRF token."""
