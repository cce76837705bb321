"""Products and their prices, shipping rates, carts, orders (and quotes), order lines and shipments.

A product is retired, never deleted; an order line keeps what was bought as it was (SKU, name, kind,
price, quantity, the deployment or organisation it applies to), so a later change to the catalogue never
changes an order. Quotes are orders of kind "quote" with a validity date; converting one makes a new
order that points back at it.
"""
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import Money, UTCDateTime, utcnow

# The Store's tabs, in the order the portal shows them, and what buying a product does.
TABS = {"support": "Support", "plans": "Support plans", "licences": "Licences", "hardware": "Hardware"}
KINDS = {
    "credits": "Support credits",      # organisation-specific: N credits to the chosen customer's ledger
    "plan": "Support plan",            # deployment-specific: a plan of a given term on the chosen deployment
    "licence": "Licence",              # deployment-specific: a licence on the chosen deployment, never moved
    "hardware": "Hardware",            # needs shipping
    "service": "Service",              # nothing automatic
}
DEPLOYMENT_KINDS = frozenset({"plan", "licence"})
ORGANISATION_KINDS = frozenset({"credits"})
SHIPPED_KINDS = frozenset({"hardware"})

ORDER_KINDS = ("order", "quote")
ORDER_STATUSES = ("Quote", "Converted", "Awaiting payment", "Paid", "Fulfilled", "Cancelled")
PAYMENT_METHODS = {"card": "Credit Card", "wire": "Wire Transfer", "cheque": "Check"}
SHIPMENT_STATUSES = ("Pending", "Shipped")


class Product(db.Model):
    __tablename__ = "store_product"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sku: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    tab: so.Mapped[str] = so.mapped_column(sa.String(20))
    category: so.Mapped[str] = so.mapped_column(sa.String(100))
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    credits: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(12, 2, asdecimal=True))  # kind credits
    plan: so.Mapped[str] = so.mapped_column(sa.String(20), default="")           # kind plan: the plan's name
    term_months: so.Mapped[int | None] = so.mapped_column()                       # kind plan: its term
    product_line: so.Mapped[str] = so.mapped_column(sa.String(20), default="")   # deployments it applies to ("" any)
    position: so.Mapped[int] = so.mapped_column(default=0)
    retired_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    prices: so.Mapped[list["ProductPrice"]] = so.relationship(
        back_populates="product", order_by="ProductPrice.currency", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint(f"tab IN {tuple(TABS)!r}", name="tab"),
        sa.CheckConstraint(f"kind IN {tuple(KINDS)!r}", name="kind"),
        sa.CheckConstraint("kind <> 'credits' OR credits > 0", name="credits"),
        sa.CheckConstraint("kind <> 'plan' OR term_months > 0", name="term"),
        # The Store lists one tab's products by category and position.
        sa.Index("ix_store_product_tab_category_position", "tab", "category", "position"),
    )

    def price_in(self, currency: str) -> "ProductPrice | None":
        return next((price for price in self.prices if price.currency == currency), None)

    def __repr__(self) -> str:
        return f"<Product {self.sku}>"


class ProductPrice(db.Model):
    __tablename__ = "store_product_price"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    product_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("store_product.id", ondelete="CASCADE"))
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    amount: so.Mapped[Decimal] = so.mapped_column(Money())

    product: so.Mapped[Product] = so.relationship(back_populates="prices")

    __table_args__ = (
        sa.UniqueConstraint("product_id", "currency", name="uq_store_product_price_product_currency"),
        sa.CheckConstraint("amount >= 0", name="amount"),
        # A customer sees the products priced in its own currency.
        sa.Index("ix_store_product_price_currency_product_id", "currency", "product_id"),
    )


class ShippingRate(db.Model):
    """A way to ship at a price in one currency; the same name may be priced in several currencies."""

    __tablename__ = "store_shipping_rate"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    amount: so.Mapped[Decimal] = so.mapped_column(Money())
    position: so.Mapped[int] = so.mapped_column(default=0)
    retired_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("name", "currency", name="uq_store_shipping_rate_name_currency"),
        sa.CheckConstraint("amount >= 0", name="amount"),
    )


class Cart(db.Model):
    """A contact's cart, kept on the server (it survives sign-out). Not audited: nothing is bought yet."""

    __tablename__ = "store_cart"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contact_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contact.id", ondelete="CASCADE"), unique=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    lines: so.Mapped[list["CartLine"]] = so.relationship(
        back_populates="cart", order_by="CartLine.id", cascade="all, delete-orphan")


