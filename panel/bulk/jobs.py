"""Bulk Edit and Bulk mail of a selection of the customer list, as one all-or-nothing batch.

A selection is the ids ticked on the list or "all matching" the list's search and status filter; either
way it is read again here through the list's own conditions (panel/customers/accounts.py list_conditions),
so an id outside the actor's reach selects nothing. A search selects at most search.SEARCH_CAP customers.

A batch of at most IN_REQUEST customers runs in the request (its unit of work: a refusal answers 4xx and
the request rolls everything back). A bigger one is a BulkJob the worker runs (`work_next`):

- the job is claimed in a small commit of its own (FOR UPDATE SKIP LOCKED on PostgreSQL), so two workers
  never run one job;
- the change is ONE transaction (one unit of work), computed in chunks of CHUNK customers; a refusal of any
  customer rolls it all back and the job is marked failed with the reason, in a unit of its own;
- progress (`done`, `heartbeat_at`) is written after each chunk through a SEPARATE connection that commits
  at once, so the progress page sees it while the change itself is still uncommitted. The batch's own
  transaction never locks the job row until its last flush, so the two never wait for each other. SQLite
  allows one writer at a time and the batch holds it: there the progress is written at the end only (the
  page shows "running" until then).

Every changed customer is one audited row (panel/audit/bulk.py bulk_update through the session's hooks);
every mail is queued in the batch's transaction and audited SEND by the outbox when it is sent.
"""
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, g

from panel import access, search, unit_of_work
from panel import actor as actors
from panel.actor import Actor
from panel.audit.bulk import bulk_update
from panel.bulk.models import BulkJob
from panel.bulk.outage_notice import notice_body, notice_subject, parse_times
from panel.contacts.recipients import recipients_by_kind, recipients_by_types
from panel.customers.accounts import list_conditions
from panel.customers.models import INVOICE_SCHEDULES, PORTAL_SECTIONS, STATUSES, Customer, portal_sections_text
from panel.extensions import db
from panel.mail import outbox
from panel.money import places
from panel.types import utcnow

log = logging.getLogger(__name__)

IN_REQUEST = 200   # more than this runs in the worker
CHUNK = 500        # customers loaded, checked and changed at a time
MAX_IDS = 1000     # ids ticked by hand (a page of the list is far fewer); more: use "all matching"
STALE = timedelta(minutes=30)  # a running job without a heartbeat for this long is taken over
EDIT_FIELDS = ("status", "channel_limit", "flow_speed", "debit_limit", "invoice_schedule", "portal_sections")
MAX_SUBJECT = 200
MAX_BODY = 20_000


class BatchRefused(Exception):
    """The batch changes nothing: the reason is for the person who asked (one customer's refusal)."""


@dataclass(frozen=True)
class Selection:
    """Ticked ids, or all customers matching the list's search `q` and `status` filter."""

    ids: tuple[int, ...] = ()
    all_matching: bool = False
    q: str = ""
    status: str = ""

    @property
    def searched(self) -> bool:
        return self.all_matching and bool(self.q) and not search.too_short(self.q)

    def to_json(self) -> str:
        if self.all_matching:
            return json.dumps({"all_matching": True, "q": self.q, "status": self.status})
        return json.dumps({"ids": list(self.ids)})

    @classmethod
    def from_json(cls, text: str) -> "Selection":
        data = json.loads(text)
        if data.get("all_matching"):
            return cls(all_matching=True, q=data.get("q", ""), status=data.get("status", ""))
        return cls(ids=tuple(int(i) for i in data.get("ids", ())))

    def is_empty(self) -> bool:
        return not self.all_matching and not self.ids


@dataclass
class Result:
    kind: str
    customers: int = 0
    changed: int = 0
    messages: int = 0
    unreached: int = 0  # Bulk mail: customers with no recipient at all
    lines: list[str] = field(default_factory=list)
    what: str = "messages"  # Bulk mail: "outage notices" for an outage notice

    def summary(self) -> str:
        if self.kind == "edit":
            same = self.customers - self.changed
            text = f"{self.changed:,} of {self.customers:,} selected customers changed."
            return text + (f" {same:,} already had these values." if same else "")
        text = f"{self.messages:,} {self.what} queued to the contacts of {self.customers - self.unreached:,} customers."
        return text + (f" {self.unreached:,} customers have no contact of those types and no e-mail: not mailed."
                       if self.unreached else "")


