"""Routes for the Delay Log, cancelling a delayed save and dismissing a conflict."""
import sqlalchemy as sa
from flask import abort, current_app, request

from panel import actor as actors
from panel.customers.models import Customer
from panel.delayed import bp, changes
from panel.delayed.models import STATUSES, PendingChange
from panel.extensions import db
from panel import pages
from panel.web import render_fragment, render_page


@bp.app_context_processor
def helpers():
    # Each field of a change with its form label and formatted values (panel/delayed/changes.py describe).
    # Beside an editor: "A change to Channel limit is scheduled for 14:00 UTC" (templates/delayed/_scheduled.html).
    return {"change_difference": changes.describe, "scheduled_notes": changes.scheduled_notes}


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
    return _customer_pending(customer_id)


@bp.post("/delay-log/<int:change_id>/dismiss")
def dismiss(change_id: int):
    """Dismiss a conflict (audited): it leaves the customer's Pending changes and stays in the Delay Log."""
    change = changes.dismiss(actors.current(), change_id)
    if change is None:
        abort(409, "Only a conflict not yet dismissed can be dismissed.")
    if request.values.get("view") == "log":
        name = db.session.scalar(sa.select(Customer.name).where(Customer.id == change.customer_id))
        return render_fragment("delayed/_log_row.html", change=change, names={change.customer_id: name})
    return _customer_pending(change.customer_id)


def _customer_pending(customer_id: int):
    customer = db.session.get(Customer, customer_id)
    pending_changes = changes.pending_for(customer_id)
    return render_fragment("delayed/_customer_pending.html", customer=customer, changes=pending_changes,
                           labels=changes.target_labels(pending_changes))
