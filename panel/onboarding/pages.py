"""The New customer pages, shared by the control panel and the portal. Who is acting decides the rest:
staff keep their own drafts and make top-level customers; a portal Admin contact (or staff in Portal
Login as one) keeps the contact's drafts and makes sub-accounts of the contact's customer, in the
portal's layout. The pages, the flow (panel/onboarding/flow.py) and the templates are the same.

Nothing here commits: the request's unit of work does, and the welcome e-mails go after its commit."""
import logging
from dataclasses import dataclass

from flask import abort, flash, redirect, request, url_for

from panel import unit_of_work
from panel.actor import Actor
from panel.customers.models import Customer
from panel.extensions import db
from panel.mail.outbox import deliver
from panel.onboarding import flow, forms
from panel.web import render_page

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class View:
    """How the pages look and link for `actor` (the templates call it `side`), and whose drafts they are."""

    actor: Actor

    @property
    def portal(self) -> bool:
        return self.actor.in_portal

    @property
    def owner(self) -> dict:
        """A portal draft is the contact's (in Portal Login too: staff act as the contact), else the staff member's."""
        return {"contact_id": self.actor.contact.id} if self.portal else {"staff_user_id": self.actor.staff.id}

    @property
    def reseller_id(self) -> int | None:
        """A portal Admin's new customer becomes a sub-account of their own customer; staff's has no owner."""
        return self.actor.customer_id if self.portal else None

    @property
    def layout(self) -> str:
        return "portal/base.html" if self.portal else "base.html"

    @property
    def with_currency(self) -> bool:
        return not self.portal  # a sub-account takes its reseller's currency

    def endpoint(self, page: str) -> str:
        return f"portal.onboarding_{page}" if self.portal else f"onboarding.{page}"

    def url(self, page: str, **values) -> str:
        return url_for(self.endpoint(page), **values)


def view_of(actor: Actor) -> View:
    """The pages for this actor: staff, or a portal Admin contact (anyone else in the portal: not found,
    as for any customer outside their reach)."""
    if actor.in_portal and not actor.manages_tree:
        abort(404, "Only an Admin contact can add sub-accounts.")
    if not actor.in_portal and not actor.is_staff:
        abort(404)
    return View(actor)


def _draft(side: View, draft_id: int):
    draft = flow.draft_of(draft_id, lock=request.method == "POST", **side.owner)
    if draft is None:
        abort(404, "There is no such draft among yours.")
    return draft


def _reseller(side: View) -> Customer | None:
    return db.session.get(Customer, side.reseller_id) if side.reseller_id is not None else None


def index(actor: Actor):
    side = view_of(actor)
    drafts = flow.drafts_of(**side.owner)
    return render_page("onboarding/index.html", side=side, layout=side.layout, drafts=drafts, load=flow.load,
                       steps=flow.STEPS, reseller=_reseller(side))


def _render(side: View, draft, step: int, values, errors: dict | None = None, code: int = 200):
    if step > 1 and not values:
        values = [{"type": "Maintainer"}, {"type": "Onsite Admin"}] if step == 3 else [{}]
    action = side.url("step", draft_id=draft.id, step=step) if draft is not None else side.url("new")
    form = forms.of_values(step, values, with_currency=side.with_currency, errors=errors)
    return render_page(
        "onboarding/step.html", code=code, side=side, layout=side.layout, draft=draft, step=step, form=form,
        errors=errors or {}, steps=flow.STEPS, last_step=flow.LAST_STEP, action=action, reseller=_reseller(side),
        max_rows=flow.MAX_ROWS, reached=flow.load(draft)["reached"] if draft is not None else 1,
    )


def new(actor: Actor):
    """Step 1 before there is a draft: the draft is made by the first Next or Save and Back."""
    side = view_of(actor)
    if request.method == "GET":
        return _render(side, None, 1, {"currency": flow.DEFAULT_CURRENCY} if side.with_currency else {})
    if flow.too_many_drafts(**side.owner):
        abort(409, f"You keep {flow.MAX_DRAFTS} drafts already: finish or discard one first.")
    values = flow.read_step(1, request.form, with_currency=side.with_currency)
    action = request.form.get("action", "next")
    data = flow.empty_data()
    if action == "save":
        flow.store(data, 1, flow.tidy(1, values))
        draft = flow.start_draft(data, 1, reseller_id=side.reseller_id, **side.owner)
        flash(f"The draft of {flow.display_name(draft)} is saved: resume it from this list.")
        return redirect(side.url("index"), 303)
    errors = flow.check_step(1, values, data, with_currency=side.with_currency)
    if errors:
        return _render(side, None, 1, values, errors, 422)
    flow.store(data, 1, values)
    data["reached"] = 2
    draft = flow.start_draft(data, 2, reseller_id=side.reseller_id, **side.owner)
    db.session.flush()  # its id, for the next step's address
    return redirect(side.url("step", draft_id=draft.id, step=2), 303)


