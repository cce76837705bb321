"""The SIP user form."""
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import Length, ValidationError

from panel.forms import AuditedForm
from panel.passwords import MAX_LENGTH


class SipUserForm(AuditedForm):
    username = SelectField("Number", choices=[], validate_choice=False)
    auto_password = BooleanField("Generate a password", default=True)
    password = PasswordField("Password")
    caller_name = StringField("Caller name", validators=[Length(max=100)])

    def validate_username(self, field):
        if not (field.data or "").isdigit():
            raise ValidationError("Pick one of the customer's free numbers.")

    def validate_password(self, field):
        if self.auto_password.data:
            return
        if not field.data or not 12 <= len(field.data) <= MAX_LENGTH:
            raise ValidationError(f"Type 12 to {MAX_LENGTH} characters, or tick Generate a password.")
