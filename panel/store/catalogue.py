"""The catalogue: products priced per currency (created, edited, retired — never deleted), what one customer
sees of it (only products priced in its own currency, never a retired one), shipping rates, and the store's
settings (Terms and Conditions with their version, wire-transfer and cheque instructions, quote validity).

Every change goes through audited models (Product, ProductPrice, ShippingRate) or panel/options.py's
audited Setting rows, so the audit log records it with the actor. Changes are for admins (and the system).
"""
import functools
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import abort

from panel import money, pages
from panel.actor import Actor
from panel.deployments.models import PRODUCTS, SUPPORT_PLANS
from panel.extensions import db
from panel.options import get_option, set_option
from panel.store.models import KINDS, TABS, Product, ProductPrice, ShippingRate
from panel.types import utcnow

# The store's product lines and the deployment product (panel/deployments/models.py PRODUCTS) each is sold
# for: a deployment-specific product of a line applies to deployments of that product ("" : any deployment).
PRODUCT_LINES = {"PBXact": "PBX", "FreePBX": "PBX", "SBC": "SBC", "Gateway": "Gateway"}
assert set(PRODUCT_LINES.values()) <= set(PRODUCTS)
# The currencies a price may be given in: those a customer may hold (panel/money.py).
CURRENCIES = tuple(money.MINOR_UNITS)
MAX_CREDITS = Decimal("1000000")
MAX_TERM_MONTHS = 120

TERMS, TERMS_VERSION = "store_terms", "store_terms_version"
WIRE, CHEQUE, QUOTE_DAYS = "store_wire_instructions", "store_cheque_instructions", "store_quote_days"
DEFAULT_QUOTE_DAYS = 30
LONG_TEXT = 20_000          # characters of a terms or instructions text
_PART = 500                 # a Setting holds 500 characters: a long text is kept in parts


class CatalogueError(ValueError):
    """A change the catalogue refuses; `field` names the form field it is about (None: the whole form)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _require_admin(actor: Actor) -> None:
    if not (actor.is_admin or actor.is_system):
        abort(403, "Only admins may change the store.")


def deployment_product(product_line: str) -> str | None:
    """The deployment product a product line's deployment-specific products apply to (None: any)."""
    return PRODUCT_LINES.get(product_line)


def fits_deployment(product: Product, deployment_product_name: str) -> bool:
    """Whether a deployment of that product (PBX, SBC, Gateway) may take `product` (checkout's picker)."""
    wanted = deployment_product(product.product_line)
    return wanted is None or wanted == deployment_product_name


# -- products -------------------------------------------------------------------------------------------

PRODUCT_FIELDS = ("sku", "name", "description", "tab", "category", "kind", "credits", "plan", "term_months",
                  "product_line", "position")


def _check_product(values: dict, prices: dict, product_id: int | None) -> dict:
    values = {k: values.get(k) for k in PRODUCT_FIELDS}
    for name in ("sku", "name", "description", "category", "plan", "product_line"):
        values[name] = " ".join((values[name] or "").split()) if name != "description" else (values[name] or "").strip()
    if not values["sku"]:
        raise CatalogueError("Enter a SKU.", "sku")
    if not values["name"]:
        raise CatalogueError("Enter a name.", "name")
    if not values["category"]:
        raise CatalogueError("Enter a category (the menu on the left of the tab).", "category")
    if values["tab"] not in TABS:
        raise CatalogueError("Choose one of the tabs.", "tab")
    if values["kind"] not in KINDS:
        raise CatalogueError("Choose what buying it does.", "kind")
    if values["product_line"] and values["product_line"] not in PRODUCT_LINES:
        raise CatalogueError("Choose one of the product lines.", "product_line")
    kind = values["kind"]
    if kind == "credits":
        if values["credits"] is None or not Decimal(0) < values["credits"] <= MAX_CREDITS:
            raise CatalogueError("Support credits need a number of credits above 0.", "credits")
    else:
        values["credits"] = None
    if kind == "plan":
        if values["plan"] not in SUPPORT_PLANS:
            raise CatalogueError(f"A support plan is one of {', '.join(SUPPORT_PLANS)}.", "plan")
        if values["term_months"] is None or not 0 < values["term_months"] <= MAX_TERM_MONTHS:
            raise CatalogueError(f"A support plan needs a term of 1 to {MAX_TERM_MONTHS} months.", "term_months")
    else:
        values["plan"], values["term_months"] = "", None
    values["position"] = values["position"] or 0
    if not prices:
        raise CatalogueError("Give the product a price in at least one currency.")
    for currency, amount in prices.items():
        if currency not in CURRENCIES:
            raise CatalogueError(f"{currency} is not a currency of the panel.")
        if amount < 0 or amount >= money.LIMIT:
            raise CatalogueError("A price is 0 or more.", f"price_{currency}")
    taken = db.session.scalar(sa.select(Product.id).where(sa.func.lower(Product.sku) == values["sku"].lower()))
    if taken is not None and taken != product_id:
        raise CatalogueError("Another product has this SKU (retired products keep theirs).", "sku")
    return values


