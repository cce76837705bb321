"""Routes for /customers and /customers/<id>."""
from flask import current_app, flash, redirect, request, url_for

from panel import access, pages, search
from panel import actor as actors
from panel.customers import accounts, bp
from panel.bulk import jobs as bulk_jobs
from panel.bulk.models import BulkJob
from panel.contacts.models import CONTACT_TYPES
from panel.customers.forms import BulkEditForm, BulkMailForm, CustomerEditForm, NewCustomerForm
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
    actor = actors.current()
    page = accounts.customer_page(actor, query, status, pages.requested(), current_app.config["PAGE_SIZE"])
    matching = bulk_jobs.matching_count(actor, query, status) if actor.can_write else None
    return render_page("customers/list.html", block="results", page=page, q=query, status=status, statuses=STATUSES,
                       short=search.too_short(query), cap=search.SEARCH_CAP, matching=matching)


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


# -- Bulk changes: the selection from the list, Bulk Edit, Bulk mail, a big batch's progress ---------------

def _selection_from(args) -> bulk_jobs.Selection:
    ids = sorted({int(v) for value in args.getlist("ids") for v in value.split(",") if v.strip().isdigit()
                  and len(v.strip()) <= 10})
    status = args.get("status_filter", args.get("status", ""))
    return bulk_jobs.Selection(ids=tuple(ids[:bulk_jobs.MAX_IDS]), all_matching=args.get("all_matching") in ("1", "y", "on"),
                               q=" ".join(args.get("q", "")[:200].split()), status=status if status in STATUSES else "")


def _bulk_page(edit_form, mail_form, selection, code=200, result=None, refusal=None, refused_form=None):
    actor = actors.current()
    count = None
    if not selection.all_matching or selection.searched:
        count = bulk_jobs.count_selected(actor, selection)
    return render_page("customers/bulk.html", edit_form=edit_form, mail_form=mail_form, selection=selection,
                       count=count, result=result, refusal=refusal, refused_form=refused_form, code=code)


def _forms_for(selection, edit_form=None, mail_form=None):
    data = {"ids": list(selection.ids), "all_matching": selection.all_matching, "q": selection.q,
            "status_filter": selection.status}
    edit_form = edit_form or BulkEditForm(formdata=None, data=data)
    mail_form = mail_form or BulkMailForm(formdata=None, data=data, contact_types=CONTACT_TYPES)
    return edit_form, mail_form


@bp.get("/bulk")
def bulk():
    """The customers ticked on the list (or all matching its search and filter): Bulk Edit or Bulk mail."""
    selection = _selection_from(request.args)
    return _bulk_page(*_forms_for(selection), selection)


def _start(kind: str, form, forms):
    if not form.validate_on_submit():
        selection = bulk_jobs.Selection(**form.selection_parts()) if not form.ids.errors else bulk_jobs.Selection()
        return _bulk_page(*forms, selection, code=422)
    selection = bulk_jobs.Selection(**form.selection_parts())
    try:
        outcome = bulk_jobs.start(actors.current(), kind, selection, form.values())
    except (bulk_jobs.BatchRefused, ValueError) as error:
        # The answer is 4xx: the request's unit of work rolls back whatever the batch had done.
        return _bulk_page(*forms, selection, code=409 if isinstance(error, bulk_jobs.BatchRefused) else 422,
                          refusal=str(error), refused_form=kind)
    if isinstance(outcome, BulkJob):
        return redirect(url_for(".bulk_job", job_id=outcome.id), 303)
    return _bulk_page(*forms, selection, result=outcome.summary())


@bp.post("/bulk/edit")
def bulk_edit():
    form = BulkEditForm()
    return _start("edit", form, _forms_for(_selection_from(request.form), edit_form=form))


@bp.post("/bulk/mail")
def bulk_mail():
    form = BulkMailForm(contact_types=CONTACT_TYPES)
    return _start("mail", form, _forms_for(_selection_from(request.form), mail_form=form))


@bp.get("/bulk/<int:job_id>")
def bulk_job(job_id: int):
    """A batch run by the worker: its progress (polled by htmx while it is queued or running) and result."""
    job = bulk_jobs.job_for(actors.current(), job_id)
    return render_page("customers/bulk_job.html", block="progress", job=job)


from panel.customers import portal_access_routes  # noqa: E402, F401  (Main tab → Portal Access, on this blueprint)
from panel.customers import trunk_routes  # noqa: E402, F401  (Main tab → Trunk addresses, on this blueprint)