def _guard(actor: Actor) -> None:
    """Bulk changes are the carrier's staff's (and the system's, for the worker): never the portal's."""
    if actor.in_portal:
        abort(404)
    if not access.can_change_customer(actor, None):
        abort(403, "You may see customers but not change them.")


def selected_ids(actor: Actor, selection: Selection):
    """A select of the selected customers' ids that `actor` may see (ids outside the actor's reach, or that do
    not exist, select nothing); a search's matches are capped at SEARCH_CAP in the list's order."""
    if selection.all_matching:
        conditions, searched = list_conditions(actor, selection.q, selection.status)
        statement = sa.select(Customer.id).where(*conditions)
        if searched:
            statement = statement.order_by(Customer.name, Customer.id).limit(search.SEARCH_CAP)
        return statement
    conditions, _ = list_conditions(actor, "", "")
    return sa.select(Customer.id).where(Customer.id.in_(selection.ids[:MAX_IDS]), *conditions)


def count_selected(actor: Actor, selection: Selection, at_most: int | None = None) -> int:
    """How many customers are selected; with `at_most`, counting stops past it (never counts a whole table)."""
    statement = selected_ids(actor, selection)
    if at_most is not None:
        statement = statement.limit(at_most + 1)
    return db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery())) or 0


def matching_count(actor: Actor, q: str, status: str) -> int | None:
    """"Select all N matching": the count for a search (bounded by its cap); None for an unsearched list,
    which is not counted here (the worker counts it when it runs the batch)."""
    selection = Selection(all_matching=True, q=q, status=status)
    return count_selected(actor, selection) if selection.searched else None


def _id_chunks(actor: Actor, selection: Selection):
    """The selected ids in chunks of CHUNK, in id order (read once up front: the batch's own changes, a
    status for one, must not move customers in or out of the selection while it runs)."""
    ids = sorted(db.session.scalars(selected_ids(actor, selection)).all())
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


# -- Bulk Edit -----------------------------------------------------------------------------------------

def edit_values(values: dict) -> dict:
    """The fields to set (those not left as is), checked: the form has validated them already; a job's
    parameters are read back through here too. ValueError for anything else."""
    chosen = {key: value for key, value in values.items() if key in EDIT_FIELDS and value is not None}
    if "status" in chosen and chosen["status"] not in STATUSES:
        raise ValueError("unknown status")
    if "invoice_schedule" in chosen and chosen["invoice_schedule"] not in INVOICE_SCHEDULES:
        raise ValueError("unknown invoice schedule")
    for key in ("channel_limit", "flow_speed"):
        if key in chosen:
            chosen[key] = int(chosen[key])
            if chosen[key] < 0:
                raise ValueError(f"{key} cannot be negative")
    if "debit_limit" in chosen:
        chosen["debit_limit"] = Decimal(str(chosen["debit_limit"]))
        if not chosen["debit_limit"].is_finite() or chosen["debit_limit"] < 0:
            raise ValueError("the debit limit cannot be negative")
    if "portal_sections" in chosen:
        keys = chosen["portal_sections"]
        keys = keys.split() if isinstance(keys, str) else list(keys)
        if set(keys) - set(PORTAL_SECTIONS):
            raise ValueError("unknown portal section")
        chosen["portal_sections"] = portal_sections_text(keys)
    return chosen


def _refusal(customer: Customer, values: dict) -> str | None:
    """Why `customer` cannot take `values`, or None. The same rules as the customer form, per customer."""
    limit = values.get("debit_limit")
    if limit is not None:
        decimals = places(customer.currency)
        if limit != limit.quantize(Decimal(1).scaleb(-decimals)):
            return (f"Customer #{customer.id} {customer.name} is billed in {customer.currency}, which has "
                    f"{decimals} decimal places: a debit limit of {limit} cannot be set.")
    return None


def run_edit(actor: Actor, selection: Selection, values: dict, progress=None) -> Result:
    """Set `values` on every selected customer, one audited row per changed customer; the first refusal
    raises BatchRefused (the caller's unit of work rolls back). Never commits."""
    _guard(actor)
    values = edit_values(values)
    if not values:
        raise BatchRefused("Choose at least one field to change: every field is “leave as is”.")
    result = Result("edit")
    for ids in _id_chunks(actor, selection):
        customers = db.session.scalars(sa.select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id)
                                       .with_for_update()).all()
        for customer in customers:
            reason = _refusal(customer, values)
            if reason:
                raise BatchRefused(reason)
            access.require(actor, customer, write=True)
            if any(getattr(customer, key) != value for key, value in values.items()):
                result.changed += 1
        bulk_update(Customer, [Customer.id.in_(ids)], values)
        result.customers += len(customers)
        if progress:
            progress(result.customers)
    return result


