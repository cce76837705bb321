"""The Cards tab's view helpers, shared by the staff customer record (panel/cards/routes.py) and the portal
(panel/portal/cards.py): one template, `CardLinks` says where its links and forms go; and the one place that
widens the Content-Security-Policy for a page that runs the processor's card element (the store's checkout
uses it too).

Adding a card: the page holds an empty form; static/cards.js mounts the card element, asks the panel for a
SetupIntent (a JSON answer: its client secret never appears in a page), confirms it with the card typed, and
posts the SetupIntent's id, which must be the one this session was given for this customer.
"""
from dataclasses import dataclass

from flask import abort, flash, jsonify, redirect, request, session, url_for

from panel import CSP
from panel.actor import Actor
from panel.cards import cards as card_rules
from panel.cards.processor import origin
from panel.customers.models import Customer
from panel.web import render_page

ISSUED = "card_setup_intents"  # session: customer id → the SetupIntent id issued to this browser
# session: what a payment's SetupIntent was issued for ("checkout:<token>", "order:<number>") → its id. Only the
# last few are kept: a browser pays in a few tabs at most.
PAYMENT_INTENTS, KEPT_PAYMENT_INTENTS = "card_payment_intents", 8
STRIPE_FRAMES = "https://hooks.stripe.com"
PORTAL_ENDPOINTS = {"cards": "portal.cards", "new": "portal.new_card", "setup_intent": "portal.card_setup_intent",
                    "create": "portal.create_card", "default": "portal.default_card", "remove": "portal.remove_card"}


@dataclass(frozen=True)
class CardLinks:
    side: str  # "staff" or "portal"
    customer_id: int

    @property
    def base(self) -> str:
        return "portal/base.html" if self.side == "portal" else "base.html"

    def url(self, name: str, **args) -> str:
        """name: cards, new, setup_intent, create, default, remove."""
        if self.side == "portal":
            return url_for(PORTAL_ENDPOINTS[name], **args)
        return url_for(f"cards.{name}", customer_id=self.customer_id, **args)


def staff_links(customer_id: int) -> CardLinks:
    return CardLinks("staff", customer_id)


def portal_links(customer_id: int) -> CardLinks:
    return CardLinks("portal", customer_id)


def allow_processor(response):
    """Let this one page load the processor's script and frames and reach its API (every other page keeps
    script-src 'self' only)."""
    availability = card_rules.availability()
    if not availability.available:
        return response
    proc = card_rules.processor()
    script, api = origin(proc.js_url), origin(proc.api_base)
    frames = " ".join(dict.fromkeys(o for o in (script, STRIPE_FRAMES if not proc.stand_in else "") if o))
    policy = {}
    for part in CSP.split(";"):
        name, _, value = part.strip().partition(" ")
        policy[name] = value
    policy["script-src"] = f"'self' {script}"
    policy["connect-src"] = f"'self' {api}"
    policy["frame-src"] = f"'self' {frames}"
    response.headers["Content-Security-Policy"] = "; ".join(f"{k} {v}" for k, v in policy.items())
    return response


def cards_page(actor: Actor, customer: Customer, links: CardLinks, *, code: int = 200, error: str | None = None):
    found = card_rules.list_cards(actor, customer)
    return render_page("cards/cards.html", customer=customer, cards=found, links=links, error=error,
                       availability=card_rules.availability(), can_change=card_rules.may_change(actor, customer),
                       charges=card_rules.charges_of(actor, customer), code=code)


def new_card_page(actor: Actor, customer: Customer, links: CardLinks, *, code: int = 200, error: str | None = None):
    if not card_rules.may_change(actor, customer):
        card_rules.list_cards(actor, customer)  # 404 for whoever may not see them
        abort(403, "You may see these cards but not add one.")
    response = render_page("cards/new.html", customer=customer, links=links, error=error,
                           availability=card_rules.availability(), code=code)
    return allow_processor(response)


def setup_intent(actor: Actor, customer: Customer):
    """The JSON answer static/cards.js asks for: a SetupIntent's client secret for the card element."""
    try:
        intent = card_rules.start_adding(actor, customer)
    except card_rules.CardsUnavailable as missing:
        return jsonify(error=str(missing)), 409
    except card_rules.CardRefused as refused:
        return jsonify(error=str(refused)), 409
    issued = dict(session.get(ISSUED) or {})
    issued[str(customer.id)] = intent.id
    session[ISSUED] = issued
    return jsonify(client_secret=intent.client_secret)


def payment_setup_intent(actor: Actor, customer: Customer, purpose: str):
    """The JSON answer static/cards.js asks for when a payment uses a new card: a SetupIntent's client secret,
    its id kept in the session for `purpose` (this checkout, this order), so a payment accepts only the
    SetupIntent the panel started for it (`issued_for`)."""
    try:
        intent = card_rules.start_adding(actor, customer)
    except (card_rules.CardsUnavailable, card_rules.CardRefused) as refused:
        return jsonify(error=str(refused)), 409
    issued = {k: v for k, v in (session.get(PAYMENT_INTENTS) or {}).items() if k != purpose}
    issued[purpose] = intent.id
    session[PAYMENT_INTENTS] = dict(list(issued.items())[-KEPT_PAYMENT_INTENTS:])
    return jsonify(client_secret=intent.client_secret)


def issued_for(purpose: str) -> str | None:
    """The id of the SetupIntent this session was given for `purpose`, if any."""
    return (session.get(PAYMENT_INTENTS) or {}).get(purpose)


def add_card(actor: Actor, customer: Customer, links: CardLinks):
    posted = (request.form.get("setup_intent") or "").strip()
    issued = (session.get(ISSUED) or {}).get(str(customer.id))
    if not posted or posted != issued:
        return new_card_page(actor, customer, links, code=422,
                             error="The card was not set up: enter its details and press Save card again.")
    try:
        card = card_rules.add_from_setup_intent(actor, customer, posted)
    except card_rules.CardsUnavailable as missing:
        return new_card_page(actor, customer, links, code=409, error=str(missing))
    except card_rules.CardRefused as refused:
        return new_card_page(actor, customer, links, code=422, error=str(refused))
    issued = dict(session.get(ISSUED) or {})
    issued.pop(str(customer.id), None)
    session[ISSUED] = issued
    flash(f"{card.label} is saved{' as the default card' if card.is_default else ''}.")
    return redirect(links.url("cards"), 303)


def make_default(actor: Actor, customer: Customer, card_id: int, links: CardLinks):
    card = card_rules.get_card(actor, customer, card_id)
    card_rules.set_default(actor, customer, card)
    flash(f"{card.label} is the default card.")
    return redirect(links.url("cards"), 303)


def remove(actor: Actor, customer: Customer, card_id: int, links: CardLinks):
    card = card_rules.get_card(actor, customer, card_id)
    try:
        card_rules.remove_card(actor, customer, card)
    except card_rules.CardRefused as refused:
        return cards_page(actor, customer, links, code=409, error=str(refused))
    flash(f"{card.label} is removed.")
    return redirect(links.url("cards"), 303)

