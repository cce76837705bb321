"""The New customer steps as WTForms forms: the customer (step 1) and the rows of admin and support
contacts (steps 2 and 3, a FieldList of FormFields), with the customer and contact forms' checks and
messages, so a field says the same thing here as on the customer and contact pages.

A draft keeps plain dicts, so a step's form is made either from what was posted (`read`) or from
the values of a draft (`of_values`); `check` validates it and gives each input's first message by
its name ("admin-1-email"), and the step's own message (the support rule) under "form".
Only one message a field, checked in order: control characters, required, length, format.
"""
from werkzeug.datastructures import MultiDict
from wtforms import FieldList, Form, FormField, SelectChoice, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, StopValidation

from panel import emails
from panel.contacts.forms import EMAIL_TAKEN, ContactIdentityChecks
from panel.customers.forms import COUNTRY, CustomerNameChecks
from panel.customers.models import BUSINESS_TYPES, CURRENCIES
from panel.forms import CONTROL, email_address

SUPPORT_TYPES = ("Maintainer", "Onsite Admin", "Other")
REQUIRED_SUPPORT = ("Maintainer", "Onsite Admin")
MAX_ROWS = 50  # contacts of one kind in one draft
CUSTOMER_FIELDS = {  # name: (most characters, required); the country is checked as two letters
    "name": (200, True),
    "address_line1": (200, True),
    "address_line2": (200, False),
    "city": (100, True),
    "region": (100, False),
    "postal_code": (20, True),
    "country": (2, True),
    "business_type": (40, True),
}
ROW_FIELDS = {"admins": ("name", "email"), "support": ("name", "email", "type")}
ROW_PREFIX = {"admins": "admin", "support": "support"}  # input names: admin-0-name, support-2-type
ROW_LIMITS = {"name": 120, "email": 254, "type": 20}
CONTROL_MESSAGE = "Remove the control characters from this field."  # as PanelForm says it
EMAIL_MESSAGE = "Enter an e-mail address such as name@example.com."  # as email_address says it


def no_control(form, field):
    if isinstance(field.data, str) and CONTROL.search(field.data):
        raise StopValidation(CONTROL_MESSAGE)


def at_most(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit} characters.")


def collapse(value) -> str:
    """Runs of spaces as one, none at either end; nothing given is ""."""
    return " ".join(str(value).split()) if value is not None else ""


def capitals(value: str) -> str:
    return value.upper()


def _text(label: str, limit: int, required: str | None = None, *more, filters=()) -> StringField:
    checks = [no_control, *([DataRequired(required)] if required else []), at_most(limit), *more]
    return StringField(label, checks, filters=[collapse, *filters])


def _choice(label: str, choices, message: str, *before) -> SelectField:
    # validate_choice off: a value outside the list gets this form's message, not WTForms' own.
    return SelectField(label, choices=[SelectChoice(c) for c in choices], validate_choice=False,
                       validators=[*before, AnyOf(choices, message=message)], filters=[collapse])