def create_product(actor: Actor, values: dict, prices: dict[str, Decimal]) -> Product:
    """A new product with its prices ({currency: amount}); CatalogueError says what to correct."""
    _require_admin(actor)
    checked = _check_product(values, prices, None)
    product = Product(**checked)
    product.prices = [ProductPrice(currency=c, amount=a) for c, a in sorted(prices.items())]
    db.session.add(product)
    db.session.flush()
    return product


def update_product(actor: Actor, product: Product, values: dict, prices: dict[str, Decimal]) -> Product:
    """Change a product and its prices: a currency left out is no longer sold in (orders keep their prices)."""
    _require_admin(actor)
    checked = _check_product(values, prices, product.id)
    for name, value in checked.items():
        if getattr(product, name) != value:
            setattr(product, name, value)
    by_currency = {p.currency: p for p in product.prices}
    for currency, price in by_currency.items():
        if currency not in prices:
            product.prices.remove(price)
        elif price.amount != prices[currency]:
            price.amount = prices[currency]
    for currency in sorted(set(prices) - set(by_currency)):
        product.prices.append(ProductPrice(currency=currency, amount=prices[currency]))
    db.session.flush()
    return product


def retire_product(actor: Actor, product: Product) -> bool:
    """Retire: no customer sees it again, carts show it as unavailable; nothing is deleted. False if already."""
    _require_admin(actor)
    if product.retired_at is not None:
        return False
    product.retired_at = utcnow()
    db.session.flush()
    return True


def restore_product(actor: Actor, product: Product) -> bool:
    _require_admin(actor)
    if product.retired_at is None:
        return False
    product.retired_at = None
    db.session.flush()
    return True


def all_products(actor: Actor) -> list[Product]:
    """Every product for the staff list, by tab, category and position (retired ones too)."""
    _require_admin(actor)
    tab_order = sa.case({tab: i for i, tab in enumerate(TABS)}, value=Product.tab)
    return list(db.session.scalars(sa.select(Product).order_by(tab_order, Product.category, Product.position,
                                                               Product.name, Product.id)))


def get_product(product_id: int) -> Product | None:
    return db.session.get(Product, product_id)


# -- what a customer sees ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """A product as a customer sees it: with its price in the customer's currency."""

    product: Product
    price: Decimal
    currency: str


# The Store page's statements are built once, with bound parameters (`currency`, `tab`, `category`), on first use
# (the mappers are configured by then): building a statement and its cache key cost more than running it.
@functools.cache
def _on_sale() -> sa.Select:
    """Products on sale in the `currency` parameter (not retired, priced in it), with their price in it."""
    return (sa.select(Product, ProductPrice.amount)
            .join(ProductPrice, sa.and_(ProductPrice.product_id == Product.id,
                                        ProductPrice.currency == sa.bindparam("currency")))
            .where(Product.retired_at.is_(None)))


@functools.cache
def _in_category() -> sa.Select:
    return _on_sale().where(Product.tab == sa.bindparam("tab"), Product.category == sa.bindparam("category"))


@functools.cache
def _menu() -> sa.Select:
    return (sa.select(Product.tab, Product.category)
            .join(ProductPrice, sa.and_(ProductPrice.product_id == Product.id,
                                        ProductPrice.currency == sa.bindparam("currency")))
            .where(Product.retired_at.is_(None))
            .group_by(Product.tab, Product.category).order_by(sa.func.min(Product.position), sa.func.min(Product.id)))


def menu(currency: str) -> dict[str, list[str]]:
    """The Store's menu in one query: each tab with something on sale in `currency` (in TABS order) and its
    categories, in the order of their first product."""
    rows = db.session.execute(_menu(), {"currency": currency}).all()
    found: dict[str, list[str]] = {}
    for tab, category in rows:
        found.setdefault(tab, []).append(category)
    return {tab: found[tab] for tab in TABS if tab in found}


