"""Portal Access: which sections of the portal a customer's contacts see, and the guard portal routes use.

Staff choose the sections per customer (the Main tab's Portal Access form); a new customer starts with
the Settings → Options default. A hidden section is absent from the portal's menu and its pages answer
404, as for anything else outside the contact's reach: the portal does not say a section exists.

    @bp.get("/store")
    @section_required("store")
    def store(): ...

A section is open for a page when it is open for the viewer's own customer (it says what its contacts
see) and, when the page is about another customer of an Admin contact's tree, for that customer too.
"""
from functools import wraps

from flask import abort

from panel import access
from panel import actor as actors
from panel.actor import Actor
from panel.customers.models import PORTAL_SECTIONS, PORTAL_SECTIONS_OPTION, Customer, portal_sections_text
from panel.options import get_option, set_option

LABELS = {
    "balance": "Balance",
    "calls": "Call summary and records",
    "invoices": "Invoices and payments",
    "deployments": "Deployments and support credits",
    "store": "The store",
    "reports": "Issue reports",
    "cards": "Stored credit cards",  # the Cards page; hidden, a payment still takes a new card (not saved)
}
assert tuple(LABELS) == PORTAL_SECTIONS
HIDDEN = "There is no such page."


def _check(key: str) -> str:
    if key not in LABELS:
        raise KeyError(f"There is no portal section {key!r}; the sections are {', '.join(PORTAL_SECTIONS)}.")
    return key


def open_sections(customer: Customer) -> frozenset[str]:
    return frozenset((customer.portal_sections or "").split()) & frozenset(PORTAL_SECTIONS)


def section_open(customer: Customer, key: str) -> bool:
    """Whether `customer`'s contacts see section `key` (a key not in PORTAL_SECTIONS raises KeyError)."""
    return _check(key) in open_sections(customer)


def open_for(actor: Actor, key: str, customer: Customer | None = None) -> bool:
    """Whether `actor` sees section `key` (of `customer`, default their own) in the portal. Staff, tokens
    and the system are not held back here: Portal Access is about what contacts see."""
    _check(key)
    if not actor.in_portal:
        return True
    own = access.fetch_customer(actor, actor.customer_id)
    if not section_open(own, key):
        return False
    return customer is None or customer.id == own.id or section_open(customer, key)


def require_section(actor: Actor, key: str, customer: Customer | None = None) -> None:
    """404 when `actor` does not see section `key` (of `customer`, default their own)."""
    if not open_for(actor, key, customer):
        abort(404, HIDDEN)


def section_required(key: str):
    """Decorator for a portal route (or an API route a contact could reach): 404 unless the section is
    open for the acting contact, and for the customer named by the URL's `customer_id` when it has one."""
    _check(key)

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            actor = actors.current()
            customer = None
            if actor.in_portal and kwargs.get("customer_id") is not None:
                customer = access.fetch_customer(actor, kwargs["customer_id"], message=access.NOT_YOURS)
            require_section(actor, key, customer)
            return view(*args, **kwargs)

        guarded.portal_section = key
        return guarded

    return decorate


def menu_sections(actor: Actor) -> frozenset[str]:
    """The sections the portal's menu and home page show to `actor` (their own customer's)."""
    if not actor.in_portal:
        return frozenset(PORTAL_SECTIONS)
    return open_sections(access.fetch_customer(actor, actor.customer_id))


def shown_for(actor: Actor, customer: Customer) -> frozenset[str]:
    """The sections `actor` sees of `customer` (their own or one of their tree): open for both."""
    return frozenset(key for key in PORTAL_SECTIONS if open_for(actor, key, customer))


# -- staff: the Portal Access form and the Settings → Options default --------------------------------

def set_portal_access(actor: Actor, customer: Customer, keys) -> bool:
    """Staff choose the sections `customer`'s contacts see; audited as a change of the customer row.
    Returns whether anything changed. 404/403 outside the actor's reach or rights."""
    if actor.in_portal:
        abort(404, HIDDEN)  # Portal Access is the carrier's choice, never a contact's
    access.require(actor, customer, write=True)
    unknown = set(keys) - set(PORTAL_SECTIONS)
    if unknown:
        raise KeyError(f"unknown portal section(s): {', '.join(sorted(unknown))}")
    text = portal_sections_text(keys)
    changed = text != customer.portal_sections
    customer.portal_sections = text
    return changed


def default_sections() -> frozenset[str]:
    """What a new customer's contacts see (Settings → Options)."""
    return frozenset(get_option(PORTAL_SECTIONS_OPTION).split()) & frozenset(PORTAL_SECTIONS)


def set_default_sections(keys) -> None:
    set_option(PORTAL_SECTIONS_OPTION, portal_sections_text(keys))
