"""Customers and the ledger entries their balance is the sum of."""
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.money import MINOR_UNITS
from panel.options import DEFAULTS, Setting
from panel.types import Money, UTCDateTime, utcnow

STATUSES = ("Active", "Inactive", "Penalty", "Pending Approval")
CURRENCIES = tuple(MINOR_UNITS)  # the currency table (panel/money.py) is the one list
LEDGER_KINDS = ("payment", "charge", "credit")
INVOICE_SCHEDULES = ("none", "daily", "weekly", "monthly")
CUSTOMER_TYPES = ("End Customer", "Reseller", "Distributor", "Partner")
PAYMENT_TERMS = ("Prepaid", "Due on receipt", "Net 15", "Net 30", "Net 45", "Net 60")
# Used only for statistics (the onboarding reference says so); "" until someone picks one.
BUSINESS_TYPES = ("Agriculture", "Construction", "Education", "Finance and Insurance", "Government", "Healthcare",
                  "Hospitality", "Legal", "Manufacturing", "Media", "Non-profit", "Professional Services",
                  "Real Estate", "Retail", "Technology", "Transportation and Logistics", "Utilities", "Other")
# Only staff change these; a portal admin sees them read-only and the server ignores them from the portal.
RESTRICTED_FIELDS = ("reseller_id", "customer_type", "payment_terms", "debit_limit")
ADDRESS_PARTS = ("line1", "line2", "city", "region", "postal_code", "country")
# What a customer's portal contacts may see (Portal Access; panel/portal/sections.py answers and guards it).
PORTAL_SECTIONS = ("balance", "calls", "invoices", "deployments", "store", "reports", "cards")
PORTAL_SECTIONS_OPTION = "portal_sections"  # Settings → Options: what a new customer's contacts see
DEFAULTS.setdefault(PORTAL_SECTIONS_OPTION, " ".join(PORTAL_SECTIONS))
MAILING_FIELDS = ("address_line1", "address_line2", "city", "region", "postal_code", "country")


def portal_sections_text(keys) -> str:
    """The stored form of a set of portal sections: known keys only, in PORTAL_SECTIONS order, space-separated."""
    chosen = set(keys)
    return " ".join(key for key in PORTAL_SECTIONS if key in chosen)


def _new_customer_sections(context) -> str:
    """A new customer's Portal Access: the Settings → Options default, read in the INSERT's own transaction
    (a column default, so every way of creating a customer gets it, without a hook in each)."""
    value = context.connection.execute(sa.select(Setting.value).where(Setting.key == PORTAL_SECTIONS_OPTION)).scalar()
    return portal_sections_text((DEFAULTS[PORTAL_SECTIONS_OPTION] if value is None else value).split())


def address_fields(kind: str) -> tuple[str, ...]:
    """The column names of the mailing, billing or shipping address, in address order."""
    return MAILING_FIELDS if kind == "mailing" else tuple(f"{kind}_{part}" for part in ADDRESS_PARTS)


