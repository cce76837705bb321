"""Who may reach what, in one place: the sign-in guard for every staff page, read-only staff never
write, the area of every staff route and the permission groups that grant it (AREA_OF), the staff IP
allow-list, admin-only areas, and for every actor (panel/actor.py) which customers and objects it may see
and change, with the one fetch-or-abort helper every route uses.

- Staff see every customer; roles that write may change them (read-only staff: 403).
- A portal contact sees their own customer; an Admin contact sees and changes their customer and its
  whole reseller tree. Anything outside that is not found (404), never "forbidden": the portal does
  not confirm that another customer's object exists.
- The system (commands, worker jobs) reaches everything. API tokens reach what their scopes allow,
  checked by the API's own guard (panel/api/guard.py).
"""
import ipaddress
from typing import TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, current_app, g, redirect, request, url_for
from flask_login import current_user

from panel import actor as actors
from panel.actor import Actor
from panel.auth.models import StaffUser
from panel.customers.hierarchy import in_subtree, subtree_ids
from panel.customers.models import Customer
from panel.extensions import db, login_manager
from panel.options import get_option

T = TypeVar("T")
# Added at start-up by the areas that have them (panel/__init__.py _register_hooks), so this module needs
# none of them: checks that may hold a signed-in staff user back (the second factor: `hold(user)` answers a
# redirect, or None), and the endpoints where read-only staff may still write (their own sign-in security).
STAFF_HOLDS: list = []
READONLY_MAY_WRITE: set[str] = set()
NOT_FOUND = "There is no such record, or it is not yours to see."

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Endpoints reachable without a staff session.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "health", "health_db", "auth.forgot_password",
                              "auth.set_password", "twofactor.passkey_sign_in_options", "twofactor.passkey_sign_in",
                              "twofactor.reset_passkey_options", "twofactor.reset_passkey"})
# The area (panel/auth/models.py AREAS) of every staff route: a blueprint's, unless its endpoint is named
# here. A permission group grants an area read and/or write; a route of an area not granted is 403. A
# blueprint missing from this table is refused to everyone but admins (tests/auth/test_groups.py checks
# that every route has an area).
AREA_OF = {
    "customers": "customers",
    "delayed": "customers",
    "contacts": "contacts",
    "contacts.portal_login": "portal_login",
    "numbering": "numbering",
    "summary": "invoices",
    "invoices": "invoices",
    "invoices.new_payment": "payments",
    "invoices.payments_section": "payments",
    "invoices.payment_status": "payments",
    "invoices.allocate": "payments",
    "cards": "payments",
    "deployments": "deployments",
    "support": "deployments",
    "onboarding": "onboarding",
    "audit": "audit",
    "settings": "settings",
    # The Store's Orders pages (the store blueprint's Settings → Store pages are the settings area's).
    "store.orders_list": "orders",
    "store.order_show": "orders",
    "store.order_payment": "orders",
    "store.order_cancel": "orders",
    "store.order_ship": "orders",
    "store.customer_orders_section": "orders",
    "store.quote_convert": "orders",
    "alerts": "customers",  # a customer's Alerts section; the global alerts are Settings
    "alerts.global_page": "settings",
    "alerts.global_create": "settings",
    "alerts.global_update": "settings",
    "alerts.global_delete": "settings",
    # Admin pages on other blueprints (each checks for an admin itself, as Settings' own pages do).
    "auth.staff_sessions": "settings",
    "auth.revoke_staff_session": "settings",
    "auth.revoke_staff_user_sessions": "settings",
    "twofactor.admin": "settings",
    "twofactor.reset_staff": "settings",
    "twofactor.reset_contact": "settings",
    # Settings → Store (panel/store/routes.py, admins only)
    "store.products": "settings",
    "store.product_new": "settings",
    "store.product_edit": "settings",
    "store.product_retire": "settings",
    "store.shipping_rates": "settings",
    "store.rate_new": "settings",
    "store.rate_edit": "settings",
    "store.rate_retire": "settings",
    "store.store_settings": "settings",
}
# Endpoints every signed-in staff user reaches whatever the groups: signing out, and one's own sessions and
# second factor (areas that have such pages add them at start-up, like READONLY_MAY_WRITE below).
ANY_STAFF: set[str] = {"auth.logout", "auth.my_sessions", "auth.revoke_my_session", "auth.revoke_my_other_sessions",
                       "auth.revoke_all_my_sessions"}
