"""Routes for /customers and /customers/<id>."""
from flask import current_app, flash, redirect, request, url_for

from panel import access, pages, search
from panel import actor as actors
from panel.customers import accounts, bp
from panel.customers.forms import CustomerEditForm, NewCustomerForm
from panel.customers.models import STATUSES
from panel.delayed import changes
from panel.invoices import balance
from panel.save_options import DELAY, STAY
from panel.support import credits
from panel.web import (
    render_fragment,
    render_page,
    search_text,
    wants_fragment,
)


def get_customer(customer_id: int, write: bool = False):
    """Fetch-or-abort for the acting user (panel/access.py): 404 for a customer that does not exist."""
    return access.fetch_customer(actors.current(), customer_id, write=write)


@bp.get("")
def index():
    query = search_text("q")
    status = request.args.get("status", "")
    if status not in STATUSES:
        status = ""
    page = accounts.customer_page(actors.current(), query, status, pages.requested(), current_app.config["PAGE_SIZE"])
    return render_page("customers/list.html", block="results", page=page, q=query, status=status, statuses=STATUSES,
                       short=search.too_short(query), cap=search.SEARCH_CAP)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = NewCustomerForm()
    if form.validate_on_submit():
        customer = accounts.create_customer(actors.current(), form.values(), form.currency.data)
        if form.action == STAY:
            flash(f"Saved. Customer {customer.name} created; add the next one.")
            return redirect(url_for(".new"), 303)
        flash(f"Customer {customer.name} created.")
        return redirect(url_for(".show", customer_id=customer.id), 303)
    return render_page("customers/form.html", form=form, customer=None, owner=None, owner_label=accounts.owner_label,
                       code=422 if form.is_submitted() else 200)


@bp.get("/<int:customer_id>")
def show(customer_id: int):
    customer = get_customer(customer_id)
    return render_page("customers/main.html", customer=customer, overview=balance.overview(customer),
                       support_credits=credits.balance(customer.id), reseller=accounts.reseller_of(customer))


@bp.get("/<int:customer_id>/overview")
def overview(customer_id: int):
    """Status, balance, debit limit and channels: polled by the Main tab every few seconds."""
    customer = get_customer(customer_id)
    if not wants_fragment():
        return redirect(url_for(".show", customer_id=customer_id))
    return render_page("customers/main.html", block="overview", customer=customer, overview=balance.overview(customer),
                       support_credits=credits.balance(customer.id))


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
def edit(customer_id: int):
    customer = get_customer(customer_id)
    form = CustomerEditForm(obj=customer)
    form.customer_id = customer.id  # the reseller owner check needs to know whose owner it is
    if form.validate_on_submit():
        if form.action == DELAY:
            change = changes.schedule_update(actors.current(), "customer", customer, form.values(), form.run_at())
            flash(f"The change will apply at {change.run_at:%Y-%m-%d %H:%M} UTC." if change
                  else "Nothing to delay: no field was changed.")
            return redirect(url_for(".show", customer_id=customer.id), 303)
        changed = accounts.update_customer(actors.current(), customer, form.values())
        flash("Saved." if changed else "Nothing was changed.")
        if form.action == STAY:
            return redirect(url_for(".edit", customer_id=customer.id), 303)
        return redirect(url_for(".show", customer_id=customer.id), 303)
    return render_page("customers/form.html", form=form, customer=customer, owner=accounts.reseller_of(customer),
                       owner_label=accounts.owner_label, code=422 if form.is_submitted() else 200)


PICKER_SIZE = 10


@bp.get("/resellers/search")
def reseller_search():
    """The Reseller owner picker: customers that may own others, by id or part of the name (a fragment).
    With ?for=<customer id>, never that customer nor its sub-accounts."""
    for_id = request.args.get("for", "")
    for_customer = get_customer(int(for_id)).id if for_id.isdigit() and len(for_id) < 12 else None
    query = search_text("reseller_q") or search_text("q")
    page = accounts.reseller_candidates(actors.current(), query, for_customer, PICKER_SIZE)
    return render_fragment("customers/_reseller_results.html", page=page, query=query, owner_label=accounts.owner_label)


@bp.get("/<int:customer_id>/pending")
def pending(customer_id: int):
    """Delayed saves waiting for this customer and its contacts, with Cancel; conflicts too."""
    customer = get_customer(customer_id)
    if not wants_fragment():
        return redirect(url_for(".show", customer_id=customer_id, _anchor="pending"))
    pending_changes = changes.pending_for(customer_id)
    return render_fragment("delayed/_customer_pending.html", customer=customer, changes=pending_changes,
                           labels=changes.target_labels(pending_changes))


from panel.customers import portal_access_routes  # noqa: E402, F401  (Main tab → Portal Access, on this blueprint)
