"""Staff routes of the store: Settings → Store (the catalogue, shipping rates, terms, payment instructions)
and the Orders pages. The Settings pages are for admins (AREA_OF puts them in the Settings area)."""
from functools import wraps

from flask import abort, flash, redirect, request, url_for

from panel import access
from panel import actor as actors
from panel.store import bp, catalogue
from panel.store.models import KINDS, TABS
from panel.store.forms import ProductForm, ShippingRateForm, StoreSettingsForm
from panel.web import render_page

SETTINGS = "/settings/store"


def admin_only(view):
    @wraps(view)
    def guarded(*args, **kwargs):
        refused = access.require_admin()
        return refused if refused is not None else view(*args, **kwargs)

    return guarded


def _refused(form, error: catalogue.CatalogueError) -> None:
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
