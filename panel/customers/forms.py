"""The customer form: create (currency chosen once) and edit (currency fixed)."""
import re

from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from panel.customers.accounts import ADDRESSES, EDITABLE, PORTAL_EDITABLE
from panel.customers.hierarchy import HierarchyError, check_reseller
from panel.customers.trunks import TrunkRefused, parse_network
from panel.customers.models import (
    BUSINESS_TYPES,
    CURRENCIES,
    CUSTOMER_TYPES,
    INVOICE_SCHEDULES,
    PAYMENT_TERMS,
    PORTAL_SECTIONS,
    STATUSES,
)
from panel.forms import AmountField, AuditedForm, PanelForm, email_address
from panel.money import MINOR_UNITS, places
from panel.options import get_option
from panel.save_options import SaveOptionsMixin, UTCDateTimeField

TEXT_FIELDS = ("name", "email", "phone", "address_line1", "address_line2", "city", "region", "postal_code", "country",
               *(name for name in ADDRESSES if name != "shipping_same_as_billing"))
COUNTRY = Regexp(r"^[A-Za-z]{2}$", message="Use the two-letter country code, such as US or GB.")


OWNER_ID = re.compile(r"^#?\s*(\d{1,10})(?:\s*·.*)?$", re.DOTALL)


def owner_id(text: str | None, picked, box_sent: bool = True) -> int | None:
    """The Reseller owner from the picker's box and its hidden id. The box wins when it starts with an id
    (typed without JavaScript, or "#12 · Name" as picking writes it); otherwise the id picked from the list;
    an empty box is no owner. A request without the box (a script posting reseller_id alone) gives the id.
    ValidationError for a name that was typed but not picked, or a bad id."""
    text = (text or "").strip() if box_sent else str(picked or "").strip()
    if not text:
        return None
    typed = OWNER_ID.match(text)
    if typed:
        value = int(typed.group(1))
    elif str(picked or "").strip().isdigit():
        value = int(str(picked).strip())
    else:
        raise ValidationError("Pick the reseller from the list, or type its customer id.")
    if not 1 <= value < 2**31:
        raise ValidationError("There is no customer with that id.")
    return value


