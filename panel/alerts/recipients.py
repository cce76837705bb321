"""Who receives an alert's mail. One function, so that the mail-recipients module (panel/contacts/recipients.py,
"who receives mail of kind K for customer C") can take its place at merge; until then contacts are selected by
type here."""
import sqlalchemy as sa

from panel import emails
from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel.extensions import db


def alert_recipients(customer: Customer, contact_types: list[str], extra: list[str]) -> list[str]:
    """The active contacts of `customer` of the chosen types, then the extra addresses, each address once.
    Types chosen but no such contact: the customer's own e-mail, so that the notice reaches someone."""
    found = []
    if contact_types:
        found = list(db.session.scalars(
            sa.select(Contact.email).where(Contact.customer_id == customer.id, Contact.active.is_(True),
                                           Contact.contact_type.in_(contact_types), Contact.email != "")
            .order_by(Contact.id)))
        if not found and customer.email:
            found = [customer.email]
    seen, addresses = set(), []
    for address in [*found, *extra]:
        key = emails.key(address)
        if key and key not in seen:
            seen.add(key)
            addresses.append(address)
    return addresses
