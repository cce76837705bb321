"""The access matrix's group dimension: a staff user whose one permission group grants a single area
reaches that area's pages and gets 403 everywhere else (and sees only that area in the menu); read-only
staff never write whatever their groups grant; staff in no group keep every area but Settings.

The expected area of each route is written out here, apart from panel/access.py AREA_OF, so a route
moved to another area by mistake fails this test."""
import re

import pytest
import sqlalchemy as sa

from panel import access
from panel.auth.models import AREAS, StaffGroup, StaffGroupMember, StaffUser
from panel.extensions import db
from tests.factories import StaffUserFactory
from tests.helpers import PanelClient
from tests.portal.test_access_matrix import ids, request, urls, within_reach  # noqa: F401  (ids is a fixture)

NOT_STAFF_PAGES = {"auth.login", "auth.logout", "auth.forgot_password", "auth.set_password", "static", "health",
                   "health_db"}
EXPECTED_AREA = {
    "customers": "customers", "delayed": "customers", "contacts": "contacts", "numbering": "numbering",
    "summary": "invoices", "invoices": "invoices", "deployments": "deployments", "support": "deployments",
    "onboarding": "onboarding", "audit": "audit", "cards": "payments", "settings": None,  # admins only, but for Options
    "alerts": "customers",
}
EXCEPTIONS = {"contacts.portal_login": "portal_login", "invoices.new_payment": "payments",
              "invoices.payments_section": "payments", "invoices.payment_status": "payments",
              "invoices.allocate": "payments", "settings.options": "settings", "settings.index": "settings",
              "store.orders_list": "orders", "store.order_show": "orders", "store.order_payment": "orders",
              "store.order_cancel": "orders", "store.order_ship": "orders", "store.customer_orders_section": "orders",
              "store.quote_convert": "orders",
              "alerts.global_page": "settings", "alerts.global_create": "settings", "alerts.global_update": "settings",
              "alerts.global_delete": "settings"}
MENU = {"customers": "Customers", "contacts": "Global Contacts", "audit": "Audit log", "settings": "Settings"}


def expected_area(endpoint: str):
    return EXCEPTIONS.get(endpoint, EXPECTED_AREA.get(endpoint.split(".")[0]))


def staff_pages(app, ids):  # noqa: F811
    """Staff routes that belong to an area (one's own sessions and second factor are every user's)."""
    return [row for row in urls(app, ids) if not row[0].startswith(("portal.", "api."))
            and row[0] not in NOT_STAFF_PAGES | access.ANY_STAFF | access.PUBLIC_ENDPOINTS]


def grouped_client(app, area: str, role: str = "staff", mode: str = "rw") -> PanelClient:
    with app.app_context():
        user = StaffUserFactory(role=role, email=f"{area}.{role}@example.com")
        group = StaffGroup(name=f"Only {area}", grants=f"{area}:{mode}")
        db.session.add(group)
        db.session.flush()
        db.session.add(StaffGroupMember(staff_user_id=user.id, group_id=group.id))
        db.session.commit()
    client = PanelClient(app.test_client())
    assert client.login(f"{area}.{role}@example.com").status_code == 303
    return client


def test_every_staff_route_has_an_area_in_the_one_table(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("portal.", "api.")) or rule.endpoint in (
                NOT_STAFF_PAGES | access.ANY_STAFF | access.PUBLIC_ENDPOINTS):
            continue
        assert access.area_of(rule.endpoint) is not None, rule.endpoint
        area = expected_area(rule.endpoint)
        assert area is None or access.area_of(rule.endpoint) == area, rule.endpoint


