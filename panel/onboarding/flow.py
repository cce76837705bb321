"""The New customer flow's rules: its steps, what each step needs, and the one transaction that
turns a complete draft into a customer with its contacts.

A draft is a scratchpad: Back and Save and Back keep whatever was typed (tidied), only Next checks
a step, and creation checks every step again, so nothing a draft holds is trusted. Values are
plain dicts (no request in here): the routes read the form with `read_step`, tests call the rest.
"""
import json
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from panel import actor as actors
from panel.contacts.models import Contact
from panel.contacts.records import create_contact
from panel.customers.hierarchy import HierarchyError, check_reseller, in_subtree
from panel.customers.models import Customer
from panel.extensions import db
from panel.forms import CONTROL
from panel.onboarding import forms
from panel.onboarding.forms import (  # noqa: F401 (the flow's rules, named here as before)
    CONTROL_MESSAGE,
    CUSTOMER_FIELDS,
    MAX_ROWS,
    REQUIRED_SUPPORT,
    ROW_FIELDS,
    ROW_LIMITS,
    ROW_PREFIX,
    SUPPORT_TYPES,
    missing_support_types,
)
from panel.onboarding.models import OnboardingDraft

STEPS = {1: "Customer information", 2: "Admin contacts", 3: "Support contacts"}
LAST_STEP = 3
# A sub-account starts like any customer the carrier has not yet set up: no traffic until staff approve it.
NEW_STATUS = "Pending Approval"
MAX_DRAFTS = 20  # drafts one person may keep at a time
DEFAULT_CURRENCY = "USD"
KIND_OF_STEP = {2: "admins", 3: "support"}


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
    return forms.read(step, form, with_currency=with_currency).values()


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


# Checking a step: the step's WTForms form (panel/onboarding/forms.py) -----------------------------

def check_step(step: int, values, data: dict, *, with_currency: bool) -> dict:
    """Errors of one step by input name (empty: the step is complete). `data` is the rest of the
    draft, for the e-mails of the other step's contacts."""
    if step == 1:
        return check_customer(values, with_currency=with_currency)
    kind = KIND_OF_STEP[step]
    other = "support" if kind == "admins" else "admins"
    return check_rows(kind, values, [row.get("email", "") for row in data[other] if not is_blank(row)])


def check_customer(values: dict, *, with_currency: bool) -> dict:
    return forms.of_values(1, values, with_currency=with_currency).check()


def check_rows(kind: str, rows: list[dict], other_emails: list[str]) -> dict:
    """Name and e-mail of every row that is not blank; e-mails unique in the draft and not anyone's login;
    for support contacts, the support rule once the rows pass."""
    step = next(number for number, name in KIND_OF_STEP.items() if name == kind)
    return forms.of_values(step, rows).check(other_emails)


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
    db.session.flush()


def display_name(draft: OnboardingDraft) -> str:
    return load(draft)["customer"].get("name") or "(no name yet)"


# Creating the customer ---------------------------------------------------------------------------

def create_customer_from_draft(draft: OnboardingDraft):
    """The customer, its admin and support contacts and their welcome e-mails, and the draft gone:
    all of it (flushed, committed by the caller's unit of work), or nothing at all (a savepoint undoes
    a part-made customer). Raises Incomplete (the first step that does not pass) or OnboardingRefused.
    Returns the customer and the queued messages (deliver them after the commit)."""
    # Locked and read afresh: of two presses of Create customer, the second finds the draft gone.
    current = db.session.scalar(sa.select(OnboardingDraft).where(OnboardingDraft.id == draft.id).with_for_update()
                                .execution_options(populate_existing=True))
    if current is None:
        raise DraftGone("This draft was used or discarded meanwhile: nothing more was created.")
    draft = current
    with_currency = draft.contact_id is None
    reseller = _reseller_for(draft)
    data = load(draft)
    problem = first_incomplete(data, with_currency=with_currency)
    if problem is not None:
        raise problem
    # As the checks saw them (a draft's JSON is not trusted to be tidy).
    data = {"customer": forms.of_values(1, data["customer"], with_currency=with_currency).values(),
            **{kind: forms.of_values(step, data[kind]).values() for step, kind in KIND_OF_STEP.items()}}
    values = {name: data["customer"][name] for name in CUSTOMER_FIELDS}
    currency = data["customer"]["currency"] if with_currency else reseller.currency
    try:
        with db.session.begin_nested():  # any failure inside undoes the customer, its contacts and mails
            customer = Customer(**values, currency=currency, status=NEW_STATUS,
                                reseller_id=reseller.id if reseller is not None else None)
            db.session.add(customer)
            db.session.flush()
            messages = []
            for contact_type, row in _contacts(data):
                _, message = create_contact(actors.current(), customer.id, {
                    "name": row["name"], "email": row["email"], "contact_type": contact_type})
                messages.append(message)
            db.session.delete(draft)
    except IntegrityError:
        # Most likely an e-mail taken by someone else since the check: say which, on its step.
        problem = first_incomplete(load(draft), with_currency=with_currency)
        if problem is not None:
            raise problem from None
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