STAFF_ALLOWLIST_OPTION = "staff_ip_allowlist"
# The API authenticates with bearer tokens, the portal with its own contact session (panel/portal/routes.py).
PUBLIC_BLUEPRINTS = frozenset({"api", "portal"})
# Writes that only sign the user out: read-only staff may make them too.
SIGN_OUT_ENDPOINTS = frozenset({"auth.logout", "auth.revoke_my_session", "auth.revoke_my_other_sessions",
                                "auth.revoke_all_my_sessions"})


@login_manager.user_loader
def load_user(user_id: str):
    """The session's user while active. (A password change, a role change or a deactivation ends the
    user's server-side sessions at once: panel/sessions.py.)"""
    try:
        user = db.session.get(StaffUser, int(user_id))
    except ValueError:
        return None
    if user is None or not user.active:
        return None
    return user


def area_of(endpoint: str) -> str | None:
    """The area of a staff endpoint, from AREA_OF (None: not in the table)."""
    return AREA_OF.get(endpoint) or AREA_OF.get(endpoint.partition(".")[0])


def parse_allowlist(text: str) -> list:
    """The networks of an allow-list (one address or CIDR range per line or separated by commas or spaces);
    ValueError naming the first entry that is neither."""
    networks = []
    for entry in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"“{entry}” is neither an address nor a range such as 192.0.2.0/24.") from None
    return networks


def address_allowed(networks: list, ip: str | None) -> bool:
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    return any(address.version == net.version and address in net for net in networks)


def staff_ip_allowed(ip: str | None) -> bool:
    """Whether the staff IP allow-list (Settings → IP allow-list; empty: every address) lets `ip` in."""
    try:
        return address_allowed(parse_allowlist(get_option(STAFF_ALLOWLIST_OPTION)), ip)
    except ValueError:
        return True  # a saved list is always valid (settings refuses others); never lock everyone out


def to_login():
    """To the sign-in page, and back here after it (an htmx request gets HX-Redirect, not a swapped page)."""
    next_url = request.full_path if request.method == "GET" else request.referrer
    if getattr(request, "htmx", None):
        # The current page URL, so the user lands back where they were after signing in.
        next_url = request.headers.get("HX-Current-URL") or next_url
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = url_for("auth.login", next=_path_of(next_url))
        return response
    return redirect(url_for("auth.login", next=_path_of(next_url)))


def _path_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


login_manager.unauthorized_handler(to_login)


def require_staff_session():
    """before_request for the whole app: the guard no route can forget."""
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS:
        return None
    if request.endpoint is None:
        return None  # 404 / 405 are answered by the error handlers
    if not current_user.is_authenticated:
        return to_login()
    if not staff_ip_allowed(request.remote_addr) and endpoint != "auth.logout":
        abort(403, "Staff may not use the panel from this address (Settings → IP allow-list).")
    for hold in STAFF_HOLDS:  # e.g. half signed in: only the second-factor pages and sign-out
        held = hold(current_user)
        if held is not None:
            return held
    actor = actors.staff(current_user._get_current_object())
    write = request.method not in SAFE_METHODS
    if write and not current_user.can_write and endpoint not in SIGN_OUT_ENDPOINTS | READONLY_MAY_WRITE:
        abort(403)
    if endpoint not in ANY_STAFF:
        area = area_of(endpoint)
        if area is None and not actor.is_admin:
            abort(403)
        if area is not None and not actor.may(area, write=write):
            abort(403, "Your permission groups do not give you this." if actor.may(area) else
                   "Your permission groups do not include this area.")
    g.staff = current_user
    actors.act_as(actor)
    return None


