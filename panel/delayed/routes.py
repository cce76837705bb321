"""Routes for the Delay Log and cancelling a delayed save."""
import json

import sqlalchemy as sa
from flask import abort, current_app, request

from panel import actor as actors
from panel.customers.models import Customer
from panel.delayed import bp, changes
from panel.delayed.models import STATUSES, PendingChange
from panel.extensions import db
from panel import pages
from panel.web import render_fragment, render_page


def difference(change: PendingChange) -> list[tuple[str, object, object]]:
    """(field, value when asked, new value); a password is never shown."""
    new, base = json.loads(change.changes), json.loads(change.base)
    rows = [(k, base.get(k), v) for k, v in sorted(new.items()) if not k.startswith("_")]
    if change.secret or new.get("_auto_password"):
        rows.append(("password", None, "[set]" if change.secret else "[generated and e-mailed]"))
    return rows


@bp.app_context_processor
def helpers():
    return {"change_difference": difference}


@bp.get("/delay-log")
def log():
    status = request.args.get("status", "")
    statement = sa.select(PendingChange)
    if status in STATUSES:
        statement = statement.where(PendingChange.status == status)
    else:
        status = ""
    page = pages.keyset(db.session, statement, [PendingChange.id.desc()], pages.requested(), current_app.config["PAGE_SIZE"])
    names = dict(db.session.execute(
        sa.select(Customer.id, Customer.name).where(Customer.id.in_({c.customer_id for c in page.items}))
    ).all()) if page.items else {}
    return render_page("delayed/log.html", block="entries", page=page, status=status, statuses=STATUSES, names=names)


@bp.post("/delay-log/<int:change_id>/cancel")
def cancel(change_id: int):
    change = changes.cancel(actors.current(), change_id)
    if change is None:
        abort(409, "This delayed save is no longer pending: it was applied or cancelled meanwhile.")
    customer_id = change.customer_id
    if request.values.get("view") == "log":
        name = db.session.scalar(sa.select(Customer.name).where(Customer.id == customer_id))
        return render_fragment("delayed/_log_row.html", change=change, names={customer_id: name})
    customer = db.session.get(Customer, customer_id)
    pending_changes = changes.pending_for(customer_id)
    return render_fragment("delayed/_customer_pending.html", customer=customer, changes=pending_changes,
                           labels=changes.target_labels(pending_changes))
