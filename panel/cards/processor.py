"""The payment processor, as the panel needs it: a small interface and its one real implementation, Stripe
through the official `stripe` library (Customers, SetupIntents, PaymentMethods, PaymentIntents, Refunds).

Every answer is turned into plain values here, so no Stripe object leaves this module, and every message
that could carry one of the processor's ids (sk_…, pm_…, cus_…, seti_…) is scrubbed before it is stored,
shown or logged. Charges are made off-session on a saved payment method with the caller's idempotency key,
and carry that key in their metadata, so a charge whose answer never came can be found again
(`find_charge`) without sending it twice.
"""
import logging
import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import stripe

log = logging.getLogger("panel.cards")

STRIPE_API = "https://api.stripe.com"
KEY_FIELD = "panel_idempotency_key"
SUCCEEDED, DECLINED, UNKNOWN = "succeeded", "declined", "unknown"
# What an id of the processor looks like, wherever it may turn up in a message.
PROCESSOR_ID = re.compile(r"\b(?:sk|pk|rk|whsec|pm|cus|seti|pi|ch|re|src|card|tok|txn|py)_[A-Za-z0-9_]{4,}")


def scrub(text: str | None) -> str:
    """A processor message fit to show, store and log: ids replaced, one line, at most 300 characters."""
    return PROCESSOR_ID.sub("[id]", " ".join(str(text or "").split()))[:300]


class _ScrubIds(logging.Filter):
    """The library (and urllib3 under it) log each request's path, with the processor's ids in it: scrubbed."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if PROCESSOR_ID.search(text):
            record.msg, record.args = PROCESSOR_ID.sub("[id]", text), ()
        return True


for _name in ("stripe", "urllib3.connectionpool"):
    logging.getLogger(_name).addFilter(_ScrubIds())


@dataclass(frozen=True)
class CardDetails:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    customer_ref: str | None  # the processor's customer it is attached to, if any


@dataclass(frozen=True)
class SetupIntent:
    id: str
    client_secret: str


@dataclass(frozen=True)
class ChargeResult:
    """succeeded (charge_id set), declined (message: the processor's, for the customer) or unknown (error:
    the answer never came or made no sense; ask again later with find_charge)."""

    status: str
    charge_id: str | None = None
    message: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED


@dataclass(frozen=True)
class RefundResult:
    status: str  # succeeded, declined (message), unknown (error)
    refund_id: str | None = None
    message: str = ""


class CardDeclined(Exception):
    """The processor refused the card (or the request about it); the message is the processor's, scrubbed."""


class ProcessorUnavailable(Exception):
    """The processor did not answer, or answered with an error of its own: the outcome is not known."""


class Processor(Protocol):
    test_mode: bool
    publishable_key: str
    js_url: str
    api_base: str

    def ensure_customer(self, existing_ref: str | None, *, name: str, email: str, reference: str) -> str: ...
    def create_setup_intent(self, customer_ref: str) -> SetupIntent: ...
    def confirmed_setup(self, setup_intent_id: str, customer_ref: str) -> CardDetails: ...
    def payment_method(self, payment_method_id: str) -> CardDetails: ...
    def attach(self, payment_method_id: str, customer_ref: str) -> CardDetails: ...
    def detach(self, payment_method_id: str) -> None: ...
    def charge(self, *, amount: int, currency: str, customer_ref: str, payment_method: str, idempotency_key: str,
               description: str) -> ChargeResult: ...
    def find_charge(self, idempotency_key: str, customer_ref: str) -> ChargeResult | None: ...
    def retrieve_charge(self, charge_id: str) -> ChargeResult: ...
    def refund(self, charge_id: str, idempotency_key: str) -> RefundResult: ...


def is_test_mode(secret_key: str, api_base: str) -> bool:
    """A test key, or an API that is not Stripe's own (a stand-in such as localstripe)."""
    return secret_key.startswith(("sk_test_", "rk_test_")) or origin(api_base) != STRIPE_API


def origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class StripeProcessor:
    """Stripe through the official library. Network errors are retried by the library with the same
    idempotency key; what is still unanswered after that is an unknown outcome."""

    def __init__(self, secret_key: str, publishable_key: str, api_base: str, js_url: str, timeout: float = 30.0):
        self.publishable_key = publishable_key
        self.js_url = js_url
        self.api_base = api_base.rstrip("/")
        self.test_mode = is_test_mode(secret_key, self.api_base)
        # Only Stripe itself filters lists by customer; a stand-in is asked for the whole list.
        self.stand_in = origin(self.api_base) != STRIPE_API
        self.client = stripe.StripeClient(
            secret_key, base_addresses={"api": self.api_base}, max_network_retries=2,
            http_client=stripe.RequestsClient(timeout=timeout))

    # -- customers and cards ------------------------------------------------------------------------
    def ensure_customer(self, existing_ref: str | None, *, name: str, email: str, reference: str) -> str:
        if existing_ref:
            return existing_ref
        params = {"name": name[:200], "metadata": {"panel_customer": reference}}
        if email:
            params["email"] = email
        customer = self._call(self.client.v1.customers.create, params=params,
                              options={"idempotency_key": f"customer:{reference}"})
        return customer.id

    def create_setup_intent(self, customer_ref: str) -> SetupIntent:
        intent = self._call(self.client.v1.setup_intents.create, params={
            "customer": customer_ref, "usage": "off_session", "payment_method_types": ["card"]})
        return SetupIntent(id=intent.id, client_secret=intent.client_secret)

    def confirmed_setup(self, setup_intent_id: str, customer_ref: str) -> CardDetails:
        """The card a SetupIntent of this customer saved; CardDeclined if it is someone else's, not confirmed,
        or was declined."""
        if not setup_intent_id.startswith("seti_"):
            raise CardDeclined("The card was not set up: try again.")
        try:
            intent = self._call(self.client.v1.setup_intents.retrieve, setup_intent_id)
        except CardDeclined:
            raise CardDeclined("The card was not set up: try again.") from None
        if (_field(intent, "customer") or None) != customer_ref:
            raise CardDeclined("The card was not set up: try again.")
        if intent.status != "succeeded" or not intent.payment_method:
            raise CardDeclined("The card was not set up (it was declined or needs authentication): try again.")
        pm_id = intent.payment_method if isinstance(intent.payment_method, str) else intent.payment_method.id
        details = self.payment_method(pm_id)
        if details.customer_ref is None:  # Stripe attaches it on success; a stand-in may not have
            details = self.attach(pm_id, customer_ref)
        return details

    def payment_method(self, payment_method_id: str) -> CardDetails:
        return _details(self._call(self.client.v1.payment_methods.retrieve, payment_method_id))

    def attach(self, payment_method_id: str, customer_ref: str) -> CardDetails:
        """Attach a payment method to the customer: the processor checks the card here (CardDeclined)."""
        return _details(self._call(self.client.v1.payment_methods.attach, payment_method_id,
                                   params={"customer": customer_ref}))

    def detach(self, payment_method_id: str) -> None:
        self._call(self.client.v1.payment_methods.detach, payment_method_id)

    # -- charges ------------------------------------------------------------------------------------
    def charge(self, *, amount: int, currency: str, customer_ref: str, payment_method: str, idempotency_key: str,
               description: str) -> ChargeResult:
        params = {"amount": int(amount), "currency": currency.lower(), "customer": customer_ref,
                  "payment_method": payment_method, "confirm": True, "off_session": True,
                  "metadata": {KEY_FIELD: idempotency_key, "description": description[:450]}}
        try:
            intent = self._call(self.client.v1.payment_intents.create, params=params,
                                options={"idempotency_key": idempotency_key})
        except CardDeclined as declined:
            return ChargeResult(DECLINED, message=str(declined))
        except ProcessorUnavailable as trouble:
            return ChargeResult(UNKNOWN, error=str(trouble))
        return self._outcome(intent)

    def find_charge(self, idempotency_key: str, customer_ref: str) -> ChargeResult | None:
        """The outcome of the charge sent with this key, or None if the processor has none (it never arrived).
        ProcessorUnavailable if the processor cannot be asked now."""
        params = {"limit": 100}
        if not self.stand_in:
            params["customer"] = customer_ref
        page = self._call(self.client.v1.payment_intents.list, params=params)
        for seen, intent in enumerate(page.auto_paging_iter()):
            if seen >= 1000:
                break
            metadata = _field(intent, "metadata") or {}
            if metadata.get(KEY_FIELD) == idempotency_key and (_field(intent, "customer") or None) == customer_ref:
                return self._outcome(intent)
        return None

    def retrieve_charge(self, charge_id: str) -> ChargeResult:
        return self._outcome(self._call(self.client.v1.payment_intents.retrieve, charge_id))

    def refund(self, charge_id: str, idempotency_key: str) -> RefundResult:
        try:
            refund = self._call(self.client.v1.refunds.create, params={"payment_intent": charge_id},
                                options={"idempotency_key": idempotency_key})
        except CardDeclined as refused:
            return RefundResult(DECLINED, message=str(refused))
        except ProcessorUnavailable as trouble:
            return RefundResult(UNKNOWN, message=str(trouble))
        if refund.status in ("succeeded", "pending"):
            return RefundResult(SUCCEEDED, refund_id=refund.id)
        return RefundResult(DECLINED, message=f"The refund was not made ({refund.status}).")

    # -- plumbing -----------------------------------------------------------------------------------
    def _outcome(self, intent) -> ChargeResult:
        status = intent.status
        if status == "succeeded":
            return ChargeResult(SUCCEEDED, charge_id=intent.id)
        if status == "processing":
            return ChargeResult(UNKNOWN, charge_id=intent.id, error="The processor is still processing the charge.")
        if status == "requires_action":
            # An off-session charge cannot ask the cardholder for 3-D Secure: it is not made.
            try:
                self._call(self.client.v1.payment_intents.cancel, intent.id)
            except (CardDeclined, ProcessorUnavailable):
                pass  # left waiting for an authentication that never comes, it is never captured
            return ChargeResult(DECLINED, charge_id=intent.id,
                                message="The card's bank asks the cardholder to authenticate: add the card again "
                                        "or use another one.")
        error = _field(intent, "last_payment_error")
        message = scrub(error.get("message")) if error else ""
        return ChargeResult(DECLINED, charge_id=intent.id, message=message or "The card was declined.")

    def _call(self, method, *args, **kwargs):
        """Call the library; CardDeclined for a refusal (the processor answered: nothing was done),
        ProcessorUnavailable when the outcome is not known."""
        try:
            return method(*args, **kwargs)
        except stripe.CardError as error:
            raise CardDeclined(scrub(error.user_message) or "The card was declined.") from None
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            log.warning("payment processor unreachable: %s", scrub(error.user_message or type(error).__name__))
            raise ProcessorUnavailable("The payment processor did not answer.") from None
        except stripe.StripeError as error:
            status = getattr(error, "http_status", None) or 0
            text = scrub(error.user_message or type(error).__name__)
            if status >= 500 or status == 0:
                log.warning("payment processor error %s: %s", status, text)
                raise ProcessorUnavailable("The payment processor answered with an error.") from None
            # 4xx: the processor refused the request (a bad key, a missing object): nothing was done.
            log.warning("payment processor refused a request (%s): %s", status, text)
            raise CardDeclined("The payment processor refused the request." if status != 402 else text) from None


def _field(obj, name: str):
    """A field of a Stripe object as plain Python (dicts for objects), None when absent."""
    value = getattr(obj, name, None)
    return value.to_dict() if hasattr(value, "to_dict") else value


def _details(method) -> CardDetails:
    card = method.card
    customer = method.customer
    return CardDetails(payment_method_id=method.id, brand=str(card.brand or "card"), last4=str(card.last4),
                       exp_month=int(card.exp_month), exp_year=int(card.exp_year),
                       customer_ref=(customer if isinstance(customer, str) else getattr(customer, "id", None)))


def from_config(config) -> StripeProcessor | None:
    """The processor the app's settings describe, or None without a secret key (cards are not available)."""
    secret = config.get("STRIPE_SECRET_KEY") or ""
    if not secret:
        return None
    return StripeProcessor(secret, config.get("STRIPE_PUBLISHABLE_KEY") or "",
                           config.get("STRIPE_API_BASE") or STRIPE_API,
                           config.get("STRIPE_JS_URL") or "https://js.stripe.com/v3/")
