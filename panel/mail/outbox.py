"""The outbox: mail is queued in the transaction of the change that causes it, then delivered.

    message = queue_mail(contact.email, "Your new password", text, sensitive=True)
    deliver_after_commit(message)  # the change and its message commit together, then it is sent
    ...
    if delivered(message): ...     # a route that must say whether it went: ends the unit of work first

deliver() takes one message at a time in its own unit of work: it claims the row (FOR UPDATE SKIP
LOCKED on PostgreSQL; SQLite runs one write transaction at a time), sends it, marks it sent and
commits. So two workers, or a worker and a request, never send the same message twice. Delivery is
SMTP to MAIL_SERVER:MAIL_PORT when MAIL_SERVER is set, else a .eml file in <instance>/outbox/. A
failed attempt is retried with backoff; after MAX_ATTEMPTS it is "failed". A sensitive body (a
temporary password) is erased once the message is sent or has failed for good. Bodies are never
logged, nor kept in last_error.

Marking a sensitive message sent (or failed for good) calls the hooks registered with
on_sensitive_sent / on_sensitive_abandoned, in the same transaction: contacts registers the ones
that make a reset's pending password the contact's (or drop it), so the outbox knows nothing of
contacts. withdraw() takes a queued message out of the queue, for a reset superseded by another
before its e-mail went out.
"""
import logging
import os
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from panel import unit_of_work
from panel.extensions import db
from panel.mail.models import MailMessage
from panel.types import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20
MAX_BACKOFF = timedelta(minutes=60)
SMTP_TIMEOUT = 10  # seconds; below SQLite's busy timeout, as the claim is held while sending
ERROR_LENGTH = 300

# (message id) -> None, run in the transaction that marks a sensitive message sent / failed for good.
SENT_HOOKS: list[Callable[[int], None]] = []
ABANDONED_HOOKS: list[Callable[[int], None]] = []
_QUEUED_FOR_DELIVERY = "outbox_deliver_after_commit"


def on_sensitive_sent(hook: Callable[[int], None]) -> None:
    if hook not in SENT_HOOKS:
        SENT_HOOKS.append(hook)


def on_sensitive_abandoned(hook: Callable[[int], None]) -> None:
    if hook not in ABANDONED_HOOKS:
        ABANDONED_HOOKS.append(hook)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def queue_mail(to_addr: str, subject: str, body: str, sensitive: bool = False) -> MailMessage:
    """Add a message to the queue in the caller's transaction (no commit: it goes with the change)."""
    to_addr = to_addr.strip()
    if not to_addr or len(to_addr) > 254 or "@" not in to_addr or _has_line_break(to_addr):
        raise ValueError(f"{to_addr!r} is not an e-mail address")
    if len(subject) > 200 or _has_line_break(subject):
        raise ValueError("a subject is one line of at most 200 characters")
    if not isinstance(body, str):
        raise TypeError("the body is text")
    message = MailMessage(to_addr=to_addr, subject=subject, body=body, sensitive=bool(sensitive),
                          status="queued", attempts=0, next_attempt_at=utcnow())
    db.session.add(message)
    return message


def deliver(message_ids: list[int] | None = None, limit: int = 50) -> DeliveryReport:
    """Deliver up to `limit` due queued messages (only those in `message_ids` if given), each in its own
    unit of work. Call it once the change that queued them has committed (deliver_after_commit does)."""
    report = DeliveryReport()
    if message_ids is not None and not message_ids:
        return report
    _refuse_uncommitted_changes()
    for _ in range(limit):
        with unit_of_work.unit():  # also ends the claim's transaction (and releases SQLite's write lock)
            message = _claim(message_ids)
            if message is None:
                break
            # Read before the commit: reading after it would reload the row in a new transaction.
            number, to_addr = message.id, message.to_addr
            try:
                _send(message)
            except Exception as error:  # noqa: BLE001 - any failure to send is retried later
                _record_failure(message, error)
                attempts, reason = message.attempts, message.last_error
                report.failed += 1
                report.errors.append(f"mail {number}: {reason}")
                failed = True
            else:
                _record_sent(message)
                report.sent += 1
                failed = False
        if failed:
            log.warning("mail %s to %s: attempt %s failed: %s", number, to_addr, attempts, reason)
        else:
            log.info("mail %s to %s sent", number, to_addr)
    return report