class CustomerNameChecks:
    """The customer's name as every customer form takes it (staff, portal, the New customer flow)."""

    def validate_name(self, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError("Enter the customer's name.")


class CustomerDetailsFields(CustomerNameChecks, PanelForm):
    """What a customer's own admins may keep up to date too: name, contact details, addresses, business type."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    business_type = SelectField("Business type", choices=[SelectChoice("", "— not given —")]
                                + [SelectChoice(b) for b in BUSINESS_TYPES], default="",
                                description="Used only for statistics.")
    email = StringField("E-mail", validators=[Optional(), Length(max=254), email_address])
    phone = StringField("Phone", validators=[Optional(), Length(max=40), Regexp(r"^[0-9+()\-.\s]*$", message="Use digits, spaces and + ( ) - . only.")])
    address_line1 = StringField("Address", validators=[Length(max=200)])
    address_line2 = StringField("Address (line 2)", validators=[Length(max=200)])
    city = StringField("City", validators=[Length(max=100)])
    region = StringField("State / region", validators=[Length(max=100)])
    postal_code = StringField("Postal code", validators=[Length(max=20)])
    country = StringField("Country (2 letters)", validators=[Optional(), COUNTRY])
    billing_line1 = StringField("Address", validators=[Length(max=200)])
    billing_line2 = StringField("Address (line 2)", validators=[Length(max=200)])
    billing_city = StringField("City", validators=[Length(max=100)])
    billing_region = StringField("State / region", validators=[Length(max=100)])
    billing_postal_code = StringField("Postal code", validators=[Length(max=20)])
    billing_country = StringField("Country (2 letters)", validators=[Optional(), COUNTRY])
    shipping_same_as_billing = BooleanField("Ship to the billing address", default=True)
    shipping_line1 = StringField("Address", validators=[Length(max=200)])
    shipping_line2 = StringField("Address (line 2)", validators=[Length(max=200)])
    shipping_city = StringField("City", validators=[Length(max=100)])
    shipping_region = StringField("State / region", validators=[Length(max=100)])
    shipping_postal_code = StringField("Postal code", validators=[Length(max=20)])
    shipping_country = StringField("Country (2 letters)", validators=[Optional(), COUNTRY])

    fields_saved = PORTAL_EDITABLE

    def values(self) -> dict:
        data = {name: getattr(self, name).data for name in self.fields_saved}
        for name in TEXT_FIELDS:
            if name in data:
                data[name] = (data[name] or "").strip()
        for name in ("country", "billing_country", "shipping_country"):
            data[name] = data[name].upper()
        data["shipping_same_as_billing"] = bool(data["shipping_same_as_billing"])
        return data


class PortalCustomerForm(CustomerDetailsFields, AuditedForm):
    """A portal Admin contact's edit of a customer in their tree: no restricted field exists here, so
    a hand-made request that sends one changes nothing."""


class CustomerForm(SaveOptionsMixin, CustomerDetailsFields, AuditedForm):
    fields_saved = EDITABLE
    status = SelectField("Status", choices=[SelectChoice(s) for s in STATUSES], default="Pending Approval")
    currency = SelectField("Currency", choices=[SelectChoice(c) for c in CURRENCIES], default="USD")
    debit_limit = AmountField(
        "Debit limit",
        default="0",
        description="How far below zero the balance may go: 0 for prepaid, more for a credit line.",
    )
    channel_limit = IntegerField(
        "Channel limit", default=0, validators=[NumberRange(min=0, max=1_000_000)],
        description="The most concurrent live calls.",
    )
    flow_speed = IntegerField(
        "Flow speed (calls per second)", default=0, validators=[NumberRange(min=0, max=100_000)],
        description="0 means unlimited.",
    )
    invoice_schedule = SelectField(
        "Invoice Schedule", choices=[SelectChoice(s, s.capitalize()) for s in INVOICE_SCHEDULES], default="none",
        description="Which invoices Auto Generate Invoice makes (the button, and the worker each day).",
    )
    # The Reseller owner picker (templates/customers/form.html): the box (reseller_q) takes part of a name or
    # an id; picking a match fills the hidden reseller_id and writes "#<id> · <name>" in the box. Without
    # JavaScript an id typed in the box is the owner. Empty: a direct customer of the carrier.
    reseller_id = StringField("Reseller owner")
    reseller_q = StringField("Reseller owner", validators=[Length(max=200)],
                             description="Type part of its name or its customer id, then pick it from the list; "
                                         "leave empty for a direct customer of the carrier.")
    daily_spend_limit = AmountField(
        "Daily spend limit", optional=True,
        description="Today's spend (UTC) at which the switch's credit check refuses new calls; empty: no limit.",
    )
    allow_inbound_zero_balance = BooleanField(
        "Allow inbound calls with zero balance",
        description="Once the credit is used up, the credit check still lets inbound calls through.")
    require_two_factor = BooleanField("Portal contacts must use two-factor sign-in",
                                      description="Each contact sets up an authenticator app at their next sign-in.")
    customer_type = SelectField("Customer type", choices=[SelectChoice(t) for t in CUSTOMER_TYPES], default="End Customer")
    payment_terms = SelectField("Payment terms", choices=[SelectChoice(t) for t in PAYMENT_TERMS], default="Prepaid")

    def validate_reseller_id(self, field):
        if self.reseller_q.raw_data is None and field.raw_data is None:
            return  # a form built from the record alone (not posted): keep its owner
        field.data = owner_id(self.reseller_q.data, field.data, box_sent=bool(self.reseller_q.raw_data))
        try:
            check_reseller(getattr(self, "customer_id", None), field.data)
        except HierarchyError as error:
            raise ValidationError(str(error)) from None

    def validate(self, extra_validators=None) -> bool:
        if self.currency is not None and self.currency.data in MINOR_UNITS:
            self.debit_limit.decimals = places(self.currency.data)  # typed in the currency being chosen
            self.daily_spend_limit.decimals = places(self.currency.data)
        return super().validate(extra_validators)

    def validate_daily_spend_limit(self, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError("The daily spend limit is more than zero (leave it empty for no limit).")

    def validate_debit_limit(self, field):
        if field.data < 0:
            raise ValidationError("The debit limit cannot be negative.")


QUICK_ADD_CHANNEL_LIMIT = 10  # a channel limit of 0 blocks every call: a new customer starts able to call


def quick_add_channel_limit() -> int:
    """The channel limit a new customer's form starts with: the `new_customer_channel_limit` option when it is
    set to a whole number, else QUICK_ADD_CHANNEL_LIMIT."""
    typed = get_option("new_customer_channel_limit").strip()
    return int(typed) if typed.isdigit() else QUICK_ADD_CHANNEL_LIMIT


class NewCustomerForm(CustomerForm):
    """Quick add: one page, no contacts (those come after, or use the step-by-step New customer). A customer
    that does not exist yet cannot wait for a delayed save."""

    allow_delay = False
    channel_limit = IntegerField(
        "Channel limit", default=quick_add_channel_limit, validators=[NumberRange(min=0, max=1_000_000)],
        description="The most concurrent live calls; 0 blocks every call.",
    )


class CustomerEditForm(CustomerForm):
    """Same fields, but the currency was chosen at creation and is never changed."""

    currency = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if kwargs.get("obj") is not None:
            self.debit_limit.decimals = places(kwargs["obj"].currency)
            self.daily_spend_limit.decimals = places(kwargs["obj"].currency)


# -- Bulk changes on the customer list (panel/bulk/jobs.py) -----------------------------------------------

LEAVE = "— leave as is —"


def _leave_as_is(unbound, **changes):
    """A field of the customer form for Bulk Edit: the same label, rules and help, but empty means "leave as
    is" (a select gets that as its first choice)."""
    kwargs = dict(unbound.kwargs)
    if "choices" in kwargs:
        kwargs["choices"] = [SelectChoice("", LEAVE), *kwargs["choices"]]
        kwargs["default"] = ""
    else:
        kwargs["validators"] = [Optional(), *kwargs.get("validators", ())]
        kwargs["default"] = None
    kwargs.update(changes)
    return unbound.field_class(*unbound.args, **kwargs)


class IdsField(StringField):
    """The ticked customers: every `ids` value posted (check boxes, or one comma-separated hidden field)."""

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        parts = [p.strip() for value in valuelist for p in str(value).split(",") if p.strip()]
        self.data = parts

    def pre_validate(self, form):
        if any(not p.isdigit() or len(p) > 10 for p in self.data or ()):
            raise StopValidation("Select customers from the list.")
        self.data = sorted({int(p) for p in self.data or ()})

    def _value(self):
        return ",".join(str(i) for i in self.data or ())


class BulkSelectionFields(PanelForm):
    """What is selected: the ticked ids, or all customers matching the list's search and status."""

    # Hidden: the bulk page carries the selection it was opened with (form.hidden_tag() writes them).
    ids = IdsField("Customers", widget=HiddenInput())
    all_matching = HiddenField("All matching")
    q = HiddenField("Search", validators=[Length(max=200)])
    status_filter = HiddenField("Status filter")

    def validate_status_filter(self, field):
        if (field.data or "") not in STATUSES:
            field.data = ""

    def selection_parts(self) -> dict:
        return {"ids": tuple(self.ids.data or ()),
                "all_matching": str(self.all_matching.data or "") in ("1", "y", "on", "True"),
                "q": " ".join((self.q.data or "").split()), "status": self.status_filter.data or ""}


class BulkEditForm(BulkSelectionFields, AuditedForm):
    """Bulk Edit: each field "leave as is" unless given, validated by the customer form's own rules."""

    status = _leave_as_is(CustomerForm.status)
    channel_limit = _leave_as_is(CustomerForm.channel_limit)
    flow_speed = _leave_as_is(CustomerForm.flow_speed)
    # Typed with up to the most decimals of any currency; each customer's own currency is checked per customer.
    debit_limit = _leave_as_is(CustomerForm.debit_limit, optional=True, decimals=max(MINOR_UNITS.values()),
                               default="")
    invoice_schedule = _leave_as_is(CustomerForm.invoice_schedule)
    portal_access = SelectField("Portal Access", choices=[SelectChoice("", LEAVE),
                                                          SelectChoice("set", "Set to the sections ticked below")],
                                default="")
    portal_sections = SelectMultipleField("Sections the contacts see", choices=[SelectChoice(k) for k in PORTAL_SECTIONS],
                                          widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    def values(self) -> dict:
        values = {name: getattr(self, name).data for name in ("status", "invoice_schedule") if getattr(self, name).data}
        for name in ("channel_limit", "flow_speed", "debit_limit"):
            if getattr(self, name).data is not None:
                values[name] = getattr(self, name).data
        if self.portal_access.data == "set":
            values["portal_sections"] = list(self.portal_sections.data or ())
        return values


class BulkMailForm(BulkSelectionFields, AuditedForm):
    """Bulk mail: plain text to the contacts of the chosen types, or an outage notice (its recipients are the
    outage-notice kind's: support and Technical contacts); {customer} is the customer's name."""

    kind = SelectField("Kind", choices=[SelectChoice("mail", "Mail to the contacts of the types chosen below"),
                                        SelectChoice("outage", "Outage notice (to support and Technical contacts)")],
                       default="mail",
                       description="An outage notice goes to each customer's Maintainer, Onsite Admin, Other and "
                                   "Technical contacts (its e-mail when it has none), with the times below.")
    # The contact types are the contacts area's (choices set by the route: areas do not import each other both ways).
    contact_types = SelectMultipleField("Send to the contacts of these types", choices=[],
                                        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                        description="Mail only. A customer with no contact of these types gets it at "
                                                    "the customer's e-mail.")
    subject = StringField("Subject", validators=[DataRequired(message="Enter a subject."), Length(max=200)])
    body = TextAreaField("Message (plain text)", validators=[DataRequired(message="Enter the message."), Length(max=20_000)],
                         description="{customer} is replaced by each customer's name; nothing else is.")
    outage_start = UTCDateTimeField("Outage starts (UTC)", format=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"],
                                    description="Outage notice only; optional.")
    outage_end = UTCDateTimeField("Outage ends (UTC)", format=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"],
                                  description="Outage notice only; optional (“not known yet” when empty).")

    def __init__(self, *args, contact_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.contact_types.choices = [SelectChoice(t) for t in contact_types]

    @property
    def outage(self) -> bool:
        return self.kind.data == "outage"

    def validate_contact_types(self, field):
        if not field.data and not self.outage:
            raise ValidationError("Choose at least one contact type.")

    def validate_subject(self, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError("Enter a subject.")

    def validate_outage_end(self, field):
        start = self.outage_start.data
        if self.outage and start and field.data and field.data <= start:
            raise ValidationError("The end is after the start.")

    def values(self) -> dict:
        values = {"subject": self.subject.data, "body": self.body.data, "contact_types": list(self.contact_types.data)}
        if self.outage:
            values |= {"notice": "outage", "contact_types": [],
                       "starts_at": self.outage_start.data.isoformat() if self.outage_start.data else None,
                       "ends_at": self.outage_end.data.isoformat() if self.outage_end.data else None}
        return values


class TrunkAddressForm(AuditedForm):
    """Main tab → Trunk addresses: one address or CIDR range the customer's switch calls from."""

    network = StringField("Address or range", validators=[Length(max=60)],
                          description="An IPv4 or IPv6 address (203.0.113.7) or CIDR range (203.0.113.0/24).")
    label = StringField("Label", validators=[Length(max=100)], description="Optional, such as “SBC Frankfurt”.")

    def validate_network(self, field):
        try:
            parse_network(field.data)
        except TrunkRefused as error:
            raise ValidationError(str(error)) from None
