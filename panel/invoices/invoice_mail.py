"""The e-mail of a new invoice: the content of its printable page as text, with a link to that page in
the customer portal, to the customer's recipients of invoices (panel/contacts/recipients.py: its Billing
contacts, else the customer's e-mail). Queued in the transaction that makes the invoice and delivered
once it commits (panel/mail/outbox.py, which audits each sent message as SEND)."""
from flask import url_for
from werkzeug.routing import BuildError

from panel import money
from panel.contacts.recipients import Recipient
from panel.customers.models import Customer
from panel.invoices.mail_to_recipients import queue_to_recipients
from panel.invoices.models import Invoice
from panel.mail.models import MailMessage


def portal_link(invoice: Invoice) -> str | None:
    """The invoice's printable page in the portal, as an absolute URL; None where no URL can be built (a
    worker without SERVER_NAME): the mail carries the whole invoice anyway."""
    try:
        return url_for("portal.invoice", number=invoice.number, _external=True)
    except (RuntimeError, BuildError):
        return None


def invoice_text(invoice: Invoice, customer: Customer, paid=0) -> str:
    """The printable page's content (templates/invoices/_macros.html invoice_document) as plain text."""
    cur = invoice.currency
    lines = [f"Invoice {invoice.number}", customer.name, "",
             f"Period (UTC): {invoice.period_label}",
             f"Time frame:   {invoice.time_frame.capitalize()}",
             f"Issued:       {invoice.created_at:%Y-%m-%d %H:%M} UTC" if invoice.created_at else "Issued:       now",
             f"Currency:     {cur}", "",
             f"{'Description':<28}{'Calls':>10}{'Connected':>11}{'Minutes':>12}{'Charge':>14}"]
    for line in invoice.lines:
        lines.append(f"{line.description:<28}{line.calls:>10,}{line.answered:>11,}{line.minutes:>12,.2f}"
                     f"{money.show(line.charge, cur):>14}")
    lines += ["",
              f"Total: {money.show(invoice.total, cur)} {cur}",
              f"Paid:  {money.show(paid, cur)} {cur}",
              f"Due:   {money.show(invoice.total - paid, cur)} {cur}"]
    return "\n".join(lines)


def _body(invoice: Invoice, customer: Customer, recipient: Recipient) -> str:
    link = portal_link(invoice)
    parts = [f"Hello {recipient.name},", "", f"invoice {invoice.number} for {customer.name} is issued.", "",
             invoice_text(invoice, customer), ""]
    if link:
        parts += [f"See and print it in the customer portal: {link}", ""]
    parts += ["--", recipient.why(customer.name)]
    return "\n".join(parts) + "\n"


def queue_invoice_mail(invoice: Invoice, customer: Customer) -> list[MailMessage]:
    """One message per recipient of invoices, sent after the commit. Nobody to send to: nothing queued."""
    return queue_to_recipients(customer, "invoice", f"Invoice {invoice.number} for {customer.name}",
                               lambda r: _body(invoice, customer, r), f"invoice {invoice.number}")
