"""Issue reports: a contact reports an issue in the portal; the report is kept on the customer's
record and its e-mails to the customer's support and technical contacts (panel/contacts/recipients.py,
"issue_report") are queued in the same unit of work, and delivered once it commits. (A reseller's
Admin contact may report for a sub-account: the report is the sub-account's, mailed to its contacts.)

A customer without such contacts gets the mail at its own e-mail address; without that either, its report
is still kept (staff see it on the customer's page), and the contact is told that nobody was e-mailed:
refusing would lose what they wrote.
"""
import logging

import sqlalchemy as sa

from panel import access, unit_of_work
from panel.actor import Actor
from panel.contacts.models import Contact
from panel.contacts.recipients import Recipient, recipients
from panel.customers.hierarchy import in_subtree
from panel.customers.models import Customer
from panel.deployments.models import Deployment
from panel.extensions import db
from panel.mail.outbox import deliver, queue_mail
from panel.support.models import IssueReport

log = logging.getLogger(__name__)

SUBJECT_LENGTH = 200
DESCRIPTION_LENGTH = 5000
MAIL_SUBJECT_PREFIX = "Issue report: "


def file_report(actor: Actor, customer: Customer, reporter: Contact | None, subject: str, description: str,
                deployment: Deployment | None = None, *, by_staff: bool = False):
    """Keep the report and queue one e-mail to each recipient of issue reports, tried once the caller's unit of work
    commits (the worker retries the rest). `by_staff`: filed by the provider's staff in Portal Login as
    `reporter`. Returns the report and the queued messages."""
    access.require(actor, customer)
    subject = " ".join((subject or "").split())
    description = (description or "").strip()
    if not subject or len(subject) > SUBJECT_LENGTH:
        raise ValueError(f"a subject is 1 to {SUBJECT_LENGTH} characters on one line")
    if not description or len(description) > DESCRIPTION_LENGTH:
        raise ValueError(f"a description is 1 to {DESCRIPTION_LENGTH} characters")
    if deployment is not None and deployment.customer_id != customer.id:
        raise ValueError("the deployment belongs to another customer")
    if reporter is not None and not in_subtree(reporter.customer_id, customer.id):
        raise ValueError("the reporter is a contact of neither the customer nor one of its resellers")
    sent_to = recipients(customer, "issue_report")
    report = IssueReport(customer_id=customer.id, contact_id=reporter.id if reporter else None,
                         deployment_id=deployment.id if deployment else None, subject=subject,
                         description=description, sent_to=", ".join(r.email for r in sent_to))
    db.session.add(report)
    db.session.flush()  # the report's number goes into the e-mails
    mail_subject = f"{MAIL_SUBJECT_PREFIX}{subject}"[:SUBJECT_LENGTH]
    messages = [queue_mail(c.email, mail_subject, _body(report, customer, reporter, deployment, c, by_staff))
                for c in sent_to]
    unit_of_work.after_commit(lambda: deliver_now(messages))
    return report, messages


def _body(report: IssueReport, customer: Customer, reporter: Contact | None, deployment: Deployment | None,
          recipient: Recipient, by_staff: bool) -> str:
    who = f"{reporter.name} <{reporter.email}>" if reporter else "A contact"
    if by_staff:
        who += " (filed by your provider's staff on their behalf)"
    lines = [f"Hello {recipient.name},", "",
             f"{who} reported an issue for {customer.name} (customer #{customer.id}) in the customer portal.", "",
             f"Report:     #{report.id}",
             f"Subject:    {report.subject}"]
    if deployment is not None:
        lines.append(f"Deployment: {deployment.deployment_number} ({deployment.product}, {deployment.name})")
    lines += ["", report.description, "", "--",
              recipient.why(customer.name)]
    return "\n".join(lines) + "\n"


def reports_of(actor: Actor, customer_id: int, limit: int = 50) -> list[IssueReport]:
    """The customer's reports, newest first."""
    access.fetch_customer(actor, customer_id)
    return list(db.session.scalars(
        sa.select(IssueReport).where(IssueReport.customer_id == customer_id)
        .order_by(IssueReport.id.desc()).limit(limit)))


def names_for(reports: list[IssueReport]) -> tuple[dict[int, str], dict[int, str]]:
    """{contact id: name} of the reporters and {deployment id: Deployment ID} of the reports' deployments."""
    reporters = dict(db.session.execute(sa.select(Contact.id, Contact.name).where(
        Contact.id.in_({r.contact_id for r in reports if r.contact_id}))).all())
    deployments = dict(db.session.execute(sa.select(Deployment.id, Deployment.deployment_number).where(
        Deployment.id.in_({r.deployment_id for r in reports if r.deployment_id}))).all())
    return reporters, deployments


def deliver_now(messages) -> int:
    """Try the queued e-mails at once, after the commit; the worker retries whatever is left. Returns
    how many went out."""
    if not messages:
        return 0
    try:
        return deliver([m.id for m in messages]).sent
    except Exception:  # committed already: the worker delivers what is still queued
        log.exception("immediate delivery of issue report mails failed")
        return 0
