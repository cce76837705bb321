"""Staff routes of the store: Settings → Store (the catalogue, shipping rates, terms, payment instructions; for
admins: AREA_OF puts them in the Settings area) and the Orders pages: the list (filter by status and customer,
newest first by a cursor), an order's page with Record payment, Cancel and Mark shipped, and the orders and
quotes section of a customer's Main tab."""
from functools import wraps

from flask import abort, flash, redirect, request, url_for

from panel import access, pages
from panel import actor as actors
from panel.store import bp, catalogue, orders
from panel.store.forms import (CancelOrderForm, ConvertQuoteForm, ProductForm, RecordPaymentForm, ShipForm,
                               ShippingRateForm, StoreSettingsForm)
from panel.store.models import KINDS, ORDER_STATUSES, PAYMENT_METHODS, TABS
from panel.web import render_fragment, render_page

SETTINGS = "/settings/store"


def admin_only(view):
    @wraps(view)
    def guarded(*args, **kwargs):
        refused = access.require_admin()
        return refused if refused is not None else view(*args, **kwargs)

    return guarded


def _refused(form, error: catalogue.CatalogueError | orders.OrderRefused) -> None:
    """A refusal by the domain, shown by its field (or above the form when it names none)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [str(error)]
    else:
        form.form_errors.append(str(error))


def _product(product_id: int):
    product = catalogue.get_product(product_id)
    if product is None:
        abort(404, "There is no such product.")
    return product


@bp.get(SETTINGS)
@admin_only
def products():
    return render_page("store/products.html", products=catalogue.all_products(actors.current()), tabs=TABS, kinds=KINDS)


@bp.route(f"{SETTINGS}/products/new", methods=["GET", "POST"])
@admin_only
def product_new():
    form = ProductForm()
    if form.validate_on_submit():
        try:
            product = catalogue.create_product(actors.current(), form.values(), form.prices())
        except catalogue.CatalogueError as error:
            _refused(form, error)
        else:
            flash(f"Product {product.sku} added.")
            return redirect(url_for(".products"), 303)
    return render_page("store/product_form.html", form=form, product=None,
                       code=422 if form.is_submitted() else 200)


@bp.route(f"{SETTINGS}/products/<int:product_id>", methods=["GET", "POST"])
@admin_only
def product_edit(product_id: int):
    product = _product(product_id)
    form = ProductForm(obj=product if request.method == "GET" else None)
    if not form.is_submitted():
        for price in product.prices:
            getattr(form, f"price_{price.currency}").data = price.amount
    elif form.validate():
        try:
            catalogue.update_product(actors.current(), product, form.values(), form.prices())
        except catalogue.CatalogueError as error:
            _refused(form, error)
        else:
            flash(f"Product {product.sku} saved.")
            return redirect(url_for(".products"), 303)
    return render_page("store/product_form.html", form=form, product=product,
                       code=422 if form.is_submitted() else 200)


@bp.post(f"{SETTINGS}/products/<int:product_id>/retire")
@admin_only
def product_retire(product_id: int):
    product = _product(product_id)
    retired = catalogue.retire_product(actors.current(), product)
    flash(f"Product {product.sku} retired: customers no longer see it." if retired else
          f"Product {product.sku} was already retired.")
    return redirect(url_for(".products"), 303)


def _rate(rate_id: int):
    rate = catalogue.rate_named_by(rate_id)
    if rate is None:
        abort(404, "There is no such shipping rate.")
    return rate


@bp.get(f"{SETTINGS}/shipping")
@admin_only
def shipping_rates():
    return render_page("store/rates.html", rates=catalogue.shipping_rates(actors.current()))


def _rate_form(rate):
    form = ShippingRateForm()
    if form.validate_on_submit():
        try:
            saved = catalogue.save_shipping_rate(actors.current(), rate, form.name.data, form.position.data, form.prices())
        except catalogue.CatalogueError as error:
            _refused(form, error)
        else:
            flash(f"Shipping rate “{saved.name}” saved.")
            return redirect(url_for(".shipping_rates"), 303)
    elif not form.is_submitted() and rate is not None:
        form.name.data, form.position.data = rate.name, rate.position
        for currency, amount in rate.prices.items():
            getattr(form, f"price_{currency}").data = amount
    return render_page("store/rate_form.html", form=form, rate=rate, code=422 if form.is_submitted() else 200)


@bp.route(f"{SETTINGS}/shipping/new", methods=["GET", "POST"])
@admin_only
def rate_new():
    return _rate_form(None)


@bp.route(f"{SETTINGS}/shipping/<int:rate_id>", methods=["GET", "POST"])
@admin_only
def rate_edit(rate_id: int):
    return _rate_form(_rate(rate_id))


@bp.post(f"{SETTINGS}/shipping/<int:rate_id>/retire")
@admin_only
def rate_retire(rate_id: int):
    rate = _rate(rate_id)
    retired = catalogue.retire_shipping_rate(actors.current(), rate)
    flash(f"Shipping rate “{rate.name}” retired." if retired else f"Shipping rate “{rate.name}” was already retired.")
    return redirect(url_for(".shipping_rates"), 303)


@bp.route(f"{SETTINGS}/settings", methods=["GET", "POST"])
@admin_only
def store_settings():
    form = StoreSettingsForm()
    current = catalogue.store_settings()
    if form.validate_on_submit():
        try:
            saved = catalogue.save_store_settings(actors.current(), form.terms.data or "", form.wire_instructions.data or "",
                                                  form.cheque_instructions.data or "", form.quote_days.data)
        except catalogue.CatalogueError as error:
            _refused(form, error)
        else:
            flash(f"Store settings saved (Terms and Conditions version {saved.terms_version}).")
            return redirect(url_for(".store_settings"), 303)
    elif not form.is_submitted():
        form.terms.data, form.wire_instructions.data = current.terms, current.wire_instructions
        form.cheque_instructions.data, form.quote_days.data = current.cheque_instructions, current.quote_days
    return render_page("store/settings.html", form=form, current=current, code=422 if form.is_submitted() else 200)


# -- Orders --------------------------------------------------------------------------------------------------

MAIN_TAB_SIZE = 10


@bp.app_context_processor
def store_context():
    return {"store_payment_methods": PAYMENT_METHODS}


@bp.get("/orders")
def orders_list():
    actor = actors.current()
    status = request.args.get("status", "")
    status = status if status in ORDER_STATUSES else ""
    kind = "quote" if request.args.get("kind") == "quote" else "order"
    customer_text = request.args.get("customer_id", "")
    customer_id = int(customer_text) if customer_text.isdigit() and len(customer_text) <= 9 else None
    customer = access.fetch_customer(actor, customer_id) if customer_id else None
    page = orders.staff_orders(actor, status=status, customer_id=customer_id, kind=kind,
                               wanted=pages.requested(), size=orders.PAGE_SIZE)
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


def _order_action(order_number: str, form_class, slot: str, act, done: str):
    """An order page's form (Record payment, Cancel, Mark shipped): `act(actor, order, form)` on a valid form,
    then back to the order with `done`; a refusal comes back by its field on the order page (422)."""
    order = _order(order_number, write=True)
    form = form_class()
    if form.validate_on_submit():
        try:
            act(actors.current(), order, form)
        except orders.OrderRefused as error:
            _refused(form, error)
        else:
            flash(done.format(number=order.number))
            return redirect(url_for(".order_show", order_number=order.number), 303)
    return _order_page(order, 422, **{slot: form})


@bp.post("/orders/<order_number>/payment")
def order_payment(order_number: str):
    return _order_action(order_number, RecordPaymentForm, "payment_form",
                         lambda actor, order, form: orders.record_payment(actor, order, form.method.data,
                                                                          form.reference.data),
                         "Payment recorded: {number} is paid.")


@bp.post("/orders/<order_number>/cancel")
def order_cancel(order_number: str):
    return _order_action(order_number, CancelOrderForm, "cancel_form",
                         lambda actor, order, form: orders.cancel(actor, order, form.reason.data),
                         "{number} is cancelled.")


@bp.post("/orders/<order_number>/ship")
def order_ship(order_number: str):
    return _order_action(order_number, ShipForm, "ship_form",
                         lambda actor, order, form: orders.mark_shipped(actor, order, form.tracking_reference.data),
                         "{number} is marked shipped.")


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
                           orders=orders.customer_orders(actor, customer.id, "order", pages.requested(), size=MAIN_TAB_SIZE),
                           quotes=orders.customer_orders(actor, customer.id, "quote", size=MAIN_TAB_SIZE))
