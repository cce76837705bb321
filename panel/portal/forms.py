"""Forms of the customer portal."""
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from panel.contacts.forms import PHONE
from panel.forms import PanelForm, email_address
from panel.passwords import MAX_LENGTH, MIN_LENGTH


class PortalLoginForm(PanelForm):
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


class ProfileForm(PanelForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    phone = StringField("Phone", validators=[Length(max=40), PHONE])
    mobile = StringField("Mobile", validators=[Length(max=40), PHONE])
    new_email = StringField("New e-mail", validators=[Length(max=254), email_address],
                            description="We send a link to the new address; it takes effect when you follow it.")

    def validate_name(self, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError("Enter your name.")


class ChangePasswordForm(PanelForm):
    current = PasswordField("Current password", validators=[Length(max=MAX_LENGTH)])
    new = PasswordField("New password", validators=[DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH)])
    repeat = PasswordField("New password again", validators=[DataRequired(), Length(max=MAX_LENGTH)])

    def validate_repeat(self, field):
        if field.data != self.new.data:
            raise ValidationError("The two new passwords differ.")


class MobileCodeForm(PanelForm):
    code = StringField("Code", validators=[DataRequired(), Regexp(r"^\s*\d{6}\s*$", message="Enter the 6 digits.")])
