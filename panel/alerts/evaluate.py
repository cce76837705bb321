"""The worker's alerts step: every pass, each customer's alerts (its own, else the global ones) are compared
with the figures the panel already keeps (panel/alerts/figures.py), in batches of customers, each batch a unit
of work of its own; then penalties that have run their time end.

Once per crossing with several workers: each (alert, customer) state row changes only by a compare-and-set
on its `version` (a conditional UPDATE); a worker whose update finds the row changed by another fires
nothing. A firing writes its AlertFiring row (audited), queues the mail (sent by the outbox, which audits the
SEND) and may start a penalty (the status change audited as a change of the customer)."""
import re
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from panel import unit_of_work
from panel.alerts.figures import Figures, figures_of
from panel.alerts.models import FIGURES, Alert, AlertFiring, AlertPenalty, AlertState
from panel.alerts.recipients import alert_recipients
from panel.alerts.rules import Rule, State, step
from panel.audit.models import AuditEntry
from panel.customers.models import Customer
from panel.extensions import db
from panel.mail.outbox import queue_mail
from panel.money import show
from panel.types import utcnow

BATCH = 500
PLACEHOLDER = re.compile(r"\{(\w+)\}")
DEFAULT_SUBJECT = "Alert {alert} for {customer}: {figure} is {value}"
DEFAULT_BODY = ("The alert {alert} of {customer} (#{customer_id}) fired at {time}:\n"
                "{figure} is {value} ({operator} {threshold}).\n\nBalance: {balance}\nAvailable credit: {available}\n"
                "Channels in use: {channels}\nToday's spend: {spend_today}\n")


def fill(template: str, values: dict[str, str]) -> str:
    """Safe substitution: {name} for the names in `values`, anything else left as typed. No attribute access,
    no format specs, no template engine: the text is the user's."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


PLACEHOLDERS = ("customer", "customer_id", "alert", "figure", "value", "operator", "threshold", "reset", "balance",
                "available", "channels", "spend_today", "asr_hour", "time", "penalty_until")


def rule_of(alert: Alert) -> Rule:
    return Rule(alert.operator, alert.threshold, alert.reset_threshold,
                timedelta(minutes=alert.repeat_minutes) if alert.repeat_minutes else None)


def alerts_by_customer(customer_ids: list[int]) -> dict[int, list[Alert]]:
    """Each customer's enabled alerts: its own, or (when it has none of its own) the global ones."""
    own: dict[int, list[Alert]] = {}
    for alert in db.session.scalars(sa.select(Alert).where(Alert.customer_id.in_(customer_ids)).order_by(Alert.id)):
        own.setdefault(alert.customer_id, []).append(alert)
    globals_ = list(db.session.scalars(sa.select(Alert).where(Alert.customer_id.is_(None), Alert.enabled.is_(True))
                                       .order_by(Alert.id)))
    # A customer whose own alerts are all disabled still has alerts of its own: the global ones do not apply.
    return {cid: [a for a in own[cid] if a.enabled] if cid in own else globals_ for cid in customer_ids}


def _customer_ids_after(after: int) -> list[int]:
    has_global = db.session.scalar(sa.select(sa.exists().where(Alert.customer_id.is_(None), Alert.enabled.is_(True))))
    if has_global:
        statement = sa.select(Customer.id).where(Customer.id > after).order_by(Customer.id)
    else:
        statement = (sa.select(Alert.customer_id).where(Alert.customer_id > after, Alert.enabled.is_(True)).distinct()
                     .order_by(Alert.customer_id))
    return list(db.session.scalars(statement.limit(BATCH)))


