"""Customer records: creating, changing, finding them, and the figures on the Main tab."""

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort

from panel import access, search
from panel.actor import Actor
from panel.customers.hierarchy import check_reseller, subtree_ids
from panel.customers.models import MAILING_FIELDS, Customer, address_fields
from panel.extensions import db
from panel.types import utcnow
from panel import pages
from panel.pages import Page, PageRequest

MAX_CHANNELS = 1_000_000


def create_customer(actor: Actor, values: dict, currency: str) -> Customer:
    """A new customer, by staff who write or the system; in the portal, only a sub-account of a customer
    the Admin contact manages. Flushed (it has its id), never committed."""
    if actor.in_portal:
        access.fetch_customer(actor, values.get("reseller_id"), write=True)
    elif not access.can_change_customer(actor, None):
        abort(403, "You may not add customers.")
    customer = Customer(currency=currency, **values)
    db.session.add(customer)
    db.session.flush()
    return customer


ADDRESSES = (*address_fields("billing"), "shipping_same_as_billing", *address_fields("shipping"))
# What a portal Admin contact may change on a customer of their tree: never the reseller owner, customer
# type, payment terms, debit limit or support credits, nor what the carrier controls (status, channels).
PORTAL_EDITABLE = ("name", "email", "phone", *MAILING_FIELDS, "business_type", *ADDRESSES)
EDITABLE = ("name", "status", "debit_limit", "channel_limit", "flow_speed", "email", "phone", *MAILING_FIELDS,
            "invoice_schedule", "require_two_factor", "reseller_id", "customer_type", "payment_terms", "business_type", *ADDRESSES,
            "daily_spend_limit", "allow_inbound_zero_balance")


def apply_customer_values(customer: Customer, values: dict, fields: tuple[str, ...] = EDITABLE) -> None:
    """Set the editable fields; the currency, id and live figures are never taken from a form. A new
    reseller owner is checked (no loops) whoever asks."""
    if "reseller_id" in fields and "reseller_id" in values and values["reseller_id"] != customer.reseller_id:
        check_reseller(customer.id, values["reseller_id"])
    for key in fields:
        if key in values:
            setattr(customer, key, values[key])


def update_customer(actor: Actor, customer: Customer, values: dict, fields: tuple[str, ...] = EDITABLE) -> bool:
    """Apply the edited values (only `fields`: the portal passes PORTAL_EDITABLE) to a customer `actor` may
    change (else 404/403); returns whether anything changed. Never commits."""
    access.require(actor, customer, write=True)
    apply_customer_values(customer, values, fields)
    return db.session.is_modified(customer)


def list_conditions(actor: Actor, query: str, status: str) -> tuple[list, bool]:
    """The customer list's filter as conditions: those `actor` may see, of `status` (if any), matching `query`
    (a name fragment or an id; ignored when too short). Also whether a search applies (its matches are capped
    at search.SEARCH_CAP). The list and Bulk changes' "all matching" use the same conditions."""
    conditions = [Customer.status == status] if status else []
    within = access.customer_ids_within(actor)
    if within is not None:
        conditions.append(Customer.id.in_(within))
    if not query or search.too_short(query):
        return conditions, False
    matches = Customer.name.ilike(search.like(query), escape="\\")
    if query.isdigit() and len(query) < 12:
        # The customer with that id, and any whose name holds the number.
        named = sa.select(Customer.id).where(matches).limit(search.SEARCH_CAP).subquery()
        matches = Customer.id.in_(sa.union(sa.select(Customer.id).where(Customer.id == int(query)), sa.select(named.c.id)))
    return [*conditions, matches], True


def customer_page(actor: Actor, query: str, status: str, wanted: PageRequest, size: int) -> Page:
    """The customers `actor` may see (staff: all; a portal contact: their own, an Admin contact their tree)
    in name order, matching a name fragment or an id, optionally of one status. Reseller owners come along."""
    statement = sa.select(Customer).options(so.selectinload(Customer.reseller))
    conditions, searched = list_conditions(actor, query, status)
    if not searched:
        return pages.keyset(db.session, statement.where(*conditions), [Customer.name, Customer.id], wanted, size)
    return search.page_of_matches(db.session, statement, Customer.id, [Customer.name], conditions, wanted, size)


def lock_customer(customer_id: int) -> None:
    """Serialise writes that depend on a customer's totals (invoice runs, the credit ledger): the row is
    locked until commit on PostgreSQL; SQLite's write transaction already serialises them."""
    db.session.execute(sa.select(Customer.id).where(Customer.id == customer_id).with_for_update())


RESELLER_TYPES = ("Reseller", "Distributor", "Partner")


def reseller_candidates(actor: Actor, query: str, for_customer_id: int | None, size: int) -> Page:
    """The Reseller owner picker's matches: customers `actor` may see that may own others (a Reseller,
    Distributor or Partner, or one that already owns a customer), matching `query` by id or part of the
    name, in name order; never `for_customer_id` itself nor one of its sub-accounts (that would be a loop)."""
    sub_account = so.aliased(Customer)
    owns = sa.exists().where(sub_account.reseller_id == Customer.id)  # one probe of ix_customer_reseller_id
    conditions = [sa.or_(Customer.customer_type.in_(RESELLER_TYPES), owns)]
    within = access.customer_ids_within(actor)
    if within is not None:
        conditions.append(Customer.id.in_(within))
    if for_customer_id is not None:
        conditions.append(Customer.id.not_in(subtree_ids(for_customer_id)))
    query = query.strip().lstrip("#")
    if query:
        matches = Customer.name.ilike(search.like(query), escape="\\")
        if query.isdigit() and len(query) < 12:
            matches = sa.or_(Customer.id == int(query), matches)
        conditions.append(matches)
        # The matches first, then their order: walking the name index for a text many names hold read 550,000 of
        # 1M customers before the first Reseller among them (names that hold it sit together in the alphabet).
        return search.page_of_matches(db.session, sa.select(Customer), Customer.id, [Customer.name], conditions,
                                      pages.FIRST, size)
    return pages.keyset(db.session, sa.select(Customer).where(*conditions), [Customer.name, Customer.id], pages.FIRST,
                        size)


def owner_label(customer: Customer) -> str:
    """What the Reseller owner box shows for a chosen owner; it starts with the id, which is what it posts."""
    return f"#{customer.id} · {customer.name}"


def reseller_of(customer: Customer) -> Customer | None:
    return db.session.get(Customer, customer.reseller_id) if customer.reseller_id else None


def set_channels_in_use(actor: Actor, customer_id: int, channels: int) -> Customer | None:
    """The live figure pushed by the switch; not audited (see Customer.__audit_ignore__). Never commits."""
    if not 0 <= channels <= MAX_CHANNELS:
        raise ValueError(f"channels_in_use must be a whole number from 0 to {MAX_CHANNELS}")
    customer = db.session.get(Customer, customer_id)
    if customer is None or not access.can_see_customer(actor, customer.id):
        return None
    customer.channels_in_use = channels
    customer.channels_updated_at = utcnow()
    return customer
