"""The New customer flow's rules: its steps, what each step needs, and the one transaction that
turns a complete draft into a customer with its contacts.

A draft is a scratchpad: Back and Save and Back keep whatever was typed (tidied), only Next checks
a step, and creation checks every step again, so nothing a draft holds is trusted. Values are
plain dicts (no request in here): the routes read the form with `read_step`, tests call the rest.
"""
import json
import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from panel import actor as actors
from panel.contacts.models import Contact
from panel.contacts.records import create_contact, email_taken
from panel.customers.hierarchy import HierarchyError, check_reseller, in_subtree
from panel.customers.models import BUSINESS_TYPES, CURRENCIES, Customer
from panel.extensions import db
from panel.forms import CONTROL, EMAIL
from panel.onboarding.models import OnboardingDraft

STEPS = {1: "Customer information", 2: "Admin contacts", 3: "Support contacts"}
LAST_STEP = 3
SUPPORT_TYPES = ("Maintainer", "Onsite Admin", "Other")
REQUIRED_SUPPORT = ("Maintainer", "Onsite Admin")
# A sub-account starts like any customer the carrier has not yet set up: no traffic until staff approve it.
NEW_STATUS = "Pending Approval"
MAX_ROWS = 50  # contacts of one kind in one draft
MAX_DRAFTS = 20  # drafts one person may keep at a time
DEFAULT_CURRENCY = "USD"

