"""Who receives mail of kind K for customer C: the one answer every mail to a customer asks.

A contact's type is what decides it (shown beside the Contact Type field and in the customer's
"Mail goes to" table):

    invoices, payment receipts, balance alerts     → the customer's Billing contacts
    issue reports, outage notices                   → its support contacts (Maintainer, Onsite Admin,
                                                      Other) and its Technical contacts
    welcome and password mail                       → the contact themselves (recipients_of_own_mail)

Only active contacts receive mail, each address once. A customer with no contact of the types a kind
goes to falls back to the customer's own e-mail (Customer.email); without that either, nobody.
"""
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from panel import access, emails
from panel.actor import Actor
from panel.contacts.models import CONTACT_TYPES, Contact
from panel.customers.models import Customer
from panel.extensions import db

BILLING_TYPES = ("Billing",)
SUPPORT_TYPES = ("Maintainer", "Onsite Admin", "Other")
ISSUE_TYPES = SUPPORT_TYPES + ("Technical",)


@dataclass(frozen=True)
class MailKind:
    key: str
    label: str
    contact_types: tuple[str, ...]


# Mail that goes to a customer by contact type, in the order the "Mail goes to" table lists it.
KINDS = {kind.key: kind for kind in (
    MailKind("invoice", "Invoices", BILLING_TYPES),
    MailKind("payment_receipt", "Payment receipts", BILLING_TYPES),
    MailKind("balance_alert", "Balance alerts", BILLING_TYPES),
    MailKind("issue_report", "Issue reports", ISSUE_TYPES),
    MailKind("outage_notice", "Outage notices", ISSUE_TYPES),
)}
OWN_MAIL = "Welcome and password mail"

# What choosing a type means, shown beside the Contact Type field (staff and portal forms).
TYPE_MEANINGS = {
    "Admin": "Manages the account in the portal (and its sub-accounts); no mail by type.",
    "Billing": "Receives invoices, payment receipts and balance alerts.",
    "Technical": "Receives issue reports and outage notices.",
    "Maintainer": "Support contact: receives issue reports and outage notices.",
    "Onsite Admin": "Support contact: receives issue reports and outage notices.",
    "Other": "Support contact: receives issue reports and outage notices.",
}
assert set(TYPE_MEANINGS) == set(CONTACT_TYPES)


def type_help() -> str:
    """One line for the Contact Type field: what each type receives."""
    return ("Billing: invoices, payment receipts, balance alerts. Technical, Maintainer, Onsite Admin, Other: "
            "issue reports, outage notices. Admin: manages the account in the portal, no mail by type. "
            f"{OWN_MAIL} always goes to the contact themselves.")


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    contact_id: int | None  # None: the customer's own e-mail (the fallback)
    contact_type: str | None

    @property
    def fallback(self) -> bool:
        return self.contact_id is None

    def why(self, customer_name: str) -> str:
        """The closing line of a mail: why this address receives it."""
        if self.fallback:
            return f"You receive this at the e-mail address of {customer_name}, which has no contact for this kind of mail."
        return f"You receive this as a {self.contact_type} contact of {customer_name}."


def _kind(kind: str) -> MailKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"no mail kind {kind!r}; one of {', '.join(KINDS)}") from None


def _contacts_by_customer(customer_ids, types) -> dict[int, list[Contact]]:
    rows = db.session.scalars(
        sa.select(Contact).where(Contact.customer_id.in_(customer_ids), Contact.active.is_(True),
                                 Contact.contact_type.in_(types))
        .order_by(Contact.customer_id, Contact.name, Contact.id))
    found: dict[int, list[Contact]] = defaultdict(list)
    for contact in rows:
        found[contact.customer_id].append(contact)
    return found


def _once(recipients: list[Recipient]) -> list[Recipient]:
    seen, kept = set(), []
    for recipient in recipients:
        key = emails.lookup_key(recipient.email) or recipient.email.lower()
        if key not in seen:
            seen.add(key)
            kept.append(recipient)
    return kept


def _resolve(customer: Customer, contacts: list[Contact]) -> list[Recipient]:
    if contacts:
        return _once([Recipient(c.name, c.email, c.id, c.contact_type) for c in contacts if c.email])
    if (customer.email or "").strip():
        return [Recipient(customer.name, customer.email.strip(), None, None)]
    return []


def recipients(customer: Customer, kind: str) -> list[Recipient]:
    """Who receives mail of `kind` (a KINDS key) for `customer`: its active contacts of the kind's types,
    else the customer's e-mail, else nobody."""
    spec = _kind(kind)
    return _resolve(customer, _contacts_by_customer([customer.id], spec.contact_types).get(customer.id, []))


def recipients_of_types(customer: Customer, contact_types) -> list[Recipient]:
    """Mail to chosen contact types (a balance alert's own choice): its active contacts of those types, else
    the customer's e-mail, else nobody."""
    return _resolve(customer, _contacts_by_customer([customer.id], tuple(contact_types)).get(customer.id, []))


def recipients_by_types(customers: list[Customer], types) -> dict[int, list[Recipient]]:
    """Bulk mail: for each of `customers` (one read of their contacts), its active contacts of the chosen
    contact `types`, each address once, else the customer's e-mail (the same fallback as every kind)."""
    unknown = set(types) - set(CONTACT_TYPES)
    if unknown or not types:
        raise ValueError(f"contact types are some of {', '.join(CONTACT_TYPES)}")
    found = _contacts_by_customer([c.id for c in customers], tuple(types))
    return {customer.id: _resolve(customer, found.get(customer.id, [])) for customer in customers}


def recipients_by_kind(customers: list[Customer], kind: str) -> dict[int, list[Recipient]]:
    """recipients(customer, kind) for many customers at once (a bulk outage notice): one read of their contacts."""
    return recipients_by_types(customers, _kind(kind).contact_types)


def recipients_of_own_mail(contact: Contact) -> list[Recipient]:
    """Welcome and password mail: the contact themselves, whatever their type."""
    return [Recipient(contact.name, contact.email, contact.id, contact.contact_type)]


@dataclass(frozen=True)
class MailRoute:
    """A row of the customer's "Mail goes to" table."""
    label: str
    contact_types: tuple[str, ...]
    recipients: list[Recipient]


def mail_plan(actor: Actor, customer: Customer) -> list[MailRoute]:
    """Who receives each kind of mail for `customer` (one read of its contacts); kinds that go to the same
    contact types share a row."""
    access.require(actor, customer)
    types = sorted({t for kind in KINDS.values() for t in kind.contact_types})
    contacts = _contacts_by_customer([customer.id], types).get(customer.id, [])
    grouped: dict[tuple[str, ...], list[str]] = {}
    for kind in KINDS.values():
        grouped.setdefault(kind.contact_types, []).append(kind.label)
    routes = []
    for contact_types, labels in grouped.items():
        chosen = [c for c in contacts if c.contact_type in contact_types]
        label = ", ".join([labels[0]] + [label.lower() for label in labels[1:]])
        routes.append(MailRoute(label, contact_types, _resolve(customer, chosen)))
    return routes