def categories(currency: str, tab: str) -> list[str]:
    """The categories of a tab that have something on sale in `currency`, in the order of their first product."""
    return menu(currency).get(tab, [])


def tabs_on_sale(currency: str) -> list[str]:
    return list(menu(currency))


def items(currency: str, tab: str, category: str | None = None) -> list[Item]:
    """What a customer of `currency` sees on a tab (in one category): priced in its currency, not retired."""
    statement = _on_sale().where(Product.tab == tab)
    if category is not None:
        statement = statement.where(Product.category == category)
    rows = db.session.execute(statement.order_by(Product.category, Product.position, Product.name, Product.id),
                              {"currency": currency}).all()
    return [Item(product, amount, currency) for product, amount in rows]


ITEMS_PER_PAGE = 24  # a category holding more is read a keyset page at a time (panel/pages.py)
_ITEM_ORDER = (Product.position, Product.name, Product.id)


@functools.cache
def _first_page_in_category(size: int) -> sa.Select:
    return pages.first_page_statement(_in_category(), list(_ITEM_ORDER), size)


def items_page(currency: str, tab: str, category: str, wanted: pages.PageRequest,
               size: int = ITEMS_PER_PAGE) -> pages.Page:
    """One page of a category's items (the order of `items`): a large category costs one page's rendering."""
    page = pages.keyset(db.session, _in_category(), list(_ITEM_ORDER), wanted, size, scalars=False,
                        key=lambda row: (row[0].position, row[0].name, row[0].id),
                        params={"currency": currency, "tab": tab, "category": category},
                        first_page=_first_page_in_category(size))
    page.items = [Item(product, amount, currency) for product, amount in page.items]
    return page


def item(currency: str, product_id: int) -> Item | None:
    """One product as a customer of `currency` sees it, or None (retired, not priced in it, no such product)."""
    row = db.session.execute(_on_sale().where(Product.id == product_id), {"currency": currency}).first()
    return Item(row[0], row[1], currency) if row else None


# -- shipping rates -----------------------------------------------------------------------------------------

@dataclass
class Rate:
    """A shipping rate: one name, priced in several currencies (a ShippingRate row per currency)."""

    name: str
    position: int
    prices: dict[str, Decimal]
    retired: bool
    rows: list[ShippingRate]

    @property
    def id(self) -> int:
        return self.rows[0].id


def shipping_rates(actor: Actor) -> list[Rate]:
    """Every rate for the staff list, grouped by name (retired ones too)."""
    _require_admin(actor)
    rows = db.session.scalars(sa.select(ShippingRate).order_by(ShippingRate.position, ShippingRate.name,
                                                               ShippingRate.id)).all()
    rates: dict[str, Rate] = {}
    for row in rows:
        rate = rates.setdefault(row.name, Rate(row.name, row.position, {}, True, []))
        rate.rows.append(row)
        if row.retired_at is None:
            rate.prices[row.currency] = row.amount
            rate.retired = False
    return list(rates.values())


def rate_named_by(rate_id: int) -> Rate | None:
    """The rate one of whose rows has this id."""
    row = db.session.get(ShippingRate, rate_id)
    if row is None:
        return None
    rows = db.session.scalars(sa.select(ShippingRate).where(ShippingRate.name == row.name)
                              .order_by(ShippingRate.id)).all()
    prices = {r.currency: r.amount for r in rows if r.retired_at is None}
    return Rate(row.name, row.position, prices, not prices, list(rows))


def rates_for(currency: str) -> list[ShippingRate]:
    """The rates a customer of `currency` may choose at checkout."""
    return list(db.session.scalars(sa.select(ShippingRate).where(ShippingRate.currency == currency,
                                                                 ShippingRate.retired_at.is_(None))
                                   .order_by(ShippingRate.position, ShippingRate.name)))


