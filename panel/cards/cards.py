"""A customer's stored cards and the charges made on them: the rules, for the staff record, the portal and the
store alike.

- Who: staff with the payments area (write to change), and in the portal the Admin and Billing contacts of
  their own customer (not of sub-accounts seen through a reseller's tree). Staff in Portal Login see the
  cards but neither add, change nor charge them: paying is the contact's own act.
- Without a processor (no STRIPE_SECRET_KEY) nothing here pretends: `CardsUnavailable`.
- A charge is made at most once per idempotency key (the store: one per order). Each attempt is a
  `CardCharge` row written and committed *before* the processor is asked, so a crash or a timeout leaves a
  pending charge that the worker reconciles by asking the processor (`reconcile_job`); a new attempt is made
  only after the last one was declined.

Domain functions flush and do not commit, with one named exception: `charge_card` ends the caller's unit of
work (`unit_of_work.complete()`) before it asks the processor and again when the answer is recorded, because
the record of money asked for must outlive whatever happens to the request that asked (see its docstring).
"""
import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, current_app

from panel import access, unit_of_work
from panel import money
from panel.actor import Actor
from panel.cards import processor as processors
from panel.cards.models import UNSETTLED, CardCharge, ProcessorCustomer, StoredCard, brand_name
from panel.cards.processor import CardDeclined, ChargeResult, ProcessorUnavailable
from panel.customers.models import Customer
from panel.extensions import db
from panel.types import utcnow

log = logging.getLogger("panel.cards")

PORTAL_CONTACT_TYPES = ("Admin", "Billing")
NOT_AVAILABLE = "Card payments are not available: no payment processor is set up."
NO_CARD = "This customer has no such card."
# A pending charge younger than this may still be waiting for its answer: the worker leaves it alone.
RECONCILE_AFTER = timedelta(minutes=1)
# A charge the processor still has no trace of after this never reached it: nothing was charged.
NEVER_ARRIVED_AFTER = timedelta(minutes=15)
UNKNOWN_MESSAGE = ("The payment processor did not answer. The charge is being checked with it and will not be "
                   "made twice.")
# Functions called with each charge the worker settles (the store marks its order paid or unpaid): the
# area that needs them registers them at start-up, so this module imports none of them.
SETTLED_HOOKS: list = []


class CardsUnavailable(Exception):
    """No payment processor is set up."""


class CardRefused(Exception):
    """A card rule refused the change (or the processor refused the card); the message says why."""


@dataclass(frozen=True)
class NewCard:
    """A card typed into the card element for this payment: a SetupIntent the browser confirmed, or a payment
    method the processor made. `save`: keep it as a stored card ("Save credit card")."""

    setup_intent_id: str | None = None
    payment_method_id: str | None = None
    save: bool = False


@dataclass(frozen=True)
class Availability:
    available: bool
    test_mode: bool = False
    publishable_key: str = ""
    js_url: str = ""


# -- the processor ----------------------------------------------------------------------------------

