"""Who is acting: a staff user, a portal contact, staff in Portal Login as a contact, an API token, or the system.

Every request gets one Actor (`current()`), made by the guard that let it in (panel/access.py for staff,
the portal's guard, the API's token check); commands and worker jobs act as `SYSTEM`. Domain functions
that read or change customer data take it as their first argument, the audit recorder labels entries
with it, and panel/access.py answers "may this actor reach this customer or object" from it.
"""
from dataclasses import dataclass, field

from flask import g, has_app_context, has_request_context, request

STAFF, CONTACT, PORTAL_LOGIN, API, SYSTEM_KIND, ANONYMOUS = (
    "staff", "contact", "portal_login", "api", "system", "anonymous")


@dataclass(frozen=True)
class Actor:
    kind: str
    staff: object | None = None     # StaffUser: the staff member, also behind a Portal Login
    contact: object | None = None   # Contact: the portal contact, or the one signed in as
    token: object | None = None     # ApiToken
    ip: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    recorded: tuple | None = None   # (label, staff id, contact id, ip) of whoever asked for work done later

    # -- who --------------------------------------------------------------------------------------
    @property
    def is_staff(self) -> bool:
        """Acting in the control panel (a Portal Login acts in the portal, as the contact)."""
        return self.kind == STAFF

    @property
    def in_portal(self) -> bool:
        return self.kind in (CONTACT, PORTAL_LOGIN)

    @property
    def impersonated(self) -> bool:
        return self.kind == PORTAL_LOGIN

    @property
    def is_system(self) -> bool:
        return self.kind == SYSTEM_KIND

    @property
    def role(self) -> str | None:
        return getattr(self.staff, "role", None) if self.is_staff else None

    @property
    def is_admin(self) -> bool:
        return self.is_staff and self.role == "admin"

    @property
    def can_write(self) -> bool:
        """Staff roles that change things, every portal contact (within their reach), the system."""
        if self.is_staff:
            return bool(self.staff.can_write)
        return self.kind in (CONTACT, PORTAL_LOGIN, SYSTEM_KIND, API)

    # -- the portal's reach -----------------------------------------------------------------------
    @property
    def customer_id(self) -> int | None:
        """The contact's own customer (None for staff, tokens and the system)."""
        return self.contact.customer_id if self.in_portal else None

    @property
    def manages_tree(self) -> bool:
        """An Admin contact manages their customer and every customer below it."""
        return self.in_portal and self.contact.contact_type == "Admin"

    def may(self, area: str, write: bool = False) -> bool:
        """Whether this staff actor's role and permission groups give `area` (panel/auth/models.py AREAS),
        for writing too when `write`. The system may everything; other actors have no staff areas."""
        if self.is_system:
            return True
        if not self.is_staff:
            return False
        rights = self.rights
        return area in rights and (rights[area] or not write)

    @property
    def rights(self) -> dict:
        """{area: may write} of a staff actor, computed once per actor."""
        cached = self.__dict__.get("_rights")
        if cached is None:
            cached = self.staff.rights() if self.is_staff else {}
            object.__setattr__(self, "_rights", cached)
        return cached

    def allows(self, scope: str) -> bool:
        return self.kind == API and scope in self.scopes

    # -- for the audit log ------------------------------------------------------------------------
    @property
    def label(self) -> str:
        if self.kind == STAFF:
            return self.staff.audit_label()
        if self.in_portal:
            text = f"Portal: {self.contact.name} <{self.contact.email}>"
            return text + (f" (Portal Login by {self.staff.email})" if self.impersonated else "")
        if self.kind == API:
            return f"API: {self.token.name}"
        return self.kind  # "system", "anonymous"

    def audit_fields(self) -> dict:
        if self.recorded is not None:
            label, staff_id, contact_id, ip = self.recorded
            return {"user_label": label, "staff_user_id": staff_id, "contact_id": contact_id, "ip": ip}
        return {"user_label": self.label, "staff_user_id": getattr(self.staff, "id", None),
                "contact_id": getattr(self.contact, "id", None) if self.in_portal else None, "ip": self.ip}


SYSTEM = Actor(kind=SYSTEM_KIND)


def _ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def staff(user) -> Actor:
    return Actor(kind=STAFF, staff=user, ip=_ip())


def contact(person, staff_user=None) -> Actor:
    """A contact in the portal, or (with `staff_user`) a staff member in Portal Login as that contact."""
    return Actor(kind=PORTAL_LOGIN if staff_user is not None else CONTACT, contact=person, staff=staff_user, ip=_ip())


def api(token) -> Actor:
    return Actor(kind=API, token=token, ip=_ip(), scopes=frozenset(token.scopes.split()))


def on_behalf_of(label: str, staff_user_id: int | None = None, contact_id: int | None = None,
                 ip: str | None = None) -> Actor:
    """The system doing what someone asked for earlier (a delayed save): audited under their name."""
    return Actor(kind=SYSTEM_KIND, recorded=(label, staff_user_id, contact_id, ip))


def act_as(actor: Actor) -> Actor:
    """Make `actor` the one acting for the rest of this request, command or job."""
    g.actor = actor
    return actor


def current() -> Actor:
    """The actor of this request (set by the guard that admitted it), else the signed-in staff user, else
    anonymous (a request no guard claimed: sign-in pages); outside a request, the system."""
    if not has_app_context():
        return SYSTEM
    chosen = g.get("actor")
    if chosen is not None:
        return chosen
    if not has_request_context():
        return SYSTEM
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return staff(user)
    return Actor(kind=ANONYMOUS, ip=_ip())