def save_shipping_rate(actor: Actor, rate: Rate | None, name: str, position: int | None,
                       prices: dict[str, Decimal]) -> Rate:
    """Add a rate (`rate` None) or change one: its name, position and price per currency. A currency left out
    is retired for that rate (orders point at the row they used, so rows are never deleted)."""
    _require_admin(actor)
    name = " ".join((name or "").split())
    if not name:
        raise CatalogueError("Enter a name.", "name")
    if not prices:
        raise CatalogueError("Give the rate a price in at least one currency.")
    for currency, amount in prices.items():
        if currency not in CURRENCIES:
            raise CatalogueError(f"{currency} is not a currency of the panel.")
        if amount < 0 or amount >= money.LIMIT:
            raise CatalogueError("A price is 0 or more.", f"price_{currency}")
    taken = db.session.scalar(sa.select(ShippingRate.id).where(sa.func.lower(ShippingRate.name) == name.lower()).limit(1))
    own = {row.id for row in rate.rows} if rate else set()
    if taken is not None and taken not in own:
        raise CatalogueError("Another shipping rate has this name.", "name")
    rows = {row.currency: row for row in rate.rows} if rate else {}
    for currency, row in rows.items():
        if row.name != name:
            row.name = name
        if position is not None and row.position != position:
            row.position = position
        if currency in prices:
            if row.amount != prices[currency]:
                row.amount = prices[currency]
            if row.retired_at is not None:
                row.retired_at = None
        elif row.retired_at is None:
            row.retired_at = utcnow()
    for currency in sorted(set(prices) - set(rows)):
        db.session.add(ShippingRate(name=name, currency=currency, amount=prices[currency], position=position or 0))
    db.session.flush()
    return rate_named_by(db.session.scalar(sa.select(sa.func.min(ShippingRate.id)).where(ShippingRate.name == name)))


def retire_shipping_rate(actor: Actor, rate: Rate) -> bool:
    _require_admin(actor)
    changed = False
    for row in rate.rows:
        if row.retired_at is None:
            row.retired_at = utcnow()
            changed = True
    db.session.flush()
    return changed


# -- the store's settings -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoreSettings:
    terms: str
    terms_version: int
    wire_instructions: str
    cheque_instructions: str
    quote_days: int


def _get_long(key: str) -> str:
    count = get_option(key)
    if not count.isdigit():
        return ""
    return "".join(get_option(f"{key}.{i}") for i in range(int(count)))


def _set_long(key: str, text: str) -> None:
    """A text longer than one Setting holds, kept in numbered parts (`key` holds how many)."""
    parts = [text[i:i + _PART] for i in range(0, len(text), _PART)]
    old = get_option(key)
    old_count = int(old) if old.isdigit() else 0
    if old_count != len(parts) or not old:
        set_option(key, str(len(parts)))
    for i, part in enumerate(parts):
        if get_option(f"{key}.{i}") != part:
            set_option(f"{key}.{i}", part)
    for i in range(len(parts), old_count):
        if get_option(f"{key}.{i}"):
            set_option(f"{key}.{i}", "")


def store_settings() -> StoreSettings:
    days = get_option(QUOTE_DAYS)
    version = get_option(TERMS_VERSION)
    return StoreSettings(terms=_get_long(TERMS), terms_version=int(version) if version.isdigit() else 0,
                         wire_instructions=_get_long(WIRE), cheque_instructions=_get_long(CHEQUE),
                         quote_days=int(days) if days.isdigit() else DEFAULT_QUOTE_DAYS)


def save_store_settings(actor: Actor, terms: str, wire_instructions: str, cheque_instructions: str,
                        quote_days: int) -> StoreSettings:
    """Save the settings; the Terms' version goes up by one whenever their text changes (an order stores the
    version its buyer accepted)."""
    _require_admin(actor)
    texts = {"terms": terms, "wire_instructions": wire_instructions, "cheque_instructions": cheque_instructions}
    for field, text in texts.items():
        if len(text or "") > LONG_TEXT:
            raise CatalogueError(f"At most {LONG_TEXT:,} characters.", field)
    if not 1 <= quote_days <= 365:
        raise CatalogueError("A quote stays valid for 1 to 365 days.", "quote_days")
    current = store_settings()
    terms = (terms or "").strip().replace("\r\n", "\n")
    if terms != current.terms:
        _set_long(TERMS, terms)
        set_option(TERMS_VERSION, str(current.terms_version + 1))
    for key, text, old in ((WIRE, wire_instructions, current.wire_instructions),
                           (CHEQUE, cheque_instructions, current.cheque_instructions)):
        text = (text or "").strip().replace("\r\n", "\n")
        if text != old:
            _set_long(key, text)
    if quote_days != current.quote_days or not get_option(QUOTE_DAYS):
        set_option(QUOTE_DAYS, str(quote_days))
    db.session.flush()
    return store_settings()