def _claim(alert: Alert, customer_id: int, seen: AlertState | None, new: State, value: Decimal, now: datetime,
           fired: bool) -> bool:
    """Store the new state if nobody changed the row since `seen` was read; whether this worker did."""
    values = {"crossed": new.crossed, "last_value": value, "last_fired_at": new.last_fired_at, "updated_at": now}
    if seen is None:
        try:
            with db.session.begin_nested():
                db.session.execute(sa.insert(AlertState).values(
                    alert_id=alert.id, customer_id=customer_id, fired_count=1 if fired else 0, version=1, **values))
            return True
        except sa.exc.IntegrityError:
            return False  # another worker stored the first state: it has this crossing
    if fired:
        values["fired_count"] = AlertState.fired_count + 1
    result = db.session.execute(
        sa.update(AlertState).where(AlertState.alert_id == alert.id, AlertState.customer_id == customer_id,
                                    AlertState.version == seen.version)
        .values(version=AlertState.version + 1, **values).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _money(customer: Customer, amount: Decimal) -> str:
    return show(amount, customer.currency)


def _fire(alert: Alert, customer: Customer, figures: Figures, value: Decimal, now: datetime) -> AlertFiring:
    penalty = None
    if alert.penalty_minutes:
        penalty = start_penalty(customer, alert, now, timedelta(minutes=alert.penalty_minutes))
    recipients = alert_recipients(customer, alert.types, alert.addresses)
    money_figure = alert.figure in ("balance", "available", "spend_today")
    shown = (lambda amount: _money(customer, amount)) if money_figure else (lambda amount: f"{amount.normalize():f}")
    values = {
        "customer": customer.name, "customer_id": str(customer.id), "alert": alert.name,
        "figure": FIGURES[alert.figure], "value": shown(value), "operator": alert.operator,
        "threshold": shown(alert.threshold),
        "reset": shown(alert.reset_threshold) if alert.reset_threshold is not None else "",
        "balance": _money(customer, figures.balance), "available": _money(customer, figures.available),
        "channels": str(figures.channels), "spend_today": _money(customer, figures.spend_today),
        "asr_hour": f"{figures.asr_hour}%" if figures.asr_hour is not None else "no calls",
        "time": now.strftime("%Y-%m-%d %H:%M UTC"),
        "penalty_until": penalty.ends_at.strftime("%Y-%m-%d %H:%M UTC") if penalty else "",
    }
    subject = " ".join(fill(alert.subject or DEFAULT_SUBJECT, values).split())[:200]
    body = fill(alert.body or DEFAULT_BODY, values)
    for address in recipients:
        try:
            queue_mail(address, subject, body)
        except ValueError:
            continue  # an extra address the form let through but the outbox cannot use
    firing = AlertFiring(alert_id=alert.id, customer_id=customer.id, alert_name=alert.name, figure=alert.figure,
                         value=value, threshold=alert.threshold, recipients=", ".join(recipients)[:2000],
                         penalty=penalty is not None, fired_at=now)
    db.session.add(firing)
    return firing


def start_penalty(customer: Customer, alert: Alert | None, now: datetime, duration: timedelta) -> AlertPenalty | None:
    """Set the customer's status to Penalty until now + duration (audited as a change of the customer). A
    customer already in an open penalty keeps it, ending at the later of the two times."""
    open_penalty = db.session.scalar(sa.select(AlertPenalty).where(AlertPenalty.customer_id == customer.id,
                                                                   AlertPenalty.ended_at.is_(None)))
    if open_penalty is not None:
        open_penalty.ends_at = max(open_penalty.ends_at, now + duration)
        return open_penalty
    penalty = AlertPenalty(customer_id=customer.id, alert_id=alert.id if alert else None,
                           previous_status=customer.status, started_at=now, ends_at=now + duration)
    db.session.add(penalty)
    customer.status = "Penalty"
    return penalty


def end_penalties(now: datetime | None = None) -> int:
    """Penalties whose time is up: the previous status comes back if the customer is still in Penalty; if
    staff changed the status meanwhile, their choice stays (outcome "kept"). Rows locked, so two workers never
    end one twice."""
    now = now or utcnow()
    ended = 0
    due = db.session.scalars(sa.select(AlertPenalty).where(AlertPenalty.ended_at.is_(None), AlertPenalty.ends_at <= now)
                             .order_by(AlertPenalty.id).limit(BATCH).with_for_update(skip_locked=True)).all()
    for penalty in due:
        customer = db.session.get(Customer, penalty.customer_id)
        if customer.status == "Penalty" and not _status_changed_by_staff(penalty):
            customer.status = penalty.previous_status
            penalty.outcome = "restored"
        else:
            penalty.outcome = "kept"
        penalty.ended_at = now
        ended += 1
    return ended


def _status_changed_by_staff(penalty: AlertPenalty) -> bool:
    """Whether anyone but the system changed the customer's status since the penalty started (staff who set
    it to Active and back to Penalty meant a penalty of their own)."""
    entries = db.session.scalars(
        sa.select(AuditEntry.data).where(AuditEntry.customer_id == penalty.customer_id, AuditEntry.table_name == "customer",
                                         AuditEntry.row_id == str(penalty.customer_id),
                                         AuditEntry.staff_user_id.is_not(None), AuditEntry.created_at >= penalty.started_at))
    return any('"status"' in (data or "") for data in entries)


def _states(customer_ids: list[int]) -> dict[tuple[int, int], AlertState]:
    """The stored states, as this worker saw them: a change by another worker since makes its write miss."""
    return {(s.alert_id, s.customer_id): s for s in db.session.scalars(
        sa.select(AlertState).where(AlertState.customer_id.in_(customer_ids)))}


def evaluate_batch(customer_ids: list[int], now: datetime) -> int:
    """Compare every alert of these customers with their figures; returns how many fired."""
    alerts = alerts_by_customer(customer_ids)
    wanted = [cid for cid in customer_ids if alerts[cid]]
    if not wanted:
        return 0
    customers = db.session.scalars(sa.select(Customer).where(Customer.id.in_(wanted))).all()
    states = _states(wanted)
    # The worker computes balances afresh each pass (cheap grouped sums); authorize reads what it stored.
    figures = figures_of(customers, now, refresh_older_than=timedelta(0))
    fired = 0
    for customer in customers:
        for alert in alerts[customer.id]:
            value = figures[customer.id].value(alert.figure)
            if value is None:
                continue
            seen = states.get((alert.id, customer.id))
            before = State(seen.crossed, seen.last_fired_at) if seen else State()
            after, fires = step(rule_of(alert), before, value, now)
            if seen is not None and after == before and not fires:
                continue  # nothing to store (the last value is for the page, not worth a write a pass)
            if _claim(alert, customer.id, seen, after, value, now, fires) and fires:
                _fire(alert, customer, figures[customer.id], value, now)
                fired += 1
    return fired


def alerts_job(now: datetime | None = None) -> str | None:
    """The worker's step (run in the worker's unit of work; each batch commits on its own)."""
    now = now or utcnow()
    fired, after = 0, 0
    while True:
        ids = _customer_ids_after(after)
        if not ids:
            break
        with unit_of_work.unit():
            fired += evaluate_batch(ids, now)
        after = ids[-1]
    with unit_of_work.unit():
        ended = end_penalties(now)
    report = [f"{fired} fired"] if fired else []
    if ended:
        report.append(f"{ended} penalties ended")
    return ", ".join(report) or None
