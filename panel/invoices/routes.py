"""Routes for a customer's invoices (/customers/<id>/invoices…) and payments (/customers/<id>/payments…)."""
from decimal import Decimal

import sqlalchemy as sa

from flask import flash, redirect, request, url_for

from panel import access, money, periods
from panel import actor as actors
from panel.extensions import db
from panel.invoices import billing, bp, payments
from panel.invoices.forms import AllocationForm, PaymentForm, VoidInvoiceForm
from panel.invoices.models import Invoice, Payment, PaymentAllocation
from panel import pages
from panel.web import render_fragment, render_page, wants_fragment

SECTION_SIZE = 10


def get_customer(customer_id: int, write: bool = False):
    return access.fetch_customer(actors.current(), customer_id, write=write)


def get_invoice(customer_id: int, invoice_id: int, write: bool = False) -> Invoice:
    return access.fetch(actors.current(), Invoice, invoice_id, customer_id=customer_id, write=write,
                        message="This customer has no such invoice.")


def get_payment(customer_id: int, payment_id: int, write: bool = False) -> Payment:
    return access.fetch(actors.current(), Payment, payment_id, customer_id=customer_id, write=write,
                        message="This customer has no such payment.")


def _invoices_section(customer, code: int = 200, **extra):
    page, paid = billing.customer_invoices(actors.current(), customer.id, pages.requested(), SECTION_SIZE)
    response = render_fragment("invoices/_section.html", code=code, customer=customer, page=page, paid=paid, **extra)
    return response


@bp.get("/<int:customer_id>/invoices")
def section(customer_id: int):
    customer = get_customer(customer_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="invoices"))
    return _invoices_section(customer)


def _after_run(customer, outcome: billing.Outcome, nothing: str):
    """The Invoices section saying what a run made or why it made nothing; the Summary and the
    balance refresh themselves on the invoices-changed event."""
    if outcome.created:
        numbers = ", ".join(invoice.number for invoice in outcome.created)
        response = _invoices_section(customer, notice=f"Created {numbers}.")
    elif outcome.refused:
        response = _invoices_section(customer, code=422, problems=outcome.refused,
                                     problem="No invoice was created:")
    else:
        response = _invoices_section(customer, notice=nothing)
    response.headers["HX-Trigger"] = "invoices-changed"
    return response


@bp.post("/<int:customer_id>/invoices/generate")
def generate(customer_id: int):
    """Generate Invoice: one invoice per period checked in the Summary (all or none)."""
    customer = get_customer(customer_id, write=True)
    frame = request.form.get("frame", "")
    try:
        if frame not in periods.BILLING_FRAMES:
            raise billing.InvoiceRefused("Invoices are made from the Daily, Weekly or Monthly tab of the Summary.")
        starts = []
        for key in request.form.getlist("period")[:400]:
            try:
                starts.append(periods.parse_start(frame, key))
            except ValueError as error:
                raise billing.InvoiceRefused(f"{error}.") from None
        outcome = billing.generate(actors.current(), customer, frame, starts)
    except billing.InvoiceRefused as error:
        return _invoices_section(customer, code=422, problem=str(error))
    return _after_run(customer, outcome, "Nothing to invoice.")


@bp.post("/<int:customer_id>/invoices/auto-generate")
def auto_generate(customer_id: int):
    """Auto Generate Invoice: every missing invoice of the customer's Invoice Schedule."""
    customer = get_customer(customer_id, write=True)
    try:
        outcome = billing.auto_generate(actors.current(), customer)
    except billing.InvoiceRefused as error:
        return _invoices_section(customer, code=422, problem=str(error))
    schedule = customer.invoice_schedule
    return _after_run(customer, outcome, f"Every completed {schedule} period with calls is invoiced already.")


@bp.get("/<int:customer_id>/invoices/<int:invoice_id>")
def show(customer_id: int, invoice_id: int):
    customer = get_customer(customer_id)
    invoice = get_invoice(customer_id, invoice_id)
    return _invoice_page(customer, invoice, VoidInvoiceForm(formdata=None))


def _invoice_page(customer, invoice, form, code: int = 200):
    paid = billing.paid_amounts([invoice.id]).get(invoice.id, Decimal(0))
    return render_page("invoices/show.html", code=code, customer=customer, invoice=invoice, paid=paid,
                       allocations=_allocations(invoice), form=form)