CUSTOMER_FIELDS = {  # name: (most characters, required)
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
KIND_OF_STEP = {2: "admins", 3: "support"}
REQUIRED_MESSAGES = {
    "name": "Enter the customer's name.",
    "address_line1": "Enter the first line of the mailing address.",
    "city": "Enter the city.",
    "postal_code": "Enter the postal code.",
    "country": "Enter the two-letter country code, such as US or GB.",
    "business_type": "Choose the business type closest to the customer's.",
}
CONTROL_MESSAGE = "Remove the control characters from this field."
_ROW_KEY = re.compile(r"^(admin|support)-(\d{1,4})-(name|email|type)$")


class OnboardingRefused(Exception):
    """The draft cannot become a customer for a reason no field can fix (the message says why)."""


class DraftGone(OnboardingRefused):
    """The draft was used or discarded meanwhile (a second press of Create customer, another tab)."""


@dataclass
class Incomplete(Exception):
    """A step of the draft does not pass its checks: `errors` by input name, "form" for the step."""

    step: int
    errors: dict = field(default_factory=dict)


def empty_data() -> dict:
    return {"customer": {}, "admins": [], "support": [], "reached": 1}


def load(draft: OnboardingDraft | None) -> dict:
    """The draft's data in a known shape, whatever the JSON text holds."""
    data = empty_data()
    try:
        stored = json.loads(draft.data or "{}") if draft is not None else {}
    except (TypeError, ValueError):
        stored = {}
    if not isinstance(stored, dict):
        stored = {}
    customer = stored.get("customer")
    if isinstance(customer, dict):
        data["customer"] = {k: str(v) for k, v in customer.items() if k in (*CUSTOMER_FIELDS, "currency")}
    for kind, names in ROW_FIELDS.items():
        rows = stored.get(kind)
        if isinstance(rows, list):
            data[kind] = [{n: str(row.get(n, "")) for n in names} for row in rows[:MAX_ROWS] if isinstance(row, dict)]
    reached = stored.get("reached")
    data["reached"] = reached if isinstance(reached, int) and 1 <= reached <= LAST_STEP else 1
    return data


def dump(draft: OnboardingDraft, data: dict) -> None:
    draft.data = json.dumps(data, ensure_ascii=False, sort_keys=True)


# Reading a step's form ---------------------------------------------------------------------------

def read_step(step: int, form, *, with_currency: bool = False) -> dict | list:
    """The values a step's form carries: the customer fields (step 1) or the rows (steps 2 and 3).
    Only known names are read, so anything else posted (reseller_id, debit_limit...) is ignored;
    the currency only where it is chosen (staff: a sub-account takes its reseller's)."""
    if step == 1:
        values = {name: _text(form.get(name)) for name in CUSTOMER_FIELDS}
        if with_currency:
            values["currency"] = _text(form.get("currency"))
        values["country"] = values["country"].upper()
        return values
    kind = KIND_OF_STEP[step]
    rows: dict[int, dict] = {}
    for key in form:
        match = _ROW_KEY.match(key)
        if match and match.group(1) == ROW_PREFIX[kind] and match.group(3) in ROW_FIELDS[kind]:
            rows.setdefault(int(match.group(2)), {})[match.group(3)] = _text(form.get(key))
    ordered = [rows[i] for i in sorted(rows)][:MAX_ROWS]
    return [{name: row.get(name, "") for name in ROW_FIELDS[kind]} for row in ordered]


def _text(value) -> str:
    return " ".join(str(value or "").split()) if value is not None else ""


def tidy(step: int, values):
    """What a draft keeps of values that were not checked: no control characters, nothing over-long."""
    def clean(text: str, limit: int) -> str:
        return CONTROL.sub("", text)[:limit]

    if step == 1:
        kept = {name: clean(values.get(name, ""), limit) for name, (limit, _) in CUSTOMER_FIELDS.items()}
        if "currency" in values:
            kept["currency"] = clean(values["currency"], 3)
        return kept
    return [{name: clean(row.get(name, ""), ROW_LIMITS[name]) for name in row} for row in values]


def is_blank(row: dict) -> bool:
    """A row with neither name nor e-mail (its type alone does not count): left out, never an error."""
    return not row.get("name") and not row.get("email")


def store(data: dict, step: int, values) -> None:
    if step == 1:
        data["customer"] = values
    else:
        data[KIND_OF_STEP[step]] = values


def values_of(data: dict, step: int):
    return data["customer"] if step == 1 else data[KIND_OF_STEP[step]]


# Checking a step ---------------------------------------------------------------------------------

def check_step(step: int, values, data: dict, *, with_currency: bool) -> dict:
    """Errors of one step (empty: the step is complete). `data` is the rest of the draft, for the
    e-mails of the other step's contacts."""
    if step == 1:
        return check_customer(values, with_currency=with_currency)
    kind = KIND_OF_STEP[step]
    other = "support" if kind == "admins" else "admins"
    errors = check_rows(kind, values, [row.get("email", "") for row in data[other] if not is_blank(row)])
    if kind == "support" and not errors:
        missing = missing_support_types(values)
        if missing:
            errors["form"] = [missing]
    return errors


def check_customer(values: dict, *, with_currency: bool) -> dict:
    errors = {}
    for name, (limit, required) in CUSTOMER_FIELDS.items():
        text = values.get(name, "")
        if CONTROL.search(text):
            errors[name] = [CONTROL_MESSAGE]
        elif required and not text:
            errors[name] = [REQUIRED_MESSAGES[name]]
        elif len(text) > limit and name != "country":
            errors[name] = [f"Use at most {limit} characters."]
    if "country" not in errors and not re.fullmatch(r"[A-Z]{2}", values.get("country", "")):
        errors["country"] = ["Use the two-letter country code, such as US or GB."]
    if "business_type" not in errors and values.get("business_type") not in BUSINESS_TYPES:
        errors["business_type"] = ["Choose a business type from the list."]
    if with_currency and values.get("currency") not in CURRENCIES:
        errors["currency"] = ["Choose a currency from the list."]
    return errors


def check_rows(kind: str, rows: list[dict], other_emails: list[str]) -> dict:
    """Name and e-mail of every row that is not blank; e-mails unique in the draft and not anyone's login."""
    prefix, errors, seen = ROW_PREFIX[kind], {}, set()
    others = {e.lower() for e in other_emails if e}
    other_label = "a support contact" if kind == "admins" else "an admin contact"
    for i, row in enumerate(rows):
        if is_blank(row):
            continue
        for name in ROW_FIELDS[kind]:
            if CONTROL.search(row.get(name, "")):
                errors[f"{prefix}-{i}-{name}"] = [CONTROL_MESSAGE]
        name, email = row.get("name", ""), row.get("email", "")
        if f"{prefix}-{i}-name" not in errors:
            if not name:
                errors[f"{prefix}-{i}-name"] = ["Enter the contact's name."]
            elif len(name) > ROW_LIMITS["name"]:
                errors[f"{prefix}-{i}-name"] = [f"Use at most {ROW_LIMITS['name']} characters."]
        key = f"{prefix}-{i}-email"
        if key not in errors:
            if not email:
                errors[key] = ["Enter the contact's e-mail address."]
            elif len(email) > ROW_LIMITS["email"] or not EMAIL.match(email):
                errors[key] = ["Enter an e-mail address such as name@example.com."]
            elif email.lower() in others:
                errors[key] = [f"This e-mail is already used for {other_label} in this draft."]
            elif email.lower() in seen:
                errors[key] = ["This e-mail is already used for another contact in this draft."]
            elif email_taken(email):
                errors[key] = ["This e-mail is already the portal login of another contact."]
        seen.add(email.lower())
        if kind == "support" and f"{prefix}-{i}-type" not in errors and row.get("type") not in SUPPORT_TYPES:
            errors[f"{prefix}-{i}-type"] = ["Choose Maintainer, Onsite Admin or Other."]
    return errors


def missing_support_types(rows: list[dict]) -> str | None:
    """The support-contact rule: at least one Maintainer and one Onsite Admin. Says which is missing."""
    present = {row.get("type") for row in rows if not is_blank(row)}
    missing = [t for t in REQUIRED_SUPPORT if t not in present]
    if len(missing) == 2:
        return "Add a Maintainer and an Onsite Admin support contact."
    if missing == ["Maintainer"]:
        return "Add a Maintainer support contact."
    if missing == ["Onsite Admin"]:
        return "Add an Onsite Admin support contact."
    return None


def first_incomplete(data: dict, *, with_currency: bool) -> Incomplete | None:
    for step in STEPS:
        # Blank rows stay in the list, so that errors name the rows as the stored draft numbers them.
        errors = check_step(step, values_of(data, step), data, with_currency=with_currency)
        if errors:
            return Incomplete(step, errors)
    return None


# Drafts ------------------------------------------------------------------------------------------

def owner_filter(staff_user_id: int | None = None, contact_id: int | None = None):
    if (staff_user_id is None) == (contact_id is None):
        raise ValueError("a draft has exactly one owner")
    if staff_user_id is not None:
        return OnboardingDraft.staff_user_id == staff_user_id
    return OnboardingDraft.contact_id == contact_id


def drafts_of(**owner) -> list[OnboardingDraft]:
    statement = sa.select(OnboardingDraft).where(owner_filter(**owner))
    return list(db.session.scalars(statement.order_by(OnboardingDraft.updated_at.desc(), OnboardingDraft.id.desc())))


def draft_of(draft_id: int, *, lock: bool = False, **owner) -> OnboardingDraft | None:
    """The draft, if it belongs to this owner (anyone else's is simply not found). `lock`: held until
    the transaction ends, so two requests on one draft take turns (SQLite's BEGIN IMMEDIATE does the same)."""
    statement = sa.select(OnboardingDraft).where(OnboardingDraft.id == draft_id, owner_filter(**owner))
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(statement)


def too_many_drafts(**owner) -> bool:
    count = db.session.scalar(sa.select(sa.func.count()).select_from(OnboardingDraft).where(owner_filter(**owner)))
    return count >= MAX_DRAFTS


def start_draft(data: dict, step: int, *, staff_user_id: int | None = None, contact_id: int | None = None,
                reseller_id: int | None = None) -> OnboardingDraft:
    """A new draft (not committed); a portal admin's carries the customer the sub-account will belong to."""
    owner_filter(staff_user_id=staff_user_id, contact_id=contact_id)
    draft = OnboardingDraft(staff_user_id=staff_user_id, contact_id=contact_id, reseller_id=reseller_id, step=step)
    dump(draft, data)
    db.session.add(draft)
    return draft


def discard(draft: OnboardingDraft) -> None:
    db.session.delete(draft)
    db.session.commit()


def display_name(draft: OnboardingDraft) -> str:
    return load(draft)["customer"].get("name") or "(no name yet)"


# Creating the customer ---------------------------------------------------------------------------

def create_customer_from_draft(draft: OnboardingDraft):
    """The customer, its admin and support contacts and their welcome e-mails, and the draft gone:
    one commit, or nothing at all. Raises Incomplete (the first step that does not pass) or
    OnboardingRefused. Returns the customer and the queued messages (deliver them after this)."""
    # Locked and read afresh: of two presses of Create customer, the second finds the draft gone.
    current = db.session.scalar(sa.select(OnboardingDraft).where(OnboardingDraft.id == draft.id).with_for_update()
                                .execution_options(populate_existing=True))
    if current is None:
        db.session.rollback()
        raise DraftGone("This draft was used or discarded meanwhile: nothing more was created.")
    draft = current
    with_currency = draft.contact_id is None
    reseller = _reseller_for(draft)
    data = load(draft)
    problem = first_incomplete(data, with_currency=with_currency)
    if problem is not None:
        raise problem
    values = {name: data["customer"][name] for name in CUSTOMER_FIELDS}
    currency = data["customer"]["currency"] if with_currency else reseller.currency
    try:
        customer = Customer(**values, currency=currency, status=NEW_STATUS,
                            reseller_id=reseller.id if reseller is not None else None)
        db.session.add(customer)
        db.session.flush()
        messages = []
        for contact_type, row in _contacts(data):
            _, message = create_contact(actors.current(), customer.id, {"name": row["name"], "email": row["email"],
                                                                        "contact_type": contact_type})
            messages.append(message)
        db.session.delete(draft)
        db.session.commit()
    except IntegrityError:
        # Most likely an e-mail taken by someone else since the check: say which, on its step.
        db.session.rollback()
        problem = first_incomplete(load(draft), with_currency=with_currency)
        if problem is not None:
            raise problem from None
        raise
    except BaseException:
        db.session.rollback()
        raise
    return customer, [m for m in messages if m is not None]


def _contacts(data: dict):
    for row in data["admins"]:
        if not is_blank(row):
            yield "Admin", row
    for row in data["support"]:
        if not is_blank(row):
            yield row["type"], row


def _reseller_for(draft: OnboardingDraft) -> Customer | None:
    """Staff's customers have no reseller owner; a portal admin's belongs to a customer of their tree,
    and only while the draft's owner is still an active Admin contact."""
    if draft.contact_id is None:
        return None
    contact = db.session.get(Contact, draft.contact_id)
    if contact is None or not contact.active or contact.contact_type != "Admin":
        raise OnboardingRefused("Only an Admin contact can add a sub-account.")
    if draft.reseller_id is None or not in_subtree(contact.customer_id, draft.reseller_id):
        raise OnboardingRefused("This draft belongs to a customer outside your account.")
    try:
        check_reseller(None, draft.reseller_id)
    except HierarchyError as error:
        raise OnboardingRefused(str(error)) from None
    return db.session.get(Customer, draft.reseller_id)
