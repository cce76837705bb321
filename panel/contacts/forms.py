"""The contact form (add and inline edit) and the Change Password form."""
import ipaddress

from wtforms import (
    BooleanField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from panel.contacts.models import CONTACT_TYPES
from panel.contacts.logins import email_taken
from panel.contacts.records import EDITABLE, looks_like_password
from panel.contacts.recipients import type_help
from panel.forms import AuditedForm, email_address
from panel.passwords import RULE, rule_problem
from panel.save_options import SaveOptionsMixin

PHONE = Regexp(r"^[0-9+()\-.\s]*$", message="Use digits, spaces and + ( ) - . only.")
NOT_A_PASSWORD = ("This looks like a password. Passwords must not be kept in notes. If it is not a "
                  "password, tick “These notes hold no password” and save again.")
EMAIL_TAKEN = "This e-mail is already the portal login of another contact."
# No type is chosen for the user: the type decides which mail the contact receives (panel/contacts/recipients.py).
TYPE_CHOICES = [SelectChoice("", "Choose a type…")] + [SelectChoice(t) for t in CONTACT_TYPES]
CHOOSE_TYPE = "Choose the contact's type: it decides which mail they receive."


class PasswordChoiceMixin:
    auto_password = BooleanField("Auto Generate Password", default=True,
                                 description="A random password is e-mailed to the contact; it works once, for 24 hours.")
    password = PasswordField("Password", description=RULE)

    def validate_password(self, field):
        if self.auto_password.data:
            return
        if not field.data:
            raise ValidationError("Type a password, or tick Auto Generate Password.")
        problem = rule_problem(field.data)
        if problem:
            raise ValidationError(problem)

    def typed_password(self) -> str | None:
        return None if self.auto_password.data else self.password.data


class ContactIdentityChecks:
    """Name and e-mail rules of every contact form (staff and portal): the e-mail is one contact's login.
    The form sets `contact_id` (None for a new contact)."""

    contact_id: int | None = None

    def validate_name(self, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError("Enter the contact's name.")

    def validate_email(self, field):
        field.data = (field.data or "").strip()
        if field.data and email_taken(field.data, self.contact_id):
            raise ValidationError(EMAIL_TAKEN)

    def validate_contact_type(self, field):
        if field.data not in CONTACT_TYPES:
            raise ValidationError(CHOOSE_TYPE)


class ContactForm(ContactIdentityChecks, SaveOptionsMixin, AuditedForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = StringField("Email", validators=[DataRequired(), Length(max=254), email_address],
                        description="Also the contact's portal login.")
    contact_type = SelectField("Contact Type", choices=TYPE_CHOICES, default="", description=type_help())
    phone = StringField("Phone", validators=[Length(max=40), PHONE])
    mobile = StringField("Mobile", validators=[Length(max=40), PHONE])
    public_notes = TextAreaField("Public Notes", validators=[Length(max=2000)], description="Shown in the customer portal.")
    private_notes = TextAreaField("Private Notes", validators=[Length(max=2000)], description="Control panel only.")
    mobile_verified = BooleanField("Mobile Verified")
    email_verified = BooleanField("Email Verified")
    notes_hold_no_password = BooleanField("These notes hold no password")
    ip_allowlist = TextAreaField("Portal IP allow-list", validators=[Length(max=2000)],
                                 description="Addresses or ranges (CIDR), one per line; empty allows any address.")

    def __init__(self, *args, contact_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact_id = contact_id
        self.asked_about_notes = False

    def _check_notes(self, field):
        if looks_like_password(field.data or "") and not self.notes_hold_no_password.data:
            self.asked_about_notes = True
            raise ValidationError(NOT_A_PASSWORD)

    def validate_public_notes(self, field):
        self._check_notes(field)

    def validate_private_notes(self, field):
        self._check_notes(field)

    def validate_ip_allowlist(self, field):
        entries = [line.strip() for line in (field.data or "").replace(",", "\n").splitlines() if line.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValidationError(f"“{entry}” is not an IP address or CIDR range (such as 203.0.113.0/24).") from None
        field.data = "\n".join(entries)

    def values(self) -> dict:
        values = {name: getattr(self, name).data for name in EDITABLE}
        for key in ("phone", "mobile", "public_notes", "private_notes", "ip_allowlist"):
            values[key] = (values[key] or "").strip()
        return values


class NewContactForm(PasswordChoiceMixin, ContactForm):
    pass


class PasswordForm(PasswordChoiceMixin, AuditedForm):
    pass