def processor() -> "processors.Processor | None":
    """The app's processor (one per set of settings), or None when cards are not available."""
    config = current_app.config
    settings = tuple(config.get(name) or "" for name in
                     ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_API_BASE", "STRIPE_JS_URL"))
    cached = current_app.extensions.get("cards.processor")
    if cached is None or cached[0] != settings:
        cached = (settings, processors.from_config(config))
        current_app.extensions["cards.processor"] = cached
    return cached[1]


def availability() -> Availability:
    found = processor()
    if found is None:
        return Availability(False)
    return Availability(True, found.test_mode, found.publishable_key, found.js_url)


def _processor_or_refuse():
    found = processor()
    if found is None:
        raise CardsUnavailable(NOT_AVAILABLE)
    return found


# -- who ----------------------------------------------------------------------------------------------

def may_view(actor: Actor, customer: Customer) -> bool:
    """The Cards tab: staff who may see the customer; in the portal, the Admin and Billing contacts of their own
    customer only (a sub-account's cards are its own contacts' business)."""
    if actor.in_portal:
        return customer.id == actor.customer_id and actor.contact.contact_type in PORTAL_CONTACT_TYPES
    if actor.is_system:
        return True
    return access.can_see_customer(actor, customer.id) and actor.may("payments")


def may_change(actor: Actor, customer: Customer) -> bool:
    if not may_view(actor, customer):
        return False
    if actor.in_portal:
        return not actor.impersonated
    return actor.is_system or (access.can_change_customer(actor, customer.id) and actor.may("payments", write=True))


def _require_view(actor: Actor, customer: Customer) -> None:
    access.require(actor, customer)
    if not may_view(actor, customer):
        abort(404, NO_CARD if actor.in_portal else "You may not see this customer's cards.")


def _require_change(actor: Actor, customer: Customer) -> None:
    _require_view(actor, customer)
    if not may_change(actor, customer):
        abort(403, "Staff in Portal Login may not add, change or pay with the contact's cards."
              if actor.impersonated else "You may see these cards but not change them.")


# -- stored cards -------------------------------------------------------------------------------------

def list_cards(actor: Actor, customer: Customer) -> list[StoredCard]:
    """The customer's cards (not removed), the default first."""
    _require_view(actor, customer)
    return list(db.session.scalars(
        sa.select(StoredCard).where(StoredCard.customer_id == customer.id, StoredCard.removed_at.is_(None))
        .order_by(StoredCard.is_default.desc(), StoredCard.id)))


def get_card(actor: Actor, customer: Customer, card_id: int) -> StoredCard:
    """Fetch-or-abort: 404 unless it is this customer's card, not removed, and the actor may see the cards."""
    _require_view(actor, customer)
    card = access.fetch(actor, StoredCard, card_id, customer_id=customer.id, message=NO_CARD)
    if not card.active:
        abort(404, NO_CARD)
    return card


def _account(proc, customer: Customer) -> ProcessorCustomer:
    """The processor's customer of this customer, made the first time it is needed."""
    account = db.session.scalar(sa.select(ProcessorCustomer).where(ProcessorCustomer.customer_id == customer.id))
    if account is not None:
        return account
    try:
        ref = proc.ensure_customer(None, name=customer.name, email=customer.email or "", reference=str(customer.id))
    except ProcessorUnavailable as trouble:
        raise CardRefused(f"{trouble} Try again in a moment.") from None
    except CardDeclined as refused:
        raise CardRefused(str(refused)) from None
    try:
        with db.session.begin_nested():  # two tabs at once: the processor gave both the same customer
            account = ProcessorCustomer(customer_id=customer.id, processor_customer_id=ref)
            db.session.add(account)
    except sa.exc.IntegrityError:
        account = db.session.scalar(sa.select(ProcessorCustomer).where(ProcessorCustomer.customer_id == customer.id))
    return account


def start_adding(actor: Actor, customer: Customer) -> processors.SetupIntent:
    """A SetupIntent for the card element: the browser confirms it with the card typed, then posts its id."""
    _require_change(actor, customer)
    proc = _processor_or_refuse()
    account = _account(proc, customer)
    try:
        return proc.create_setup_intent(account.processor_customer_id)
    except ProcessorUnavailable as trouble:
        raise CardRefused(f"{trouble} Try again in a moment.") from None
    except CardDeclined as refused:
        raise CardRefused(str(refused)) from None


def _store(actor: Actor, customer: Customer, details: processors.CardDetails) -> StoredCard:
    existing = db.session.scalar(sa.select(StoredCard).where(StoredCard.payment_method_id == details.payment_method_id))
    if existing is not None:
        if existing.customer_id != customer.id or not existing.active:
            raise CardRefused("The card was not set up: try again.")
        return existing  # the same confirmation posted twice
    has_default = db.session.scalar(sa.select(sa.func.count()).select_from(StoredCard).where(
        StoredCard.customer_id == customer.id, StoredCard.removed_at.is_(None), StoredCard.is_default))
    card = StoredCard(customer_id=customer.id, payment_method_id=details.payment_method_id, brand=details.brand[:20],
                      last4=details.last4[-4:], exp_month=details.exp_month, exp_year=details.exp_year,
                      is_default=not has_default, created_by=actor.label[:200])
    db.session.add(card)
    db.session.flush()
    return card


def add_from_setup_intent(actor: Actor, customer: Customer, setup_intent_id: str) -> StoredCard:
    """Store the card a confirmed SetupIntent of this customer saved (the first card becomes the default).
    CardRefused if the SetupIntent is not this customer's, not confirmed, or its card was declined."""
    _require_change(actor, customer)
    proc = _processor_or_refuse()
    account = db.session.scalar(sa.select(ProcessorCustomer).where(ProcessorCustomer.customer_id == customer.id))
    if account is None:
        raise CardRefused("The card was not set up: try again.")
    try:
        details = proc.confirmed_setup((setup_intent_id or "").strip()[:255], account.processor_customer_id)
    except ProcessorUnavailable as trouble:
        raise CardRefused(f"{trouble} Try again in a moment.") from None
    except CardDeclined as refused:
        raise CardRefused(str(refused)) from None
    return _store(actor, customer, details)


def set_default(actor: Actor, customer: Customer, card: StoredCard) -> None:
    _require_change(actor, customer)
    if card.customer_id != customer.id or not card.active:
        abort(404, NO_CARD)
    if card.is_default:
        return
    for other in list_cards(actor, customer):
        if other.is_default:
            other.is_default = False
    db.session.flush()  # the old default first: at most one default at any moment (uq_stored_card_default)
    card.is_default = True
    db.session.flush()


def remove_card(actor: Actor, customer: Customer, card: StoredCard) -> None:
    """Remove a card (kept, marked removed; detached from the processor once the removal is committed). The
    default card cannot be removed while the customer has others."""
    _require_change(actor, customer)
    if card.customer_id != customer.id or not card.active:
        abort(404, NO_CARD)
    others = [c for c in list_cards(actor, customer) if c.id != card.id]
    if card.is_default and others:
        raise CardRefused("The default card cannot be removed while there are others: make another card the "
                          "default first.")
    card.is_default = False
    card.removed_at = utcnow()
    card.removed_by = actor.label[:200]
    db.session.flush()
    proc = processor()
    if proc is not None:
        payment_method = card.payment_method_id
        unit_of_work.after_commit(lambda: _detach(proc, payment_method))


def _detach(proc, payment_method: str) -> None:
    try:
        proc.detach(payment_method)
    except (CardDeclined, ProcessorUnavailable) as trouble:  # removed here; the processor keeps an unused card
        log.warning("a removed card was not detached at the processor: %s", trouble)


# -- charges ------------------------------------------------------------------------------------------

def minor_units(amount: Decimal, currency: str) -> int:
    """An amount in the currency's minor units (12.34 USD → 1234); refused if it has more places or is not
    positive."""
    amount = Decimal(amount)
    places = money.places(currency)
    if amount <= 0 or amount != amount.quantize(money.unit(currency)):
        raise ValueError(f"{amount} is not an amount of {currency} that can be charged.")
    return int(amount.scaleb(places))


def last_attempt(key: str, *, lock: bool = False) -> CardCharge | None:
    query = sa.select(CardCharge).where(CardCharge.idempotency_key == key).order_by(CardCharge.attempt.desc()).limit(1)
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def charge_card(actor: Actor, customer: Customer, card_or_new: "StoredCard | NewCard", amount: Decimal,
                currency: str, key: str, description: str) -> CardCharge:
    """Charge `amount` (in `currency`, major units) for what `key` names (the store: one key per order), on a
    stored card or a new one, at most once per key. Answers the attempt: succeeded, declined (message: the
    processor's) or unknown (the worker will find out). A key already charged answers that charge again and
    asks the processor nothing; a key whose last attempt is unsettled is first reconciled.

    Ends the caller's unit of work, twice: whatever the caller wrote before (the store's order) is committed
    with the pending attempt before the processor is asked, so a crash or a timeout leaves a record the worker
    reconciles; and the outcome is committed as soon as it is known, so a declined card (which the caller may
    answer with a 4xx, rolling its own request back) stays recorded with the processor's message."""
    _require_change(actor, customer)
    proc = _processor_or_refuse()
    key = (key or "").strip()
    if not key or len(key) > 100:
        raise ValueError("An idempotency key has 1 to 100 characters.")
    minor = minor_units(amount, currency)
    last = last_attempt(key, lock=True)
    if last is not None:
        if last.customer_id != customer.id:
            raise CardRefused("This payment belongs to another customer.")
        if last.status in ("succeeded", "refunded"):
            return last  # charged already: never twice
        if not last.settled:
            settle(proc, last)
            if not last.settled or last.status == "succeeded":
                unit_of_work.complete()
                return last
    attempt = last.attempt + 1 if last is not None else 1
    account = _account(proc, customer)
    charge = CardCharge(customer_id=customer.id, idempotency_key=key, attempt=attempt, amount_minor=minor,
                        currency=currency, description=(description or "")[:200], status="pending",
                        created_by=actor.label[:200])
    detach_after = None
    try:
        stored, payment_method, label = _payment_method(actor, customer, proc, account, card_or_new)
    except CardRefused as refused:
        charge.status, charge.message, charge.settled_at = "declined", str(refused)[:300], utcnow()
        if not _insert(charge):
            return last_attempt(key)
        unit_of_work.complete()
        return charge
    charge.card_label = label[:60]
    if stored is not None:
        charge.stored_card_id = stored.id
    else:
        detach_after = payment_method  # used once and not saved: the processor does not keep it either
    if not _insert(charge):
        return last_attempt(key)  # another request is charging this key at this moment
    unit_of_work.complete()  # the pending charge is stored before any money is asked for
    result = proc.charge(amount=minor, currency=currency, customer_ref=account.processor_customer_id,
                         payment_method=payment_method, idempotency_key=charge.processor_key,
                         description=charge.description)
    _record(charge, result)
    db.session.flush()
    if detach_after is not None:
        unit_of_work.after_commit(lambda: _detach(proc, detach_after))
    unit_of_work.complete()
    return charge


def _insert(charge: CardCharge) -> bool:
    """Add the attempt; False if another request added the same attempt of the key first."""
    try:
        with db.session.begin_nested():
            db.session.add(charge)
    except sa.exc.IntegrityError:
        return False
    return True


def _payment_method(actor, customer, proc, account, card_or_new) -> tuple[StoredCard | None, str, str]:
    """(stored card or None, the payment method to charge, its label); CardRefused if the card cannot be used."""
    if isinstance(card_or_new, StoredCard):
        if card_or_new.customer_id != customer.id or not card_or_new.active:
            raise CardRefused("That card is not one of this customer's cards.")
        return card_or_new, card_or_new.payment_method_id, card_or_new.label
    try:
        if card_or_new.setup_intent_id:
            details = proc.confirmed_setup(card_or_new.setup_intent_id.strip()[:255], account.processor_customer_id)
        elif card_or_new.payment_method_id:
            details = proc.attach(card_or_new.payment_method_id.strip()[:255], account.processor_customer_id)
        else:
            raise CardRefused("Enter the card's details.")
    except CardDeclined as declined:
        raise CardRefused(str(declined)) from None
    except ProcessorUnavailable as trouble:
        raise CardRefused(f"{trouble} Nothing was charged; try again in a moment.") from None
    if details.customer_ref != account.processor_customer_id:
        raise CardRefused("The card was not set up: try again.")
    if card_or_new.save:
        stored = _store(actor, customer, details)
        return stored, details.payment_method_id, stored.label
    return None, details.payment_method_id, f"{brand_name(details.brand)} ending {details.last4}"


def _record(charge: CardCharge, result: ChargeResult) -> None:
    if result.charge_id:
        charge.processor_charge_id = result.charge_id
    if result.status == processors.SUCCEEDED:
        charge.status, charge.message = "succeeded", ""
    elif result.status == processors.DECLINED:
        charge.status, charge.message = "declined", (result.message or "The card was declined.")[:300]
    else:
        charge.status, charge.message = "unknown", UNKNOWN_MESSAGE
        log.warning("card charge %s: outcome unknown (%s)", charge.id, processors.scrub(result.error))
        return
    charge.settled_at = utcnow()


def settle(proc, charge: CardCharge) -> bool:
    """Ask the processor what became of an unsettled attempt and record it; True if it is settled now."""
    if charge.settled:
        return True
    account = db.session.scalar(sa.select(ProcessorCustomer).where(ProcessorCustomer.customer_id == charge.customer_id))
    try:
        if charge.processor_charge_id:
            found = proc.retrieve_charge(charge.processor_charge_id)
        elif account is None:
            found = None
        else:
            found = proc.find_charge(charge.processor_key, account.processor_customer_id)
    except (ProcessorUnavailable, CardDeclined) as trouble:
        log.warning("card charge %s: the processor could not be asked (%s)", charge.id, trouble)
        if charge.status == "pending":
            charge.status, charge.message = "unknown", UNKNOWN_MESSAGE
        return False
    if found is None:
        if utcnow() - charge.created_at < NEVER_ARRIVED_AFTER:
            if charge.status == "pending":
                charge.status, charge.message = "unknown", UNKNOWN_MESSAGE
            return False
        found = ChargeResult(processors.DECLINED, message="The charge never reached the payment processor: nothing "
                                                          "was charged. Try again.")
    _record(charge, found)
    db.session.flush()
    return charge.settled


def reconcile_job(limit: int = 50) -> str | None:
    """Worker job: settle the pending charges old enough not to be waiting for their answer, each once even with
    two workers (SKIP LOCKED); the store's hooks hear of each one settled."""
    proc = processor()
    if proc is None:
        return None
    due = utcnow() - RECONCILE_AFTER
    charges = list(db.session.scalars(
        sa.select(CardCharge).where(CardCharge.status.in_(UNSETTLED), CardCharge.created_at < due)
        .order_by(CardCharge.id).limit(limit).with_for_update(skip_locked=True)))
    settled = 0
    for charge in charges:
        if settle(proc, charge):
            settled += 1
            for hook in SETTLED_HOOKS:
                hook(charge)
    return f"{settled} of {len(charges)} settled" if charges else None


def refund_charge(actor: Actor, charge: CardCharge, key: str | None = None) -> CardCharge:
    """Refund a succeeded charge in full (the store: cancelling a paid order). The refund's own idempotency key
    makes a retry safe. CardRefused if the processor refuses or does not answer (nothing changes here)."""
    customer = db.session.get(Customer, charge.customer_id)
    _require_change(actor, customer)
    proc = _processor_or_refuse()
    if charge.status == "refunded":
        return charge
    if charge.status != "succeeded" or not charge.processor_charge_id:
        raise CardRefused("Only a charge that was made can be refunded.")
    result = proc.refund(charge.processor_charge_id, key or f"refund:{charge.processor_key}")
    if result.status != processors.SUCCEEDED:
        raise CardRefused(result.message or "The refund was not made: try again.")
    charge.status, charge.refund_id, charge.refunded_at = "refunded", result.refund_id, utcnow()
    db.session.flush()
    return charge


def charges_of(actor: Actor, customer: Customer, limit: int = 20) -> list[CardCharge]:
    """The customer's latest charge attempts (for the Cards tab)."""
    _require_view(actor, customer)
    return list(db.session.scalars(sa.select(CardCharge).where(CardCharge.customer_id == customer.id)
                                   .order_by(CardCharge.id.desc()).limit(limit)))
