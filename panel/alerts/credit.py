"""The credit check the switch asks before every call (POST /api/v1/calls/authorize).

It reads only what is indexed or cached: the customer by key (or its SIP user by the unique username, or the
caller's IP by the unique index of trunk addresses: panel/customers/trunks.py), the
cached balance (computed again when older than the authorize_balance_max_age option), the channels the switch
reports, and today's rows of the hourly roll-up. The first rule that refuses gives the reason:
status not Active; channels in use at the channel limit; today's spend at the daily spend limit; the
balance at or below minus the debit limit (no credit left), which an inbound call passes only when the
customer's "allow inbound calls with zero balance" is set. An IP that no customer's trunk addresses hold is
refused as an unknown caller (an answer, not a 404: the switch asked about a call, not about a customer)."""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from panel import access
from panel.actor import Actor
from panel.alerts.figures import cached_balances, spend_today
from panel.customers.models import Customer
from panel.customers.trunks import customer_id_for, parse_address
from panel.extensions import db
from panel.money import plain
from panel.numbering.models import SipUser
from panel.types import utcnow

DIRECTIONS = ("outbound", "inbound")
REASONS = ("ok", "status", "channel_limit", "daily_spend_limit", "credit_limit", "unknown_caller")


class NoCustomer(LookupError):
    pass


class UnknownCaller(NoCustomer):
    """No customer's trunk addresses hold the caller's IP: refused with reason unknown_caller."""

    def __init__(self, ip: str):
        super().__init__(f"No customer's trunk addresses hold {ip}: the call is from an unknown caller.")
        self.ip = ip

    def as_json(self) -> dict:
        return {"allowed": False, "reason": "unknown_caller", "message": str(self), "ip": self.ip}


@dataclass
class Answer:
    customer: Customer
    allowed: bool
    reason: str
    message: str
    balance: Decimal
    available: Decimal
    balance_at: datetime
    spend_today: Decimal
    now: datetime

    def as_json(self) -> dict:
        currency = self.customer.currency
        limit = self.customer.daily_spend_limit
        return {
            "allowed": self.allowed, "reason": self.reason, "message": self.message,
            "customer_id": self.customer.id, "status": self.customer.status, "currency": currency,
            "balance": plain(self.balance, currency), "available": plain(self.available, currency),
            "balance_age_seconds": max(0, int((self.now - self.balance_at).total_seconds())),
            "channels_in_use": self.customer.channels_in_use, "channel_limit": self.customer.channel_limit,
            "spend_today": plain(self.spend_today, currency),
            "daily_spend_limit": plain(limit, currency) if limit is not None else None,
        }


def find_customer(actor: Actor, customer_id: int | None = None, sip_username: str | None = None,
                  ip: str | None = None) -> Customer:
    """The customer asked about, by id, SIP username or caller IP. NoCustomer for an unknown id or username;
    UnknownCaller for an IP no trunk address holds (ValueError for one that is no IP address: the route
    refuses those first)."""
    customer = None
    if ip is not None:
        address = parse_address(ip)
        found = customer_id_for(address)
        customer = db.session.get(Customer, found) if found is not None else None
        if customer is None or not access.can_see_customer(actor, customer.id):
            raise UnknownCaller(str(address))
        return customer
    if customer_id is not None:
        customer = db.session.get(Customer, customer_id)
    elif sip_username:
        found = db.session.scalar(sa.select(SipUser.customer_id).where(SipUser.username == sip_username))
        customer = db.session.get(Customer, found) if found is not None else None
    if customer is None or not access.can_see_customer(actor, customer.id):
        raise NoCustomer("There is no customer with that id or SIP username.")
    return customer


def authorize(actor: Actor, customer: Customer, direction: str, now: datetime | None = None) -> Answer:
    """Whether a new call of `customer` in `direction` may start now, and why not."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction is one of {', '.join(DIRECTIONS)}")
    access.require(actor, customer)
    now = now or utcnow()
    balance, balance_at = cached_balances([customer.id], now)[customer.id]
    spent = spend_today([customer.id], now).get(customer.id, Decimal(0))
    available = balance + customer.debit_limit
    reason, message = "ok", "The call may start."
    if customer.status != "Active":
        reason, message = "status", f"The customer's status is {customer.status}: only Active customers may call."
    elif customer.channel_limit and customer.channels_in_use >= customer.channel_limit:
        reason, message = "channel_limit", (f"{customer.channels_in_use} channels in use: the channel limit of "
                                            f"{customer.channel_limit} is reached.")
    elif customer.daily_spend_limit is not None and spent >= customer.daily_spend_limit:
        reason, message = "daily_spend_limit", "Today's spend has reached the daily spend limit."
    elif available <= 0 and not (direction == "inbound" and customer.allow_inbound_zero_balance):
        reason, message = "credit_limit", ("The balance is at or below minus the debit limit: no credit is left"
                                           + (" (inbound calls are not allowed with zero balance)."
                                              if direction == "inbound" else "."))
    return Answer(customer=customer, allowed=reason == "ok", reason=reason, message=message, balance=balance,
                  available=available, balance_at=balance_at, spend_today=spent, now=now)
