"""Portal pages: the Store (registered on the portal blueprint, behind its contact guard).

One template (templates/store/portal.html) serves the tabs, the categories, the items, a product's details,
the plan wizard and the cart; an htmx request gets the block it swaps (the cart after a change, the wizard's
next step, the add form's answer with the cart out of band). Who may buy is panel/store/rules.py's answer;
the cart is the contact's own (panel/store/cart.py), never named by anything but the session.
"""
from flask import abort, make_response, redirect, request, url_for
from jinja2_fragments.flask import render_block

from panel import actor as actors
from panel import pages
from panel.portal import bp
from panel.portal.sections import section_required
from panel.store import cart as carts
from panel.store import catalogue, rules
from panel.store.forms import AddToCartForm, QuantityForm
from panel.store.models import KINDS, TABS
from panel.web import render_page, wants_fragment

TEMPLATE = "store/portal.html"
DEFAULT_TAB = "support"


def _text(name: str, limit: int = 100) -> str:
    return " ".join(request.values.get(name, "")[:limit].split())


def _cart_context(actor, tab: str | None = None, category: str | None = None, **extra) -> dict:
    """What the cart block needs, and no more: a change to the cart answers with this block alone, so it reads
    neither the tabs nor the category's items."""
    context = {
        "cart": carts.view(actor), "currency": carts.currency_of(actor), "tab": tab if tab in TABS else DEFAULT_TAB,
        "category": category, "refusal": rules.checkout_refusal(actor), "order_refusal": rules.order_refusal(actor),
        "line_errors": {}, "typed": {}, "oob": False,
    }
    context.update(extra)
    return context


def _context(actor, tab: str | None = None, category: str | None = None, **extra) -> dict:
    """What every Store page shows: tabs, the categories of the tab, a page of its items (or the plan wizard, or
    a product's details), the cart."""
    currency = carts.currency_of(actor)
    menu = catalogue.menu(currency)
    tabs = list(menu) or [DEFAULT_TAB]
    tab = tab if tab in TABS else DEFAULT_TAB
    categories = menu.get(tab, [])
    category = category if category in categories else (categories[0] if categories else None)
    page = catalogue.items_page(currency, tab, category, pages.requested()) \
        if category and extra.get("detail") is None else None
    items = page.items if page is not None else []
    context = _cart_context(actor, tab, category)
    context.update({
        "tabs": tabs, "tab_names": TABS, "kinds": KINDS, "categories": categories, "items": items, "page": page,
        "detail": None, "wizard": None, "may_buy": rules.may_check_out(actor), "failed": None, "add_form": None,
        "added": None, "add_item": None,
    })
    if _is_wizard(page):
        context["wizard"] = _wizard(items)
    context.update(extra)
    return context


def _is_wizard(page) -> bool:
    """A category of support plans of product lines, all on one page, is chosen in three steps."""
    return bool(page is not None and page.items and not page.has_prev and not page.has_next
                and all(i.product.kind == "plan" and i.product.product_line for i in page.items))


def _wizard(items) -> dict:
    """The three-step plan choice: 1 the product line, 2 the term, 3 confirm and add."""
    lines = sorted({i.product.product_line for i in items})
    line = _text("line", 20)
    line = line if line in lines else None
    terms = [i for i in items if i.product.product_line == line] if line else []
    chosen = next((i for i in terms if str(i.product.id) == request.values.get("product", "")), None)
    step = 3 if chosen else 2 if line else 1
    return {"lines": lines, "line": line, "terms": terms, "chosen": chosen, "step": step}


def _page(actor, code: int = 200, block: str | None = None, **context):
    return render_page(TEMPLATE, block, code=code, **_context(actor, **context))


@bp.get("/store")
@section_required("store")
def store():
    actor = actors.current()
    if not rules.may_browse(actor):
        abort(403, rules.checkout_refusal(actor))
    block = "wizard" if getattr(request, "htmx", None) and request.htmx.target == "wizard" else None
    return _page(actor, block=block, tab=_text("tab", 20) or DEFAULT_TAB, category=_text("category") or None)