class Customer(db.Model):
    __tablename__ = "customer"
    __audited__ = True
    # A live figure pushed by the switch every few seconds: not a change anyone made.
    __audit_ignore__ = frozenset({"channels_in_use", "channels_updated_at", "updated_at"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="Pending Approval")
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="USD")
    debit_limit: so.Mapped[Decimal] = so.mapped_column(Money(), default=Decimal(0))
    channel_limit: so.Mapped[int] = so.mapped_column(default=0)
    flow_speed: so.Mapped[int] = so.mapped_column(default=0)
    # Its portal contacts must sign in with a second factor (panel/twofactor).
    require_two_factor: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    channels_in_use: so.Mapped[int] = so.mapped_column(default=0)
    channels_updated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Which invoices Auto Generate Invoice (the button, and the worker daily) makes for this customer.
    invoice_schedule: so.Mapped[str] = so.mapped_column(sa.String(10), default="none", server_default="none")
    # Portal Access: the sections its contacts see (space-separated PORTAL_SECTIONS keys). Customers that
    # existed before it see every section, as they did; a new one gets the Settings → Options default.
    portal_sections: so.Mapped[str] = so.mapped_column(sa.String(120), default=_new_customer_sections,
                                                       server_default=" ".join(PORTAL_SECTIONS))
    # The credit check (panel/alerts/credit.py): today's spend (UTC) at which new calls are refused (None: no
    # limit), and whether inbound calls are still let through once the credit is used up.
    daily_spend_limit: so.Mapped[Decimal | None] = so.mapped_column(Money())
    allow_inbound_zero_balance: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())

    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    phone: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    address_line1: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    address_line2: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    city: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    region: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    postal_code: so.Mapped[str] = so.mapped_column(sa.String(20), default="")
    country: so.Mapped[str] = so.mapped_column(sa.String(2), default="")

    # The reseller owner: the customer this one is a sub-account of (None: the carrier's own customer).
    reseller_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    customer_type: so.Mapped[str] = so.mapped_column(sa.String(20), default="End Customer", server_default="End Customer")
    payment_terms: so.Mapped[str] = so.mapped_column(sa.String(20), default="Prepaid", server_default="Prepaid")
    business_type: so.Mapped[str] = so.mapped_column(sa.String(40), default="", server_default="")
    # The address_* fields above are the mailing address; billing and shipping follow.
    billing_line1: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    billing_line2: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    billing_city: so.Mapped[str] = so.mapped_column(sa.String(100), default="", server_default="")
    billing_region: so.Mapped[str] = so.mapped_column(sa.String(100), default="", server_default="")
    billing_postal_code: so.Mapped[str] = so.mapped_column(sa.String(20), default="", server_default="")
    billing_country: so.Mapped[str] = so.mapped_column(sa.String(2), default="", server_default="")
    # "Same as billing" is a choice, not a copy: while it is set the shipping_* fields are not used.
    shipping_same_as_billing: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    shipping_line1: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    shipping_line2: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    shipping_city: so.Mapped[str] = so.mapped_column(sa.String(100), default="", server_default="")
    shipping_region: so.Mapped[str] = so.mapped_column(sa.String(100), default="", server_default="")
    shipping_postal_code: so.Mapped[str] = so.mapped_column(sa.String(20), default="", server_default="")
    shipping_country: so.Mapped[str] = so.mapped_column(sa.String(2), default="", server_default="")

    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    reseller: so.Mapped["Customer | None"] = so.relationship(remote_side=[id])  # lists load it with selectinload

    __table_args__ = (
        sa.CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        sa.CheckConstraint(f"customer_type IN {CUSTOMER_TYPES!r}", name="customer_type"),
        sa.CheckConstraint(f"payment_terms IN {PAYMENT_TERMS!r}", name="payment_terms"),
        sa.CheckConstraint(f"business_type IN {('', *BUSINESS_TYPES)!r}", name="business_type"),
        sa.CheckConstraint("reseller_id IS NULL OR reseller_id <> id", name="not_own_reseller"),
        sa.CheckConstraint("debit_limit >= 0", name="debit_limit"),
        sa.CheckConstraint("channel_limit >= 0", name="channel_limit"),
        sa.CheckConstraint("flow_speed >= 0", name="flow_speed"),
        sa.CheckConstraint("channels_in_use >= 0", name="channels_in_use"),
        sa.CheckConstraint(f"invoice_schedule IN {INVOICE_SCHEDULES!r}", name="invoice_schedule"),
        # The list is ordered by name; with a status filter it is ordered within the status.
        sa.Index("ix_customer_name_id", "name", "id"),
        sa.Index("ix_customer_status_name_id", "status", "name", "id"),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.id

    def address(self, kind: str = "mailing") -> list[str]:
        """The non-empty parts of the mailing, billing or shipping address (shipping follows billing if chosen)."""
        if kind == "shipping" and self.shipping_same_as_billing:
            kind = "billing"
        return [value for value in (getattr(self, name) for name in address_fields(kind)) if value]

    def __repr__(self) -> str:
        return f"<Customer {self.id} {self.name!r}>"


class LedgerEntry(db.Model):
    """A payment, charge or credit. Amounts are signed: charges are negative."""

    __tablename__ = "ledger_entry"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    amount: so.Mapped[Decimal] = so.mapped_column(Money())
    description: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    customer: so.Mapped[Customer] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint(f"kind IN {LEDGER_KINDS!r}", name="kind"),
        sa.CheckConstraint(
            "(kind = 'charge' AND amount < 0) OR (kind <> 'charge' AND amount > 0)", name="amount_sign"
        ),
        # Covers the balance sum without touching the table rows.
        sa.Index("ix_ledger_entry_customer_amount", "customer_id", "amount"),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id


class TrunkAddress(db.Model):
    """An address or CIDR range a customer's switch traffic comes from, so the credit check can be asked by the
    caller's IP. Kept as the network's canonical text ("203.0.113.0/24"; one address is its /32 or /128) under
    a unique index: one network belongs to one customer, and finding an address is a handful of point lookups
    on that index (the address's own /32, then each wider network holding it), never a scan of ranges."""

    __tablename__ = "trunk_address"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    network: so.Mapped[str] = so.mapped_column(sa.String(43), unique=True)
    label: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id
