"""Portal pages: the Store's checkout (registered on the portal blueprint, behind its contact guard).

GET shows the cart's lines with a deployment picker for each deployment-specific line (Apply to All), an
organisation choice for each organisation-specific line, shipping when a line needs it (the total follows
the rate by htmx), the payment method with the wire and cheque instructions, Quote, the PO number and the
terms; it makes the checkout token. POST hands everything to panel/store/checkout.py `place`, which checks
it all again: a refusal comes back 422 with each message by its field and everything typed kept. Credit Card
offers the saved cards or a new one through the processor's card element (the page's Content-Security-Policy
lets the processor in: `allow_processor`); a declined charge lands on the order's page with its message and
Retry (panel/store/payment.py). Every route is behind Portal Access "store".
"""
from flask import jsonify, redirect, request, url_for
from jinja2_fragments.flask import render_block

from panel import access
from panel import actor as actors
from panel.deployments import records
from panel.deployments.models import Deployment
from panel.extensions import db
from panel.deployments.section import render_results
from panel.cards import section as card_section
from panel.cards.section import allow_processor
from panel.portal import bp
from panel.portal.sections import section_required
from panel.store import checkout, payment, rules
from panel.store.models import DEPLOYMENT_KINDS, ORGANISATION_KINDS, PAYMENT_METHODS
from panel.web import render_page, search_text

TEMPLATE = "portal/checkout.html"


def _submission(form, lines) -> checkout.Submission:
    return checkout.Submission(
        token=form.get("token", ""),
        deployments={line.id: form.get(f"deployment-{line.id}", "") for line in lines
                     if line.product.kind in DEPLOYMENT_KINDS},
        organisations={line.id: form.get(f"organisation-{line.id}", "") for line in lines
                       if line.product.kind in ORGANISATION_KINDS},
        shipping_rate_id=form.get("shipping_rate_id", ""), shipping_address=form.get("shipping_address", "")[:2000],
        payment_method=form.get("payment_method", ""), quote=form.get("quote") == "1",
        has_po=form.get("has_po") == "yes", po_number=form.get("po_number", "")[:200],
        terms=form.get("terms") == "1",
        card_choice=payment.card_choice(form.get("card_choice", "")[:12], form.get("setup_intent", "")[:255],
                                        form.get("save_card") == "1"),
        issued_setup_intent=card_section.issued_for(checkout.intent_purpose(form.get("token", ""))))


def _deployment_texts(submission: checkout.Submission) -> dict[int, str]:
    """What each picker's box shows again: the picked deployment's label."""
    texts = {}
    for line_id, text in submission.deployments.items():
        deployment = db.session.get(Deployment, int(text)) if text.isdigit() and len(text) <= 9 else None
        if deployment is not None and access.can_see_customer(actors.current(), deployment.customer_id):
            texts[line_id] = records.label(deployment)
    return texts


def _context(actor, customer, submission: checkout.Submission, errors: dict, lines=None):
    lines = checkout.cart_lines(actor) if lines is None else lines
    terms_version, instructions = checkout.page_texts()
    rows = checkout.priced(lines, customer.currency)
    rates = checkout.shipping_rates(customer.currency)
    ships = checkout.needs_shipping(lines)
    rate = checkout.rate_for(customer.currency, submission.shipping_rate_id) if ships else None
    if ships and rate is None and not submission.shipping_rate_id and rates:
        rate = rates[0]
        submission.shipping_rate_id = str(rate.id)
    subtotal, shipping, total = checkout.totals([r for r in rows if r.unit_price is not None], rate, customer.currency)
    return dict(customer=customer, rows=rows, rates=rates, ships=ships, rate=rate, subtotal=subtotal,
                shipping=shipping, total=total, submission=submission, errors=errors,
                organisations=checkout.organisations(actor), deployment_texts=_deployment_texts(submission),
                cards=payment.cards_configured(), card_info=payment.card_info(actor, customer), methods=PAYMENT_METHODS,
                instructions=instructions, may_order=rules.may_place_order(actor), may_quote=rules.may_quote(actor),
                terms_version=terms_version, DEPLOYMENT_KINDS=DEPLOYMENT_KINDS,
                ORGANISATION_KINDS=ORGANISATION_KINDS)


@bp.get("/store/checkout")
@section_required("store")
def checkout_page():
    actor = actors.current()
    customer = access.fetch_customer(actor, actor.customer_id)
    submission = checkout.Submission(token=checkout.new_token(), shipping_address=checkout.default_address(customer),
                                     quote=not rules.may_place_order(actor))
    lines = checkout.cart_lines(actor)
    submission.organisations = {line.id: str(customer.id) for line in lines if line.product.kind in ORGANISATION_KINDS}
    return allow_processor(render_page(TEMPLATE, **_context(actor, customer, submission, {}, lines)))


@bp.get("/store/checkout/totals")
@section_required("store")
def checkout_totals():
    """The totals block again for another shipping rate (htmx, when the rate changes)."""
    actor = actors.current()
    customer = access.fetch_customer(actor, actor.customer_id)
    submission = checkout.Submission(shipping_rate_id=request.args.get("shipping_rate_id", "")[:12])
    response = render_block(TEMPLATE, "totals", **_context(actor, customer, submission, {}))
    return response, 200, {"Vary": "HX-Request"}


@bp.post("/store/checkout/setup-intent")
@section_required("store")
def checkout_setup_intent():
    """A new card's SetupIntent for this checkout (static/cards.js asks for it; JSON): kept in the session under
    the checkout's token, so Process Order takes no other. Here, not on the Cards page, so paying by a new card
    works with the stored-cards section hidden."""
    actor = actors.current()
    customer = access.fetch_customer(actor, actor.customer_id)
    if not rules.may_place_order(actor):
        return jsonify(error=rules.order_refusal(actor) or payment.NOT_AVAILABLE), 403
    token = request.args.get("token", "")[:64]
    if not token:
        return jsonify(error="Open the checkout again."), 422
    return card_section.payment_setup_intent(actor, customer, checkout.intent_purpose(token))


@bp.get("/store/checkout/deployments")
@section_required("store")
def checkout_deployments():
    """The checkout's deployment picker: the contact's reach (an Admin's tree), of the product's line if it has one."""
    actor = actors.current()
    query = search_text("q")
    product = search_text("product_line", 20) or None
    if actor.manages_tree:
        page = records.find(actor, query, tree_root=actor.customer_id, product=product)
    else:
        page = records.find(actor, query, customer_id=actor.customer_id, product=product)
    return render_results(page, query, show_customer=actor.manages_tree)


@bp.post("/store/checkout")
@section_required("store")
def checkout_submit():
    actor = actors.current()
    customer = access.fetch_customer(actor, actor.customer_id)
    lines = checkout.cart_lines(actor)
    submission = _submission(request.form, lines)
    try:
        order = checkout.place(actor, submission)
    except checkout.CheckoutRefused as refused:
        return allow_processor(render_page(TEMPLATE, code=422, **_context(actor, customer, submission, refused.errors,
                                                                          lines)))
    return redirect(url_for("portal.order_page", order_number=order.number), 303)