def require_admin():
    """before_request for admin-only blueprints (settings, with its API tokens): the one admin guard."""
    if not current_user.is_authenticated:
        return to_login()
    if not current_user.is_admin:
        abort(403, "Only admins may do this.")
    return None


# -- reach: which customers an actor may see and change ---------------------------------------------

def customer_ids_within(actor: Actor):
    """A select of the customer ids `actor` may see, or None for every customer (staff, system, API)."""
    if not actor.in_portal:
        return None
    if actor.manages_tree:
        return subtree_ids(actor.customer_id)
    return sa.select(sa.literal(actor.customer_id))


def can_see_customer(actor: Actor, customer_id: int | None) -> bool:
    if customer_id is None:
        return False
    if not actor.in_portal:
        return actor.is_staff or actor.is_system or actor.kind == actors.API
    if customer_id == actor.customer_id:
        return True
    return actor.manages_tree and in_subtree(actor.customer_id, customer_id)


def can_change_customer(actor: Actor, customer_id: int | None) -> bool:
    """Staff who write, the system, and Admin contacts within their tree."""
    if actor.in_portal:
        return actor.manages_tree and can_see_customer(actor, customer_id)
    return actor.is_system or (actor.is_staff and actor.can_write)


def owner_of(obj) -> int | None:
    """The customer an object belongs to: the customer itself, or the row's customer_id."""
    if isinstance(obj, Customer):
        return obj.id
    return getattr(obj, "customer_id", None)


def fetch(actor: Actor, model: type[T], object_id, *, customer_id: int | None = None, write: bool = False,
          message: str = NOT_FOUND) -> T:
    """Fetch-or-abort: the object, if it exists, belongs to `customer_id` (when the URL names one) and
    `actor` may see it; else 404. Seen but not `write`-able by this actor: 403."""
    obj = db.session.get(model, object_id) if object_id is not None else None
    if obj is None or (customer_id is not None and owner_of(obj) != customer_id):
        abort(404, message)
    return require(actor, obj, write=write, message=message)


def require(actor: Actor, obj: T, *, write: bool = False, message: str = NOT_FOUND) -> T:
    """The same rule as fetch() for an object already in hand (a domain function given one): 404 outside
    the actor's reach, 403 when it may be seen but not changed. An object of no customer (the audit entry
    of a setting) is for staff and the system only."""
    owner = owner_of(obj)
    visible = can_see_customer(actor, owner) if owner is not None else actor.is_staff or actor.is_system
    if not visible:
        abort(404, message)
    if write and not can_change_customer(actor, owner):
        abort(403, "You may see this record but not change it.")
    return obj


def fetch_customer(actor: Actor, customer_id: int, *, write: bool = False,
                   message: str = "There is no such customer.") -> Customer:
    if actor.in_portal and customer_id == actor.customer_id:
        # The contact's own customer, through the contact's relationship: the contact holds it for the whole
        # request, so the guards, the menu and the page that each ask for it read it once (the session's
        # identity map keeps only what something holds: a plain get would read it again every time).
        return require(actor, actor.contact.customer, write=write, message=message)
    return fetch(actor, Customer, customer_id, write=write, message=message)


NOT_YOURS = "There is no such customer in your account."


def managed_customer(actor: Actor, customer_id: int) -> Customer:
    """For the portal's management pages: a customer the actor manages (an Admin contact's tree); else 404.
    A contact who is not an Admin manages no customer, their own included: the pages are not theirs, so
    they are not found (not 403)."""
    if not actor.manages_tree:
        abort(404, NOT_YOURS)
    return fetch_customer(actor, customer_id, write=True, message=NOT_YOURS)
