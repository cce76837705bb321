"""Forms of the customer portal."""
from wtforms import PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from panel.contacts.forms import PHONE, TYPE_CHOICES, ContactIdentityChecks
from panel.contacts.recipients import type_help
from panel.contacts.records import looks_like_password
from panel.forms import AuditedForm, PanelForm, email_address
from panel.passwords import MAX_LENGTH, MIN_LENGTH, RULE


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
    new = PasswordField("New password", description=RULE,
                        validators=[DataRequired(message=RULE), Length(min=MIN_LENGTH, max=MAX_LENGTH, message=RULE)])
    repeat = PasswordField("New password again", validators=[DataRequired(), Length(max=MAX_LENGTH)])

    def validate_repeat(self, field):
        if field.data != self.new.data:
            raise ValidationError("The two new passwords differ.")


class MobileCodeForm(PanelForm):
    code = StringField("Code", validators=[DataRequired(), Regexp(r"^\s*\d{6}\s*$", message="Enter the 6 digits.")])


class SubAccountContactForm(ContactIdentityChecks, AuditedForm):
    """A portal Admin's add/edit of a contact of a customer in their tree. There is no private-notes
    field: private notes are the carrier's and never reach the portal, in either direction."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254), email_address],
                        description="Also the contact's portal login; a first password is e-mailed to it.")
    contact_type = SelectField("Contact type", choices=TYPE_CHOICES, default="", description=type_help())
    phone = StringField("Phone", validators=[Length(max=40), PHONE])
    mobile = StringField("Mobile", validators=[Length(max=40), PHONE])
    public_notes = TextAreaField("Notes", validators=[Length(max=2000)])

    def __init__(self, *args, contact_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact_id = contact_id

    def validate_email(self, field):
        """A new contact's address must be free (it is their login at once). A changed address of an existing
        contact is not checked here: the change waits for the link mailed to the new address, which says
        there if it is taken (panel/contacts/records.py change_login_email), so the answer is the same for a
        taken and an unused address, and never tells whose login an address is."""
        if self.contact_id is None:
            return super().validate_email(field)
        field.data = (field.data or "").strip()
        return None

    def validate_public_notes(self, field):
        if looks_like_password(field.data or ""):
            raise ValidationError("This looks like a password. Passwords must not be kept in notes.")

    def values(self) -> dict:
        return {"name": self.name.data, "email": self.email.data, "contact_type": self.contact_type.data,
                "phone": (self.phone.data or "").strip(), "mobile": (self.mobile.data or "").strip(),
                "public_notes": (self.public_notes.data or "").strip()}


def portal_sections_field(label: str, description: str) -> SelectMultipleField:
    """Check boxes, one a portal section (panel/portal/sections.py); none checked is a choice too."""
    from panel.portal.sections import LABELS

    return SelectMultipleField(label, choices=[SelectChoice(key, text) for key, text in LABELS.items()],
                               option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False),
                               validate_choice=True, description=description)


class PortalAccessForm(AuditedForm):
    """Staff (Main tab → Portal Access): the sections this customer's contacts see in the portal."""

    sections = portal_sections_field("Its contacts see", "A section left unchecked is absent from the portal's "
                                     "menu, and its pages are not found.")