class CartLine(db.Model):
    __tablename__ = "store_cart_line"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    cart_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("store_cart.id", ondelete="CASCADE"))
    product_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("store_product.id", ondelete="CASCADE"), index=True)
    quantity: so.Mapped[int] = so.mapped_column(default=1)

    cart: so.Mapped[Cart] = so.relationship(back_populates="lines")
    product: so.Mapped[Product] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("cart_id", "product_id", name="uq_store_cart_line_cart_product"),
        sa.CheckConstraint("quantity > 0", name="quantity"),
    )


class Order(db.Model):
    """An order (O-…) or a quote (Q-…) of one customer, placed by one of its contacts (or staff)."""

    __tablename__ = "store_order"
    __audited__ = True
    __audit_secret__ = frozenset({"checkout_token"})

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    number: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10), default="order")
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    contact_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    placed_by: so.Mapped[str] = so.mapped_column(sa.String(200))
    status: so.Mapped[str] = so.mapped_column(sa.String(20))
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    subtotal: so.Mapped[Decimal] = so.mapped_column(Money(), default=Decimal(0))
    shipping_amount: so.Mapped[Decimal] = so.mapped_column(Money(), default=Decimal(0))
    total: so.Mapped[Decimal] = so.mapped_column(Money(), default=Decimal(0))
    payment_method: so.Mapped[str] = so.mapped_column(sa.String(10), default="")
    po_number: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    terms_version: so.Mapped[int | None] = so.mapped_column()
    shipping_rate_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("store_shipping_rate.id", ondelete="RESTRICT"))
    shipping_rate_name: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    shipping_address: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    valid_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())           # quotes
    quote_id: so.Mapped[int | None] = so.mapped_column(                                   # the quote it came from
        sa.ForeignKey("store_order.id", ondelete="RESTRICT"), unique=True)
    invoice_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("invoice.id", ondelete="RESTRICT"),
                                                         unique=True)
    # One checkout makes one order: a second press, a second tab or a retry carries the same token.
    checkout_token: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    paid_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    fulfilled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    cancelled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    cancel_reason: so.Mapped[str] = so.mapped_column(sa.String(500), default="")

    lines: so.Mapped[list["OrderLine"]] = so.relationship(
        back_populates="order", order_by="OrderLine.position", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint(f"kind IN {ORDER_KINDS!r}", name="kind"),
        sa.CheckConstraint(f"status IN {ORDER_STATUSES!r}", name="status"),
        sa.CheckConstraint("total >= 0", name="total"),
        # A customer's orders (or quotes) newest first: Main tab, portal Orders; staff filter by status.
        sa.Index("ix_store_order_customer_id_kind_id", "customer_id", "kind", "id"),
        sa.Index("ix_store_order_status_id", "status", "id"),
        sa.Index("ix_store_order_kind_id", "kind", "id"),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id

    def __repr__(self) -> str:
        return f"<Order {self.number} {self.status}>"


class OrderLine(db.Model):
    """One product of an order as it was bought. `fulfilled_at` is set once, by the one fulfilment of the line."""

    __tablename__ = "store_order_line"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    order_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("store_order.id", ondelete="CASCADE"))
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    position: so.Mapped[int]
    product_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("store_product.id", ondelete="SET NULL"))
    sku: so.Mapped[str] = so.mapped_column(sa.String(40))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    unit_price: so.Mapped[Decimal] = so.mapped_column(Money())
    quantity: so.Mapped[int]
    amount: so.Mapped[Decimal] = so.mapped_column(Money())
    credits: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(12, 2, asdecimal=True))
    plan: so.Mapped[str] = so.mapped_column(sa.String(20), default="")
    term_months: so.Mapped[int | None] = so.mapped_column()
    deployment_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("deployment.id", ondelete="RESTRICT"))
    organisation_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    fulfilled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    fulfilment: so.Mapped[str] = so.mapped_column(sa.String(200), default="")  # what it made: "credits #12", …

    order: so.Mapped[Order] = so.relationship(back_populates="lines")

    __table_args__ = (
        sa.CheckConstraint(f"kind IN {tuple(KINDS)!r}", name="kind"),
        sa.CheckConstraint("quantity > 0", name="quantity"),
        sa.CheckConstraint("amount >= 0", name="amount"),
        sa.Index("ix_store_order_line_order_id_position", "order_id", "position"),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id


class Shipment(db.Model):
    """What an order ships: one per order with hardware, marked shipped by staff with a tracking reference."""

    __tablename__ = "store_shipment"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    order_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("store_order.id", ondelete="CASCADE"), unique=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="Pending")
    tracking_reference: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    shipped_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    shipped_by: so.Mapped[str] = so.mapped_column(sa.String(200), default="")

    __table_args__ = (sa.CheckConstraint(f"status IN {SHIPMENT_STATUSES!r}", name="status"),)

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id
