"""Adding, changing and deleting alerts (a customer's, or global ones), and what the Alerts section lists."""
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort

from panel import access
from panel.actor import Actor
from panel.alerts.models import Alert, AlertFiring, AlertPenalty, AlertState
from panel.customers.models import Customer
from panel.extensions import db

FIELDS = ("name", "figure", "operator", "threshold", "reset_threshold", "repeat_minutes", "contact_types",
          "extra_addresses", "subject", "body", "penalty_minutes", "enabled")


def _may_change(actor: Actor, customer: Customer | None) -> None:
    if customer is not None:
        access.require(actor, customer, write=True)
    elif not (actor.is_system or actor.is_admin or (actor.is_staff and actor.can_write)):
        abort(403)


def create_alert(actor: Actor, customer: Customer | None, values: dict) -> Alert:
    """A new alert of `customer` (None: a global alert). Audited as the alert's insert."""
    _may_change(actor, customer)
    alert = Alert(customer_id=customer.id if customer else None, **{k: values[k] for k in FIELDS})
    db.session.add(alert)
    db.session.flush()
    return alert


def update_alert(actor: Actor, customer: Customer | None, alert: Alert, values: dict) -> bool:
    """Change an alert; a changed rule starts over (its states are dropped, so it is armed again)."""
    _may_change(actor, customer)
    rule_before = (alert.figure, alert.operator, alert.threshold, alert.reset_threshold)
    for key in FIELDS:
        setattr(alert, key, values[key])
    if rule_before != (alert.figure, alert.operator, alert.threshold, alert.reset_threshold):
        db.session.execute(sa.delete(AlertState).where(AlertState.alert_id == alert.id))
    return db.session.is_modified(alert)


def delete_alert(actor: Actor, customer: Customer | None, alert: Alert) -> None:
    _may_change(actor, customer)
    db.session.execute(sa.delete(AlertState).where(AlertState.alert_id == alert.id))
    db.session.delete(alert)
    db.session.flush()


def global_alerts() -> list[Alert]:
    return list(db.session.scalars(sa.select(Alert).where(Alert.customer_id.is_(None)).order_by(Alert.id)))


@dataclass
class Listed:
    alert: Alert
    state: AlertState | None
    inherited: bool  # a global alert shown on a customer that has none of its own


@dataclass
class Section:
    alerts: list[Listed]
    firings: list[AlertFiring]
    penalties: list[AlertPenalty]


def customer_section(actor: Actor, customer: Customer) -> Section:
    """The customer's alerts (else the global ones that apply), their state for this customer, the latest
    firings and penalties."""
    access.require(actor, customer)
    own = list(db.session.scalars(sa.select(Alert).where(Alert.customer_id == customer.id).order_by(Alert.id)))
    inherited = not own
    alerts = own or [a for a in global_alerts() if a.enabled]
    states = {s.alert_id: s for s in db.session.scalars(
        sa.select(AlertState).where(AlertState.customer_id == customer.id,
                                    AlertState.alert_id.in_([a.id for a in alerts])))} if alerts else {}
    firings = list(db.session.scalars(sa.select(AlertFiring).where(AlertFiring.customer_id == customer.id)
                                      .order_by(AlertFiring.fired_at.desc(), AlertFiring.id.desc()).limit(20)))
    penalties = list(db.session.scalars(sa.select(AlertPenalty).where(AlertPenalty.customer_id == customer.id)
                                        .order_by(AlertPenalty.id.desc()).limit(10)))
    return Section([Listed(a, states.get(a.id), inherited) for a in alerts], firings, penalties)