class CustomerStep(CustomerNameChecks, Form):
    """Step 1: name, mailing address and business type; the currency where it is chosen (staff)."""

    name = _text("Name", CUSTOMER_FIELDS["name"][0], "Enter the customer's name.")
    business_type = _choice("Business type", BUSINESS_TYPES, "Choose a business type from the list.",
                            no_control, DataRequired("Choose the business type closest to the customer's."),
                            at_most(CUSTOMER_FIELDS["business_type"][0]))
    currency = _choice("Currency", CURRENCIES, "Choose a currency from the list.")
    address_line1 = _text("Address", CUSTOMER_FIELDS["address_line1"][0], "Enter the first line of the mailing address.")
    address_line2 = _text("Address (line 2, optional)", CUSTOMER_FIELDS["address_line2"][0])
    city = _text("City", CUSTOMER_FIELDS["city"][0], "Enter the city.")
    region = _text("State / region (optional)", CUSTOMER_FIELDS["region"][0])
    postal_code = _text("Postal code", CUSTOMER_FIELDS["postal_code"][0], "Enter the postal code.")
    country = StringField("Country (2 letters)", [no_control, DataRequired("Enter the two-letter country code, such as US or GB."),
                                                  COUNTRY], filters=[collapse, capitals])

    def __init__(self, *args, with_currency: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_currency:
            del self.currency  # a sub-account takes its reseller's

    def values(self) -> dict:
        return {name: self[name].data for name in (*CUSTOMER_FIELDS, *(["currency"] if "currency" in self else []))}

    def check(self) -> dict:
        self.validate()
        return {field.name: field.errors[:1] for field in self if field.errors}


class AdminRow(ContactIdentityChecks, Form):
    """One contact of a step: a name and the e-mail that becomes their portal login."""

    name = _text("Name", ROW_LIMITS["name"], "Enter the contact's name.")
    email = StringField("E-mail", [no_control, DataRequired("Enter the contact's e-mail address."),
                                   Length(max=ROW_LIMITS["email"], message=EMAIL_MESSAGE), email_address],
                        filters=[collapse])

    def validate_email(self, field):
        if not field.errors:  # anyone's login is asked only of a well-formed address
            super().validate_email(field)

    def is_blank(self) -> bool:
        """Neither name nor e-mail (a type alone does not count): left out, never an error."""
        return not self.name.data and not self.email.data

    def validate(self, extra_validators=None) -> bool:
        return self.is_blank() or super().validate(extra_validators)


class SupportRow(AdminRow):
    type = _choice("Type", SUPPORT_TYPES, "Choose Maintainer, Onsite Admin or Other.", no_control)


def missing_support_types(rows: list[dict]) -> str | None:
    """The support-contact rule: at least one Maintainer and one Onsite Admin. Says which is missing."""
    present = {row.get("type") for row in rows if row.get("name") or row.get("email")}
    missing = [t for t in REQUIRED_SUPPORT if t not in present]
    if len(missing) == 2:
        return "Add a Maintainer and an Onsite Admin support contact."
    if missing == ["Maintainer"]:
        return "Add a Maintainer support contact."
    if missing == ["Onsite Admin"]:
        return "Add an Onsite Admin support contact."
    return None


class RowsStep(Form):
    """Steps 2 and 3: rows of contacts. E-mails are unique in the draft (`other_emails`: those of the
    other step) and must not be anyone's login."""

    kind = ""
    other_label = ""

    @property
    def rows(self) -> FieldList:
        return self[ROW_PREFIX[self.kind]]

    def values(self) -> list[dict]:
        return [{name: entry.form[name].data for name in ROW_FIELDS[self.kind]} for entry in self.rows]

    def check(self, other_emails=()) -> dict:
        self.validate()
        errors = {}
        others, seen = {emails.lookup_key(e) for e in other_emails if e}, set()
        for entry in self.rows:
            row = entry.form
            if row.is_blank():
                continue
            email = emails.lookup_key(row.email.data)
            # The draft's own duplicates come before "anyone's login" (the database's check).
            if row.email.errors in ([], [EMAIL_TAKEN]):
                if email in others:
                    row.email.errors = [f"This e-mail is already used for {self.other_label} in this draft."]
                elif email in seen:
                    row.email.errors = ["This e-mail is already used for another contact in this draft."]
            seen.add(email)
            errors.update({field.name: field.errors[:1] for field in row if field.errors})
        if self.kind == "support" and not errors:
            missing = missing_support_types(self.values())
            if missing:
                errors["form"] = [missing]
        return errors


class AdminsStep(RowsStep):
    kind, other_label = "admins", "a support contact"
    admin = FieldList(FormField(AdminRow), max_entries=MAX_ROWS)


class SupportStep(RowsStep):
    kind, other_label = "support", "an admin contact"
    support = FieldList(FormField(SupportRow), max_entries=MAX_ROWS)


STEP_FORMS = {1: CustomerStep, 2: AdminsStep, 3: SupportStep}


def _known(step: int, formdata, with_currency: bool) -> MultiDict:
    """Only the step's own inputs, the first value of each (anything else posted, such as reseller_id
    or debit_limit, is never read); rows by their number as written (admin-01-name is row 1's)."""
    if step == 1:
        names = (*CUSTOMER_FIELDS, "currency") if with_currency else tuple(CUSTOMER_FIELDS)
        return MultiDict({name: formdata.get(name) or "" for name in names})
    kind = STEP_FORMS[step].kind
    prefix, names = ROW_PREFIX[kind] + "-", ROW_FIELDS[kind]
    known = {}
    for key in formdata:
        index, _, name = key[len(prefix):].partition("-") if key.startswith(prefix) else ("", "", "")
        if name in names and index.isdecimal() and len(index) <= 4:
            known[f"{prefix}{int(index)}-{name}"] = formdata.get(key) or ""
    return MultiDict(known)


def read(step: int, formdata, *, with_currency: bool = True):
    """The form of a step as posted."""
    known = _known(step, formdata, with_currency)
    return CustomerStep(formdata=known, with_currency=with_currency) if step == 1 else STEP_FORMS[step](formdata=known)


def of_values(step: int, values, *, with_currency: bool = True, errors: dict | None = None):
    """The form of a step holding a draft's values, with `errors` (by input name) shown by their inputs."""
    if step == 1:
        form = CustomerStep(data=values, with_currency=with_currency)
    else:
        form = STEP_FORMS[step](data={ROW_PREFIX[STEP_FORMS[step].kind]: list(values)})
    for name, messages in (errors or {}).items():
        field = _field_named(form, name)
        if field is not None:
            field.errors = list(messages)
    return form


def _field_named(form, name: str):
    if name in form:
        return form[name]
    for entry in getattr(form, "rows", ()):
        for field in entry.form:
            if field.name == name:
                return field
    return None
