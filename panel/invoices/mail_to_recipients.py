"""Mail of one kind to a customer's recipients of that kind (panel/contacts/recipients.py), one message each,
delivered after the commit: what invoice mail and payment receipts share."""
import logging
from collections.abc import Callable

from panel.contacts.recipients import Recipient, recipients
from panel.customers.models import Customer
from panel.mail import outbox
from panel.mail.models import MailMessage

log = logging.getLogger(__name__)


def queue_to_recipients(customer: Customer, kind: str, subject: str, body: Callable[[Recipient], str],
                        what: str) -> list[MailMessage]:
    """One message per recipient of `kind`, sent after the commit; `what` names the mail in the log. A customer
    e-mail that is no address is skipped (the change it tells of stands); nobody to send to: none queued."""
    messages = []
    for recipient in recipients(customer, kind):
        try:
            message = outbox.queue_mail(recipient.email, subject[:200], body(recipient))
        except ValueError:
            log.warning("%s: %r is not an address; not mailed there", what, recipient.email)
            continue
        outbox.deliver_after_commit(message)
        messages.append(message)
    if not messages:
        log.info("%s: customer %s has no recipient and no e-mail; not mailed", what, customer.id)
    return messages
