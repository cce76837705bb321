"""Routes of the support area (staff side): a customer's support-credit ledger (/customers/<id>/support-credits)
with purchases, deductions and reversals. The balance on the Main tab links here."""
from flask import flash, redirect, url_for

from panel import access
from panel import actor as actors
from panel.support import bp, credits
from panel.support.forms import DeductionForm, PurchaseForm, ReverseForm
from panel.support.models import CreditTransaction
from panel import pages
from panel.web import render_page, wants_fragment

LOG_SIZE = 25
PURCHASE = "purchase"  # the purchase form's fields are prefixed: both forms have credits and a note


def get_customer(customer_id: int):
    return access.fetch_customer(actors.current(), customer_id)


def get_transaction(customer_id: int, transaction_id: int) -> CreditTransaction:
    return access.fetch(actors.current(), CreditTransaction, transaction_id, customer_id=customer_id, write=True,
                        message="This customer has no such support-credit transaction.")


def _picked(form: DeductionForm) -> tuple[str, str]:
    """What the deduction's deployment picker shows again: the chosen id and the text in the box."""
    chosen = form.deployment_id.data if isinstance(form.deployment_id.data, int) else ""
    return (str(chosen) if chosen else ""), (form.q.data or "")


def render_ledger(customer, *, code: int = 200, purchase_form=None, deduction_form=None, opened: str | None = None,
                  reverse=None, **extra):
    """The support-credits page, or its "ledger" block for htmx: balance, the two forms, the log."""
    actor = actors.current()
    can_write = actor.can_write
    deduction_form = deduction_form or DeductionForm(formdata=None)
    picked_id, picked_text = _picked(deduction_form)
    return render_page(
        "support/credits.html", block="ledger", code=code, customer=customer,
        log=credits.log(actor, customer.id, pages.requested(), LOG_SIZE), can_write=can_write,
        purchase_form=purchase_form or PurchaseForm(formdata=None, prefix=PURCHASE), deduction_form=deduction_form,
        picked_id=picked_id, picked_text=picked_text, opened=opened, reverse=reverse or {},
        comment_required=ReverseForm(formdata=None).comment_required if can_write else False, **extra)


def _after(customer, message: str):
    if wants_fragment():
        response = render_ledger(customer, notice=message)
        response.headers["HX-Trigger"] = "support-credits-changed"
        return response
    flash(message)
    return redirect(url_for(".credits", customer_id=customer.id), 303)


def _refused(form, error: credits.CreditRefused) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = [*target.errors, str(error)]
    else:
        form.form_errors.append(str(error))


@bp.get("/<int:customer_id>/support-credits", endpoint="credits")
def credits_page(customer_id: int):
    """The transaction log (newest first) under the balance; purchase and deduction forms for staff."""
    return render_ledger(get_customer(customer_id))


@bp.post("/<int:customer_id>/support-credits/purchases")
def purchase(customer_id: int):
    customer = get_customer(customer_id)
    form = PurchaseForm(prefix=PURCHASE)
    if form.validate():
        try:
            made = credits.purchase(actors.current(), customer, form.credits.data, form.payment_method.data,
                                    form.reference.data, form.note.data)
        except credits.CreditRefused as error:
            _refused(form, error)
        else:
            return _after(customer, f"Purchase of {made.credits:,.2f} credits recorded ({made.reference}).")
    return render_ledger(customer, code=422, purchase_form=form, opened="purchase")


@bp.post("/<int:customer_id>/support-credits/deductions")
def deduct(customer_id: int):
    customer = get_customer(customer_id)
    form = DeductionForm()
    if form.validate():
        try:
            made = credits.deduct(actors.current(), customer, form.credits.data, form.ticket_reference.data,
                                  form.deployment_id.data, form.note.data)
        except credits.CreditRefused as error:
            _refused(form, error)
        else:
            return _after(customer, f"{-made.credits:,.2f} credits deducted for ticket {made.ticket_reference}.")
    return render_ledger(customer, code=422, deduction_form=form, opened="deduction")


@bp.post("/<int:customer_id>/support-credits/<int:transaction_id>/reverse")
def reverse(customer_id: int, transaction_id: int):
    customer = get_customer(customer_id)
    transaction = get_transaction(customer_id, transaction_id)
    form = ReverseForm()
    if not form.validate():
        if transaction.kind == "reversal" or credits.reversal_of(transaction.id) is not None:
            # Its row shows no Reverse form any more, so the field's message would not be seen.
            return render_ledger(customer, code=409, problem=f"Transaction #{transaction.id} cannot be reversed: "
                                                              "it is a reversal, or was reversed already.")
        return render_ledger(customer, code=422, reverse={"id": transaction.id, "note": form.note.data or "",
                                                          "errors": [*form.note.errors, *form.audit_comment.errors]})
    try:
        made = credits.reverse(actors.current(), transaction, form.note.data)
    except credits.CreditRefused as error:
        if error.field == "note":
            return render_ledger(customer, code=422, reverse={"id": transaction.id, "note": form.note.data or "",
                                                              "errors": [str(error)]})
        return render_ledger(customer, code=409, problem=str(error))
    return _after(customer, f"Transaction #{transaction.id} reversed by #{made.id} "
                            f"({made.credits:+,.2f} credits).")


from panel.support import report_routes  # noqa: E402, F401  (issue reports: panel/support/report_routes.py)
