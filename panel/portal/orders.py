"""Portal pages: Orders → History and Orders → Quotes, an order's (or quote's) page with its lines,
invoice, payment and shipment, a printable view, a quote's Convert and Copy to cart, and Retry payment of a
card order whose charge was declined. Lists are the shared keyset pages (panel/pages.py); every route is behind
Portal Access "store"."""
from flask import flash, jsonify, redirect, request, url_for

from panel import access, pages
from panel import actor as actors
from panel.cards import section as card_section
from panel.cards.section import allow_processor
from panel.portal import bp
from panel.portal.sections import section_required
from panel.store import checkout, orders, payment, rules
from panel.store.models import PAYMENT_METHODS
from panel.web import render_page


def _list(kind: str):
    actor = actors.current()
    customer = access.fetch_customer(actor, actor.customer_id)
    page = orders.customer_orders(actor, customer.id, kind, pages.requested(), orders.PAGE_SIZE)
    return render_page("portal/orders.html", customer=customer, page=page, kind=kind)


@bp.get("/orders")
@section_required("store")
def order_history():
    return _list("order")


@bp.get("/quotes")
@section_required("store")
def quotes():
    return _list("quote")


def _order(order_number: str):
    actor = actors.current()
    return orders.by_number(actor, order_number, customer_id=actor.customer_id)


def _page(order, code: int = 200, error: str = "", field_errors: dict | None = None, printable: bool = False):
    actor = actors.current()
    customer = access.fetch_customer(actor, order.customer_id)
    response = render_page(
        "portal/order.html", code=code, view=orders.view(order), error=error, field_errors=field_errors or {},
        printable=printable, cards=payment.cards_configured(), card_info=payment.card_info(actor, customer),
        card_message=payment.decline_message(order), chosen_card=request.form.get("card_choice", "")[:12],
        methods=PAYMENT_METHODS, may_order=rules.may_place_order(actor), terms_version=checkout.terms_version(),
        chosen=request.form.get("payment_method", ""))
    return allow_processor(response)


def _card_choice() -> str:
    form = request.form
    return payment.card_choice(form.get("card_choice", "")[:12], form.get("setup_intent", "")[:255],
                               form.get("save_card") == "1")


def _intent_purpose(order) -> str:
    return f"order:{order.number}"


def _wrong_intent(order) -> str | None:
    """A new card's SetupIntent must be the one this session was given for this order's payment."""
    if request.form.get("payment_method", "card") != "card":
        return None
    return payment.new_card_refusal(_card_choice(), card_section.issued_for(_intent_purpose(order)))


@bp.post("/orders/<order_number>/setup-intent")
@section_required("store")
def order_setup_intent(order_number: str):
    """A new card's SetupIntent for paying this order (Retry, or a quote's Convert); JSON, for static/cards.js."""
    order = _order(order_number)
    actor = actors.current()
    if not rules.may_place_order(actor):
        return jsonify(error=rules.order_refusal(actor) or payment.NOT_AVAILABLE), 403
    customer = access.fetch_customer(actor, order.customer_id)
    return card_section.payment_setup_intent(actor, customer, _intent_purpose(order))


@bp.get("/orders/<order_number>")
@section_required("store")
def order_page(order_number: str):
    return _page(_order(order_number))


@bp.get("/orders/<order_number>/print")
@section_required("store")
def order_print(order_number: str):
    return _page(_order(order_number), printable=True)


@bp.post("/orders/<order_number>/convert")
@section_required("store")
def quote_convert(order_number: str):
    quote = _order(order_number)
    wrong = _wrong_intent(quote)
    if wrong:
        return _page(quote, 422, field_errors={"card_choice": wrong})
    try:
        order = orders.convert_quote(actors.current(), quote, request.form.get("payment_method", ""),
                                     request.form.get("terms") == "1", _card_choice())
    except orders.OrderRefused as refused:
        if refused.field:
            return _page(quote, 422, field_errors={refused.field: str(refused)})
        return _page(quote, 409, error=str(refused))
    flash(f"{quote.number} is now order {order.number}.")
    return redirect(url_for("portal.order_page", order_number=order.number), 303)


@bp.post("/orders/<order_number>/pay")
@section_required("store")
def order_pay(order_number: str):
    """Retry: pay an order whose card charge was declined, with a saved or a new card."""
    order = _order(order_number)
    wrong = _wrong_intent(order)
    if wrong:
        return _page(order, 422, field_errors={"card_choice": wrong})
    try:
        orders.retry_card(actors.current(), order, _card_choice())
    except orders.OrderRefused as refused:
        if refused.field:
            return _page(order, 422, field_errors={refused.field: str(refused)})
        return _page(order, 409, error=str(refused))
    flash(f"{order.number} is paid.")
    return redirect(url_for("portal.order_page", order_number=order.number), 303)


@bp.post("/orders/<order_number>/copy")
@section_required("store")
def quote_copy(order_number: str):
    quote = _order(order_number)
    if quote.kind != "quote":
        return _page(quote, 409, error=f"{quote.number} is not a quote.")
    added, left_out = orders.copy_to_cart(actors.current(), quote)
    message = f"{added} line{'s' if added != 1 else ''} of {quote.number} added to your cart at today's prices."
    if left_out:
        message += f" No longer sold: {', '.join(left_out)}."
    flash(message)
    return redirect(url_for("portal.checkout_page"), 303)