@pytest.mark.parametrize("area", sorted(AREAS))
def test_a_single_group_opens_its_area_and_nothing_else(app, world, ids, area):  # noqa: F811
    client = grouped_client(app, area)
    checked = opened = 0
    for endpoint, method, url, arguments in staff_pages(app, ids):
        if method != "GET":
            continue
        code = request(client, method, url).status_code
        if expected_area(endpoint) == area:
            reachable = within_reach("staff", endpoint, arguments)
            assert code < 400 or code in (409, 422) if reachable else code == 404, (area, url, code)
            opened += 1
        else:
            assert code == 403, (area, url, code)
        checked += 1
    assert checked >= 30 and (opened >= 1 or area == "portal_login"), (checked, opened)
    portal_login = request(client, "POST", f"/customers/{world.a}/contacts/{world.ana}/portal-login")
    if area == "portal_login":  # its one route is a POST
        assert portal_login.status_code == 303 and portal_login.headers["Location"] == "/portal/"
    else:
        assert portal_login.status_code == 403
    nav = re.search(r"<nav>(.*?)</nav>", client.get("/login" if area == "portal_login" else "/settings/options"
                                                    if area == "settings" else "/audit" if area == "audit" else
                                                    "/contacts" if area == "contacts" else "/customers").get_data(as_text=True), re.S)
    shown = set(re.findall(r">([^<>]+)</a>", nav.group(1))) if nav else set()
    for menu_area, label in MENU.items():
        assert (label in shown) == (menu_area == area), (area, shown)


def test_a_group_that_grants_read_only_refuses_every_write_of_its_area(app, world, ids):  # noqa: F811
    client = grouped_client(app, "contacts", mode="r")
    writes = [(e, m, u) for e, m, u, _ in staff_pages(app, ids) if m != "GET" and expected_area(e) == "contacts"]
    assert writes
    for endpoint, method, url in writes:
        assert request(client, method, url).status_code == 403, url
    assert client.get(f"/customers/{world.b}/contacts", htmx=True).status_code == 200
    assert client.get("/contacts").status_code == 200


def test_readonly_stays_read_only_whatever_its_groups_grant(app, world, ids):  # noqa: F811
    client = grouped_client(app, "customers", role="readonly", mode="rw")
    assert client.get("/customers").status_code == 200
    assert client.post(f"/customers/{world.b}/edit", {"name": "Changed"}).status_code == 403
    assert client.get("/audit").status_code == 403


def test_staff_in_no_group_keep_every_area_but_settings(app, world, staff_users):
    with app.app_context():
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.role == "staff"))
        assert user.rights() == dict.fromkeys(set(AREAS) - {"settings"}, True)
        readonly = db.session.scalar(sa.select(StaffUser).where(StaffUser.role == "readonly"))
        assert readonly.rights() == dict.fromkeys(set(AREAS) - {"settings"}, False)
        admin = db.session.scalar(sa.select(StaffUser).where(StaffUser.role == "admin"))
        assert admin.rights() == dict.fromkeys(AREAS, True)


def test_rights_are_the_union_of_the_groups(app, staff_users):
    with app.app_context():
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.role == "staff"))
        for name, grants in (("A", "customers:r contacts:rw"), ("B", "customers:rw audit:r")):
            group = StaffGroup(name=name, grants=grants)
            db.session.add(group)
            db.session.flush()
            db.session.add(StaffGroupMember(staff_user_id=user.id, group_id=group.id))
        db.session.commit()
        db.session.expire_all()
        assert user.rights() == {"customers": True, "contacts": True, "audit": False}
        from panel import actor as actors

        actor = actors.staff(user)
        assert actor.may("customers", write=True) and actor.may("audit") and not actor.may("audit", write=True)
        assert not actor.may("settings") and actors.SYSTEM.may("settings", write=True)


def test_the_customer_page_shows_only_the_sections_of_granted_areas(app, world, staff_users):  # noqa: F811
    client = grouped_client(app, "customers", mode="r")
    body = client.get(f"/customers/{world.a}").get_data(as_text=True)
    assert 'id="overview"' in body
    for section in ("contacts", "number-blocks", "summary", "invoices", "payments", "deployments", "issue-reports"):
        assert f'id="{section}"' not in body, section
    assert "View Audit Log" not in body and ">Edit</a>" not in body
    everything = PanelClient(app.test_client())
    everything.login("staff@example.com")
    body = everything.get(f"/customers/{world.a}").get_data(as_text=True)
    assert all(f'id="{s}"' in body for s in ("contacts", "number-blocks", "invoices", "payments", "deployments"))
    assert "View Audit Log" in body and ">Edit</a>" in body
