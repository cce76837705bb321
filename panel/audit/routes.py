"""Routes for /audit, /customers/<id>/audit and an entry's "View Difference"."""
from flask import current_app, redirect, request, url_for

from panel import access
from panel import actor as actors
from panel.audit import bp, queries
from panel.audit.models import AuditEntry
from panel.audit.recorder import ACTIONS, audited_tables
from panel import pages
from panel.extensions import db
from panel.web import (
    render_fragment,
    render_page,
    search_text,
    wants_fragment,
)


def _log_page(customer=None):
    table = request.args.get("table", "")
    if table not in audited_tables():
        table = ""
    action = request.args.get("action", "")
    if action not in ACTIONS:
        action = ""
    user = search_text("user", 300)
    statement = queries.log_statement(customer.id if customer else None, table, user, action)
    page = pages.keyset(db.session, statement, [AuditEntry.id.desc()], pages.requested(), current_app.config["PAGE_SIZE"])
    return render_page(
        "audit/log.html", block="entries", page=page, customer=customer, table=table, user=user,
        names=queries.object_names(page.items),
        tables=sorted(audited_tables()), action=action, actions=ACTIONS,
    )


@bp.get("/audit")
def log():
    return _log_page()


@bp.get("/customers/<int:customer_id>/audit")
def customer_log(customer_id: int):
    return _log_page(access.fetch_customer(actors.current(), customer_id))


@bp.get("/audit/<int:entry_id>/difference")
def difference(entry_id: int):
    entry = access.fetch(actors.current(), AuditEntry, entry_id, message="There is no audit entry with that id.")
    if not wants_fragment():
        return redirect(url_for(".log"))
    return render_fragment("audit/_difference.html", entry=entry, changes=queries.difference(entry))