def _allocations(invoice):
    return db.session.scalars(sa.select(PaymentAllocation).where(PaymentAllocation.invoice_id == invoice.id)
                              .order_by(PaymentAllocation.id)).all()


@bp.post("/<int:customer_id>/invoices/<int:invoice_id>/void")
def void(customer_id: int, invoice_id: int):
    customer = get_customer(customer_id)
    invoice = get_invoice(customer_id, invoice_id, write=True)
    form = VoidInvoiceForm()
    if form.validate_on_submit():
        try:
            billing.void_invoice(actors.current(), invoice, form.reason.data)
        except billing.InvoiceRefused as error:
            form.reason.errors = [str(error)]
        else:
            flash(f"{invoice.number} is void; its period can be invoiced again.")
            return redirect(url_for(".show", customer_id=customer.id, invoice_id=invoice.id), 303)
    return _invoice_page(customer, invoice, form, code=422)


def _payments_section(customer, code: int = 200, **extra):
    page, allocated = payments.customer_payments(actors.current(), customer.id, pages.requested(), SECTION_SIZE)
    return render_fragment("invoices/_payments.html", code=code, customer=customer, page=page, allocated=allocated,
                           next_statuses=payments.NEXT_STATUSES, **extra)


@bp.get("/<int:customer_id>/payments")
def payments_section(customer_id: int):
    customer = get_customer(customer_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="payments"))
    return _payments_section(customer)


@bp.route("/<int:customer_id>/payments/new", methods=["GET", "POST"])
def new_payment(customer_id: int):
    customer = get_customer(customer_id)
    form = PaymentForm(currency=customer.currency)
    if form.validate_on_submit():
        payment = payments.record_payment(actors.current(), customer, form.values())
        flash(f"Payment of {money.show(payment.amount, payment.currency)} {payment.currency} recorded "
              f"({payment.status}).")
        return redirect(url_for("customers.show", customer_id=customer.id, _anchor="payments"), 303)
    return render_page("invoices/payment_form.html", customer=customer, form=form,
                       code=422 if form.is_submitted() else 200)


@bp.post("/<int:customer_id>/payments/<int:payment_id>/status")
def payment_status(customer_id: int, payment_id: int):
    customer = get_customer(customer_id)
    payment = get_payment(customer_id, payment_id, write=True)
    status = request.form.get("status", "")
    try:
        payments.set_status(actors.current(), payment, status)
    except payments.PaymentRefused as error:
        return _payments_section(customer, code=409, problem=str(error))
    response = _payments_section(customer, notice=f"Payment {payment.reference or payment.id} is {status}.")
    response.headers["HX-Trigger"] = "invoices-changed"
    return response


@bp.route("/<int:customer_id>/payments/<int:payment_id>/allocate", methods=["GET", "POST"])
def allocate(customer_id: int, payment_id: int):
    """Allocate Payment: amounts against the customer's open invoices, all or none."""
    customer = get_customer(customer_id)
    payment = get_payment(customer_id, payment_id)
    open_invoices = payments.open_invoices(actors.current(), customer.id)
    rest = payment.amount - payments.allocated([payment.id]).get(payment.id, Decimal(0))
    form = AllocationForm.for_invoices(open_invoices, payment.currency)
    problem = None
    if request.method == "POST":
        valid = form.validate()  # CSRF, the audit comment when it is required, and every amount by its field
        if not open_invoices:  # the page then shows no amounts to type: say why instead of asking for one
            problem = "No invoice of this customer has anything due any more."
        elif valid:
            try:
                made = payments.allocate(actors.current(), payment, form.amounts())
            except payments.PaymentRefused as error:
                problem = str(error)
            else:
                flash(f"Allocated to {len(made)} invoice{'s' if len(made) != 1 else ''}.")
                return redirect(url_for("customers.show", customer_id=customer.id, _anchor="payments"), 303)
    code = 422 if request.method == "POST" else 200
    return render_page("invoices/allocate.html", code=code, customer=customer, payment=payment, rows=open_invoices,
                       rest=rest, problem=problem, form=form)
