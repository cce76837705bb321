"""Staff routes of the store: Settings → Store (the catalogue, shipping rates, terms, payment instructions)
and the Orders pages: the list (filter by status and customer, newest first by a cursor), an order's page
with Record payment, Cancel and Mark shipped, and the orders and quotes section of a customer's Main tab."""
from flask import flash, redirect, request, url_for

from panel import access
from panel import actor as actors
from panel.store import bp, orders
from panel.store.forms import CancelOrderForm, ConvertQuoteForm, RecordPaymentForm, ShipForm
from panel.store.models import ORDER_STATUSES, PAYMENT_METHODS
from panel.web import render_fragment, render_page

MAIN_TAB_SIZE = 10


@bp.app_context_processor
def store_context():
    return {"store_payment_methods": PAYMENT_METHODS}


def _cursor() -> int | None:
    text = request.args.get("before", "")
    return int(text) if text.isdigit() and len(text) <= 10 and int(text) <= 2**31 - 1 else None


@bp.get("/orders")
def orders_list():
    actor = actors.current()
    status = request.args.get("status", "")
    status = status if status in ORDER_STATUSES else ""
    kind = "quote" if request.args.get("kind") == "quote" else "order"
    customer_text = request.args.get("customer_id", "")
    customer_id = int(customer_text) if customer_text.isdigit() and len(customer_text) <= 9 else None
    customer = access.fetch_customer(actor, customer_id) if customer_id else None
    page = orders.staff_orders(actor, status=status, customer_id=customer_id, kind=kind, before_id=_cursor())
    return render_page("store/orders.html", "results", page=page, status=status, kind=kind, customer=customer,
                       statuses=ORDER_STATUSES)


def _order(order_number: str, write: bool = False):
    order = orders.by_number(actors.current(), order_number)
    if write:
        access.require(actors.current(), order, write=True)
    return order


def _order_page(order, code: int = 200, payment_form=None, cancel_form=None, ship_form=None, convert_form=None):
    return render_page("store/order.html", code=code, view=orders.view(order),
                       customer=access.fetch_customer(actors.current(), order.customer_id),
                       payment_form=payment_form or RecordPaymentForm(formdata=None),
                       cancel_form=cancel_form or CancelOrderForm(formdata=None),
                       ship_form=ship_form or ShipForm(formdata=None),
                       convert_form=convert_form or ConvertQuoteForm(formdata=None))


@bp.get("/orders/<order_number>")
def order_show(order_number: str):
    return _order_page(_order(order_number))


def _refused(form, error: orders.OrderRefused):
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = [str(error)]
    else:
        form.form_errors.append(str(error))


@bp.post("/orders/<order_number>/payment")
def order_payment(order_number: str):
    order = _order(order_number, write=True)
    form = RecordPaymentForm()
    if form.validate_on_submit():
        try:
            orders.record_payment(actors.current(), order, form.method.data, form.reference.data)
        except orders.OrderRefused as error:
            _refused(form, error)
        else:
            flash(f"Payment recorded: {order.number} is paid.")
            return redirect(url_for(".order_show", order_number=order.number), 303)
    return _order_page(order, 422, payment_form=form)


@bp.post("/orders/<order_number>/cancel")
def order_cancel(order_number: str):
    order = _order(order_number, write=True)
    form = CancelOrderForm()
    if form.validate_on_submit():
        try:
            orders.cancel(actors.current(), order, form.reason.data)
        except orders.OrderRefused as error:
            _refused(form, error)
        else:
            flash(f"{order.number} is cancelled.")
            return redirect(url_for(".order_show", order_number=order.number), 303)
    return _order_page(order, 422, cancel_form=form)


@bp.post("/orders/<order_number>/ship")
def order_ship(order_number: str):
    order = _order(order_number, write=True)
    form = ShipForm()
    if form.validate_on_submit():
        try:
            orders.mark_shipped(actors.current(), order, form.tracking_reference.data)
        except orders.OrderRefused as error:
            _refused(form, error)
        else:
            flash(f"{order.number} is marked shipped.")
            return redirect(url_for(".order_show", order_number=order.number), 303)
    return _order_page(order, 422, ship_form=form)


@bp.post("/orders/<order_number>/convert")
def quote_convert(order_number: str):
    quote = _order(order_number, write=True)
    form = ConvertQuoteForm()
    if form.validate_on_submit():
        try:
            order = orders.convert_quote(actors.current(), quote, form.method.data, form.terms.data)
        except orders.OrderRefused as error:
            if error.field == "payment_method":
                error.field = "method"
            _refused(form, error)
        else:
            flash(f"{quote.number} is now order {order.number}.")
            return redirect(url_for(".order_show", order_number=order.number), 303)
    return _order_page(quote, 422, convert_form=form)


@bp.get("/customers/<int:customer_id>/orders")
def customer_orders_section(customer_id: int):
    """The Main tab's Orders and quotes section (loaded by htmx when the tab opens)."""
    actor = actors.current()
    customer = access.fetch_customer(actor, customer_id)
    return render_fragment("store/_customer_orders.html", customer=customer,
                           orders=orders.customer_orders(actor, customer.id, "order", size=MAIN_TAB_SIZE),
                           quotes=orders.customer_orders(actor, customer.id, "quote", size=MAIN_TAB_SIZE))