# -- Bulk mail -----------------------------------------------------------------------------------------

def fill(text: str, customer: Customer) -> str:
    """The one substitution a bulk mail offers: {customer} is the customer's name. Nothing else in the text
    is read as a placeholder (no str.format: braces and attributes stay as typed)."""
    return text.replace("{customer}", customer.name)


def mail_values(values: dict) -> dict:
    """A bulk mail's parameters, checked (a job's are read back through here too): a plain mail to chosen
    contact types, or an outage notice ("notice": "outage", with optional start and end) whose recipients are
    the outage-notice kind's. ValueError for anything else."""
    subject = " ".join(str(values.get("subject") or "").split())
    body = str(values.get("body") or "").replace("\r\n", "\n")
    types = tuple(values.get("contact_types") or ())
    notice = values.get("notice") or ""
    if not subject or len(subject) > MAX_SUBJECT:
        raise ValueError("a subject is one line of 1 to 200 characters")
    if not body.strip() or len(body) > MAX_BODY:
        raise ValueError("a body is required")
    if notice not in ("", "outage"):
        raise ValueError("unknown kind of notice")
    if notice:
        start, end = parse_times(values.get("starts_at"), values.get("ends_at"))
        return {"subject": subject, "body": body, "contact_types": [], "notice": notice,
                "starts_at": start.isoformat() if start else None, "ends_at": end.isoformat() if end else None}
    if not types:
        raise ValueError("choose at least one contact type")
    return {"subject": subject, "body": body, "contact_types": list(types)}


def _message(values: dict, customer: Customer, recipient) -> tuple[str, str]:
    """The subject and body of one bulk mail to one recipient of `customer`."""
    subject, body = fill(values["subject"], customer), fill(values["body"], customer)
    if values.get("notice") == "outage":
        start, end = parse_times(values.get("starts_at"), values.get("ends_at"))
        return (notice_subject(subject, MAX_SUBJECT),
                notice_body(customer.name, subject, body, start, end, recipient.why(customer.name)))
    return subject[:MAX_SUBJECT], body + "\n\n--\n" + recipient.why(customer.name) + "\n"


def run_mail(actor: Actor, selection: Selection, values: dict, progress=None, deliver_now: bool = False) -> Result:
    """Queue the mail to every recipient of the chosen contact types of each selected customer, or for an outage
    notice to its recipients of outage notices (the outbox audits each as SEND when it goes). `deliver_now`: sent right after the commit (a small batch in a request);
    else the worker's mail job delivers the queue. Never commits."""
    _guard(actor)
    values = mail_values(values)
    outage = values.get("notice") == "outage"
    result = Result("mail", what="outage notices" if outage else "messages")
    for ids in _id_chunks(actor, selection):
        customers = db.session.scalars(sa.select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id)).all()
        found_by_customer = (recipients_by_kind(customers, "outage_notice") if outage
                             else recipients_by_types(customers, values["contact_types"]))
        for customer_id, found in found_by_customer.items():
            customer = db.session.get(Customer, customer_id)
            if not found:
                result.unreached += 1
            for recipient in found:
                try:
                    message = outbox.queue_mail(recipient.email, *_message(values, customer, recipient))
                except ValueError as error:
                    raise BatchRefused(f"Customer #{customer.id} {customer.name}: {error}.") from None
                if deliver_now:
                    outbox.deliver_after_commit(message)
                result.messages += 1
        result.customers += len(customers)
        db.session.flush()
        if progress:
            progress(result.customers)
    return result


# -- starting a batch: now, or as a job ----------------------------------------------------------------

def _run(actor: Actor, kind: str, selection: Selection, values: dict, progress=None, in_request=False) -> Result:
    if kind == "edit":
        return run_edit(actor, selection, values, progress)
    return run_mail(actor, selection, values, progress, deliver_now=in_request)