def deliver_after_commit(message: MailMessage) -> None:
    """Send `message` as soon as the unit of work that queued it has committed (never if it rolls back).
    If that attempt fails, the message waits in the queue and the worker retries it."""
    state = sa.inspect(message)
    if state.info.get(_QUEUED_FOR_DELIVERY):
        return  # once per message, however many times it is asked for
    state.info[_QUEUED_FOR_DELIVERY] = True

    def send() -> None:
        state.info.pop(_QUEUED_FOR_DELIVERY, None)
        number = sa.inspect(message).identity[0]
        try:
            deliver([number])
        except Exception:  # the change is committed; the worker delivers the queued message
            log.exception("immediate delivery of mail %s failed", number)

    unit_of_work.after_commit(send)


def delivered(message: MailMessage) -> bool:
    """End the unit of work (the change and its message commit, then the message is sent) and say whether it
    went: for a route that must tell the user "sent" or "will be sent when the mail server answers"."""
    deliver_after_commit(message)
    unit_of_work.complete()
    return message.status == "sent"


def withdraw(message_id: int, reason: str) -> bool:
    """Take a queued message out of the queue in the caller's transaction, so it is never sent (its status
    becomes "failed", with `reason`). False if it is gone already, or being sent at this very moment: it is
    not waited for (SKIP LOCKED), so a caller holding other locks cannot deadlock with a delivery."""
    message = db.session.scalars(
        sa.select(MailMessage)
        .where(MailMessage.id == message_id, MailMessage.status == "queued")
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    if message is None:
        return False
    message.status = "failed"
    message.last_error = reason[:ERROR_LENGTH]
    if message.sensitive:
        message.body = None
    return True


def deliver_job() -> str | None:
    """The worker's job: deliver what is due (new messages and retries)."""
    report = deliver()
    erase_sensitive_files()
    if not report.sent and not report.failed:
        return None
    return f"{report.sent} sent, {report.failed} failed"


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 1, 2, 4, ... minutes, at most an hour."""
    return min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 10)), MAX_BACKOFF)


def build_message(message: MailMessage) -> EmailMessage:
    sender = current_app.config["MAIL_FROM"]
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_addr
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message_id(message, sender)
    email.set_content(message.body)
    return email


def message_id(message: MailMessage, sender: str) -> str:
    """The same on every attempt, so a receiver can recognise a message sent again after a crash."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<panel-mail-{message.id}.{message.created_at:%Y%m%d%H%M%S%f}@{domain}>"


def _has_line_break(text: str) -> bool:
    return "\r" in text or "\n" in text


def _refuse_uncommitted_changes() -> None:
    if unit_of_work.has_changes():
        raise RuntimeError("deliver() commits: commit the change that queued the mail first")


def _claim(message_ids: list[int] | None) -> MailMessage | None:
    statement = (
        sa.select(MailMessage)
        .where(MailMessage.status == "queued", MailMessage.next_attempt_at <= utcnow())
        .order_by(MailMessage.next_attempt_at, MailMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # nothing on SQLite, where BEGIN IMMEDIATE serialises
        .execution_options(populate_existing=True)
    )
    if message_ids is not None:
        statement = statement.where(MailMessage.id.in_(message_ids))
    return db.session.scalars(statement).first()


def _send(message: MailMessage) -> None:
    email = build_message(message)
    config = current_app.config
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=SMTP_TIMEOUT) as smtp:
            smtp.send_message(email)
    else:
        _write_outbox_file(email, message.id, sensitive=message.sensitive)


SENSITIVE_SUFFIX = ".sensitive.eml"


def _write_outbox_file(email: EmailMessage, number: int, sensitive: bool = False) -> Path:
    """One .eml file per message, readable by the owner only (it may hold a temporary password),
    written under a temporary name and renamed, so a reader never sees half a message.

    Without a mail server the file IS the delivery, so it cannot be erased the moment it is "sent" as
    the database's copy is: a sensitive message's file (a temporary password) is named *.sensitive.eml,
    says in a header when it goes, and is overwritten and removed OUTBOX_SENSITIVE_HOURS after it was
    written (erase_sensitive_files: on every worker run, and on a write at most once a minute, since it lists
    the folder and a folder of tens of thousands of messages made every write cost that listing)."""
    folder = Path(current_app.instance_path) / "outbox"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if _sweep_due(folder):
        erase_sensitive_files(folder)
    if sensitive:
        hours = current_app.config.get("OUTBOX_SENSITIVE_HOURS", 1)
        email["X-Panel-Erased-After"] = f"{hours} hour(s): this file holds a password and is then erased"
    path = folder / f"{number}-{utcnow():%Y%m%dT%H%M%S%fZ}{SENSITIVE_SUFFIX if sensitive else '.eml'}"
    temporary = folder / f".{path.name}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with open(fd, "wb") as fh:
            fh.write(email.as_bytes())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


_SWEEP_EVERY = 60.0  # seconds: the erasure's promise is in hours
_last_sweep: dict[Path, float] = {}


def _sweep_due(folder: Path) -> bool:
    """Whether a write to `folder` should sweep it now (the first write of this process to it, then once a minute)."""
    now = time.monotonic()
    if now - _last_sweep.get(folder, -_SWEEP_EVERY) < _SWEEP_EVERY:
        return False
    _last_sweep[folder] = now
    return True


def erase_sensitive_files(folder: Path | None = None, now: float | None = None) -> int:
    """Overwrite and remove the outbox files of sensitive messages older than OUTBOX_SENSITIVE_HOURS."""
    folder = folder or Path(current_app.instance_path) / "outbox"
    limit = (now or time.time()) - float(current_app.config.get("OUTBOX_SENSITIVE_HOURS", 1)) * 3600
    erased = 0
    for path in folder.glob(f"*{SENSITIVE_SUFFIX}") if folder.is_dir() else ():
        try:
            if path.stat().st_mtime > limit:
                continue
            with open(path, "r+b") as fh:
                fh.write(b"\0" * path.stat().st_size)
                fh.flush()
                os.fsync(fh.fileno())
            path.unlink()
            erased += 1
        except OSError as error:
            log.warning("could not erase %s: %s", path.name, error)
    return erased


def _record_sent(message: MailMessage) -> None:
    message.attempts += 1
    message.status = "sent"
    message.sent_at = utcnow()
    if message.sensitive:
        message.body = None
        for hook in SENT_HOOKS:
            hook(message.id)  # e.g. a reset's password takes effect now that it has arrived
    from panel.audit.recorder import record_event

    db.session.flush()
    record_event("SEND", "Mail sent", data={"to": message.to_addr, "subject": message.subject},
                 table_name="mail_message", row_id=message.id)


def _record_failure(message: MailMessage, error: Exception) -> None:
    message.attempts += 1
    message.last_error = _describe(error, message.body)
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        if message.sensitive:
            message.body = None  # never going out: keep no temporary password
            for hook in ABANDONED_HOOKS:
                hook(message.id)  # e.g. the contact keeps the old password
    else:
        message.next_attempt_at = utcnow() + backoff(message.attempts)


def _describe(error: Exception, body: str | None) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())
    if body and len(body.strip()) >= 8 and body.strip() in text:
        text = text.replace(body.strip(), "[body]")  # a server that echoes what it was sent
    return text[:ERROR_LENGTH]