@bp.get("/store/products/<int:product_id>")
@section_required("store")
def store_product(product_id: int):
    """A product's details (only one the customer sees: priced in its currency, not retired)."""
    actor = actors.current()
    if not rules.may_browse(actor):
        abort(403, rules.checkout_refusal(actor))
    found = catalogue.item(carts.currency_of(actor), product_id)
    if found is None:
        abort(404, "That product is not in the Store.")
    return _page(actor, tab=found.product.tab, category=found.product.category, detail=found)


def _back():
    """Where a change made without JavaScript returns: the Store page it was made on."""
    tab, category = _text("tab", 20), _text("category")
    return redirect(url_for("portal.store", tab=tab or None, category=category or None), 303)


@bp.post("/store/cart")
@section_required("store")
def store_add():
    """Add to cart. htmx gets the add form's answer and the cart (out of band); a refusal keeps the cart."""
    actor = actors.current()
    if not rules.may_check_out(actor):
        abort(403, rules.checkout_refusal(actor))
    form = AddToCartForm()
    error = None
    product_id = int(form.product_id.data) if (form.product_id.data or "").isdigit() and len(form.product_id.data) < 10 else None
    if form.validate():
        try:
            carts.add(actor, product_id, form.quantity.data)
        except carts.CartError as refused:
            error = str(refused)
    else:
        error = next(iter(form.quantity.errors), None) or next(iter(form.product_id.errors), None) \
            or "Check the quantity."
    if error is None and not wants_fragment():
        return _back()
    found = catalogue.item(carts.currency_of(actor), product_id) if product_id else None
    failed = {"product_id": product_id, "error": error, "typed": request.form.get("quantity", "")[:20]} if error else None
    tab = _text("tab", 20) or (found.product.tab if found else None)
    category = _text("category") or (found.product.category if found else None)
    answer = {"failed": failed, "added": found if error is None else None, "add_item": found}
    code = 422 if error else 200
    if not wants_fragment():
        return render_page(TEMPLATE, code=code, **_context(actor, tab=tab, category=category, **answer))
    # The form's answer and the cart: the category's items are read only to tell a plan wizard's form.
    wizard = found is not None and found.product.kind == "plan" and _is_wizard(
        catalogue.items_page(carts.currency_of(actor), found.product.tab, found.product.category, pages.FIRST))
    context = _cart_context(actor, tab, category, wizard=wizard, **answer)
    body = render_block(TEMPLATE, "add_result", **context) + render_block(TEMPLATE, "cart", **{**context, "oob": True})
    return _fragment(body, code)


def _fragment(body: str, code: int):
    response = make_response(body, code)
    response.vary.add("HX-Request")
    return response


def _cart_answer(actor, code: int = 200, **extra):
    """htmx gets the cart block alone; a change made without JavaScript returns to its Store page (a refused one
    shows that page with the message by the field)."""
    tab, category = _text("tab", 20) or None, _text("category") or None
    if wants_fragment():
        return render_page(TEMPLATE, "cart", code=code, **_cart_context(actor, tab, category, **extra))
    if code < 400:
        return _back()
    return _page(actor, code=code, tab=tab, category=category, **extra)


@bp.post("/store/cart/lines/<int:line_id>")
@section_required("store")
def store_line_quantity(line_id: int):
    actor = actors.current()
    line = carts.line_of(actor, line_id)
    form = QuantityForm()
    if form.validate():
        try:
            carts.set_quantity(actor, line, form.quantity.data)
        except carts.CartError as refused:
            form.quantity.errors = [str(refused)]
        else:
            return _cart_answer(actor)
    return _cart_answer(actor, code=422, line_errors={line.id: list(form.quantity.errors)[:1]},
                        typed={line.id: request.form.get("quantity", "")[:20]})


@bp.post("/store/cart/lines/<int:line_id>/remove")
@section_required("store")
def store_line_remove(line_id: int):
    actor = actors.current()
    line = carts.line_of(actor, line_id)
    carts.remove(actor, line)
    return _cart_answer(actor)