def start(actor: Actor, kind: str, selection: Selection, values: dict) -> Result | BulkJob:
    """Run a batch of at most IN_REQUEST customers now (its Result; BatchRefused rolls the request back), or
    queue a BulkJob for the worker (audited as it is created). Never commits."""
    _guard(actor)
    if selection.is_empty():
        raise BatchRefused("Select at least one customer.")
    (edit_values if kind == "edit" else mail_values)(values)  # ValueError before anything is queued
    size = count_selected(actor, selection, at_most=IN_REQUEST)
    if size == 0:
        raise BatchRefused("None of the selected customers is within your reach.")
    if size <= IN_REQUEST:
        return _run(actor, kind, selection, values, in_request=True)
    fields = actor.audit_fields()
    comment = g.get("audit_comment")  # the reason typed on the form (Audit Comment), for the worker's entries
    parameters = {**values, **({"comment": comment} if comment else {})}
    job = BulkJob(kind=kind, parameters=json.dumps(parameters, default=str, sort_keys=True), selection=selection.to_json(),
                  status="queued", done=0, result="", created_by=fields["user_label"] or "",
                  created_by_id=fields["staff_user_id"], created_ip=fields["ip"])
    db.session.add(job)
    db.session.flush()
    return job


def job_for(actor: Actor, job_id: int) -> BulkJob:
    if actor.in_portal:
        abort(404)
    job = db.session.get(BulkJob, job_id)
    if job is None:
        abort(404, "There is no such batch.")
    return job


# -- the worker ----------------------------------------------------------------------------------------

def _claim() -> int | None:
    """Mark the next queued job (or one whose worker went quiet for STALE) running; its id."""
    now = utcnow()
    job = db.session.scalars(
        sa.select(BulkJob).where(sa.or_(BulkJob.status == "queued",
                                        sa.and_(BulkJob.status == "running", BulkJob.heartbeat_at < now - STALE)))
        .order_by(BulkJob.id).limit(1).with_for_update(skip_locked=True)).first()
    if job is None:
        return None
    job.status, job.started_at, job.heartbeat_at, job.done = "running", now, now, 0
    return job.id


def _progress_writer(job_id: int):
    """Progress through a second connection that commits at once (see the module docstring)."""
    if db.engine.dialect.name != "postgresql":
        return None
    table = BulkJob.__table__

    def write(done: int, total: int | None = None) -> None:
        values = {"done": done, "heartbeat_at": utcnow()}
        if total is not None:
            values["total"] = total
        with db.engine.connect() as connection:
            connection.execute(table.update().where(table.c.id == job_id).values(**values))
            connection.commit()

    return write


def _finish(job_id: int, status: str, text: str, total: int | None = None) -> None:
    with unit_of_work.unit():
        job = db.session.get(BulkJob, job_id, populate_existing=True)
        job.status, job.result, job.finished_at = status, text, utcnow()
        if total is not None:
            job.total = job.done = total


def run_job(job_id: int) -> str:
    """Run a claimed job as one unit of work, on behalf of whoever queued it; mark it done or failed."""
    job = db.session.get(BulkJob, job_id)
    previous, previous_comment = g.get("actor"), g.pop("audit_comment", None)
    actor = actors.act_as(actors.on_behalf_of(job.created_by, job.created_by_id, ip=job.created_ip))
    write = _progress_writer(job_id)
    kind, selection, values = job.kind, Selection.from_json(job.selection), json.loads(job.parameters)
    comment = values.pop("comment", None)
    g.audit_comment = f"Bulk {kind} #{job_id}" + (f": {comment}" if comment else "")
    try:
        with unit_of_work.unit():
            total = count_selected(actor, selection)
            if write:
                write(0, total)
            result = _run(actor, kind, selection, values, progress=(lambda done: write(done)) if write else None)
            job = db.session.get(BulkJob, job_id, populate_existing=True)
            job.status, job.result, job.finished_at = "done", result.summary(), utcnow()
            job.total = job.done = result.customers
        return f"bulk {kind} #{job_id}: {result.summary()}"
    except (BatchRefused, ValueError) as error:
        _finish(job_id, "failed", f"Nothing was changed: {error}")
        return f"bulk {kind} #{job_id} refused"
    except Exception as error:
        log.exception("bulk job %s failed", job_id)
        _finish(job_id, "failed", f"Nothing was changed: the batch failed ({type(error).__name__}).")
        return f"bulk {kind} #{job_id} failed"
    finally:
        g.actor = previous
        g.audit_comment = previous_comment


def work_next() -> str | None:
    """The worker's step: claim one job (its own small commit), then run it."""
    with unit_of_work.unit():
        job_id = _claim()
    if job_id is None:
        return None
    return run_job(job_id)