def step(actor: Actor, draft_id: int, number: int):
    side = view_of(actor)
    draft = _draft(side, draft_id)
    if number not in flow.STEPS:
        abort(404, "The New customer flow has no such step.")
    data = flow.load(draft)
    if request.method == "GET":
        if number > data["reached"]:
            return redirect(side.url("step", draft_id=draft.id, step=data["reached"]), 303)
        return _render(side, draft, number, flow.values_of(data, number))
    if number > data["reached"]:
        abort(409, "Complete the earlier steps first.")
    values = flow.read_step(number, request.form, with_currency=side.with_currency)
    action = request.form.get("action", "next")
    if action.startswith(("add-", "remove-")) and number > 1:
        return _change_rows(side, draft, data, number, values, action)
    if action in ("back", "save"):
        flow.store(data, number, flow.tidy(number, values))
        draft.step = max(1, number - 1) if action == "back" else number
        flow.dump(draft, data)
        if action == "save":
            flash(f"The draft of {flow.display_name(draft)} is saved: resume it from this list.")
            return redirect(side.url("index"), 303)
        return redirect(side.url("step", draft_id=draft.id, step=draft.step), 303)
    errors = flow.check_step(number, values, data, with_currency=side.with_currency)
    if errors:
        return _render(side, draft, number, values, errors, 422)
    flow.store(data, number, values if number == 1 else [row for row in values if not flow.is_blank(row)])
    if number < flow.LAST_STEP:
        data["reached"] = max(data["reached"], number + 1)
        draft.step = number + 1
        flow.dump(draft, data)
        return redirect(side.url("step", draft_id=draft.id, step=number + 1), 303)
    # The last step's rows go into the draft first, so that a step found incomplete below leaves the
    # draft as typed; the creation itself is all or nothing (a savepoint in the flow).
    flow.dump(draft, data)
    return _create(side, draft)


def _create(side: View, draft):
    try:
        customer, messages = flow.create_customer_from_draft(draft)
    except flow.Incomplete as problem:
        data = flow.load(draft)
        # Keep what passed; show the step that needs attention. The refused creation left nothing
        # behind, so what this 422 keeps is the draft alone: what the user typed.
        draft.step = problem.step
        unit_of_work.keep_on_refusal()
        return _render(side, draft, problem.step, flow.values_of(data, problem.step), problem.errors, 422)
    except flow.DraftGone as gone:
        abort(409, str(gone))
    except flow.OnboardingRefused as refused:
        abort(403, str(refused))
    # The answer says whether the welcome e-mails went, so the customer is committed first.
    unit_of_work.complete()
    sent = _deliver([m.id for m in messages])
    owner = f" as a sub-account of {_reseller(side).name}" if side.portal else ""
    flash(f"Customer {customer.name} (#{customer.id}) is created{owner}, status {customer.status}, with "
          f"{len(messages)} contact(s). {sent}")
    target = "portal.customer" if side.portal else "customers.show"
    return redirect(url_for(target, customer_id=customer.id), 303)


def _deliver(ids: list[int]) -> str:
    if not ids:
        return ""
    try:
        report = deliver(ids)
    except Exception:  # committed already: the worker delivers what is still queued
        log.exception("immediate delivery of welcome mails failed")
        report = None
    if report is not None and report.sent == len(ids):
        return "Each contact was sent an e-mail with a temporary password."
    return "The welcome e-mails wait in the mail queue and will be sent automatically."


def _change_rows(side: View, draft, data: dict, number: int, values: list, action: str):
    """Add a row or remove one; what was typed in the other rows is kept in the draft."""
    rows = flow.tidy(number, values)
    prefix = flow.ROW_PREFIX[flow.KIND_OF_STEP[number]]
    anchor = None
    if action == f"add-{prefix}":
        if len(rows) >= flow.MAX_ROWS:
            return _render(side, draft, number, values,
                           {"form": [f"A draft holds at most {flow.MAX_ROWS} contacts of a kind."]}, 422)
        rows.append({"type": "Other"} if number == 3 else {})
        anchor = f"{prefix}-{len(rows) - 1}"
    elif action.startswith(f"remove-{prefix}-"):
        index = action.rsplit("-", 1)[1]
        if index.isdigit() and int(index) < len(rows):
            del rows[int(index)]
    flow.store(data, number, rows)
    draft.step = number
    flow.dump(draft, data)
    return redirect(side.url("step", draft_id=draft.id, step=number, _anchor=anchor), 303)


def cancel(actor: Actor, draft_id: int):
    """Cancel asks first, then discards the draft: nothing of it was ever a customer."""
    side = view_of(actor)
    draft = _draft(side, draft_id)
    if request.method == "GET":
        return render_page("onboarding/cancel.html", side=side, layout=side.layout, draft=draft,
                           name=flow.display_name(draft), step=draft.step if draft.step in flow.STEPS else 1)
    name = flow.display_name(draft)
    flow.discard(draft)
    flash(f"The draft of {name} is discarded.")
    return redirect(side.url("index"), 303)
