"""Who receives an alert's mail: the contact types the alert names (else the balance-alert recipients of
panel/contacts/recipients.py: Billing contacts, with the customer's e-mail as fallback), then its extra
addresses, each address once."""
from panel import emails
from panel.contacts.recipients import recipients, recipients_of_types
from panel.customers.models import Customer


def alert_recipients(customer: Customer, contact_types: list[str], extra: list[str]) -> list[str]:
    if contact_types:
        found = [r.email for r in recipients_of_types(customer, contact_types)]
    elif not extra:
        found = [r.email for r in recipients(customer, "balance_alert")]
    else:
        found = []
    seen, addresses = set(), []
    for address in [*found, *extra]:
        key = emails.key(address)
        if key and key not in seen:
            seen.add(key)
            addresses.append(address)
    return addresses
