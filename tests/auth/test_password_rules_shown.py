"""The one password rule (panel/passwords.py RULE) is shown beside every field where a password is chosen,
before anything has failed, on the staff side and in the portal; the forced-change page offers only itself
and Sign out."""
import re

import pytest

from panel.actor import SYSTEM
from panel.auth import links
from panel.auth.models import StaffUser
from panel.contacts.models import Contact
from panel.contacts.records import create_contact
from panel.extensions import db
from panel.passwords import RULE, rule_problem
from tests.helpers import PanelClient, temporary_password
from tests.portal.conftest import world  # noqa: F401  (a fixture: two customers and their contacts)

import sqlalchemy as sa


def _rule_beside(body: str, field_name: str) -> bool:
    """The field carries aria-describedby pointing at help text that is the rule."""
    field = re.search(rf'<input[^>]*name="{field_name}"[^>]*>', body)
    assert field, f"no {field_name} field"
    described = re.search(r'aria-describedby="([^"]+)"', field.group(0))
    if not described:
        return False
    help_text = re.search(rf'id="{described.group(1)}"[^>]*>([^<]*)<', body)
    return bool(help_text) and help_text.group(1).strip() == RULE


def test_the_rule_is_one_function_and_one_text():
    assert rule_problem("short") == RULE and rule_problem("") == RULE and rule_problem("x" * 1025) == RULE
    assert rule_problem("ten chars!") is None and rule_problem("x" * 1024) is None


def test_portal_change_and_forced_change_show_the_rule_and_forced_change_has_no_bouncing_links(app, world, portal_client):  # noqa: F811
    page = portal_client(world.ana_email).get("/portal/password").get_data(as_text=True)
    assert _rule_beside(page, "new") and 'href="/portal/profile"' in page  # an ordinary change keeps the menu
    with app.app_context():
        _, message = create_contact(SYSTEM, world.a, {"name": "Cy", "email": "cy@alpha.example"})
        db.session.commit()
        temporary = temporary_password(message.body)
    client = PanelClient(app.test_client())
    assert client.post("/portal/login", {"email": "cy@alpha.example", "password": temporary}).status_code == 303
    client.forget_token()
    forced = client.get("/portal/password").get_data(as_text=True)
    assert _rule_beside(forced, "new") and "Sign out" in forced
    for bouncing in ("/portal/profile", "/portal/invoices", "/portal/customers", "/portal/report-issue"):
        assert f'href="{bouncing}"' not in forced
    assert 'href="/portal/"' not in forced
    failed = client.post("/portal/password", {"new": "short", "repeat": "short"})
    assert failed.status_code == 422 and RULE in failed.get_data(as_text=True)


@pytest.mark.parametrize("purpose", ["staff_reset", "invite"])
def test_staff_reset_and_invitation_pages_show_the_rule(app, staff_users, purpose):
    with app.app_context():
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == staff_users["staff"]))
        token = links.issue(purpose, staff_user=user)
        db.session.commit()
    client = PanelClient(app.test_client())
    page = client.get(f"/set-password/{token}")
    assert page.status_code == 200 and _rule_beside(page.get_data(as_text=True), "new")


def test_portal_reset_page_shows_the_rule(app, world):  # noqa: F811
    with app.app_context():
        token = links.issue("portal_reset", contact=db.session.get(Contact, world.ana))
        db.session.commit()
    page = PanelClient(app.test_client()).get(f"/portal/set-password/{token}")
    assert page.status_code == 200 and _rule_beside(page.get_data(as_text=True), "new")


def test_staff_contact_forms_show_the_rule_beside_the_typed_password(as_role, world):  # noqa: F811
    client = as_role("staff")
    change = client.get(f"/customers/{world.a}/contacts/{world.ana}/password", htmx=True).get_data(as_text=True)
    assert _rule_beside(change, "password")
    new = client.get(f"/customers/{world.a}/contacts/new", htmx=True).get_data(as_text=True)
    assert _rule_beside(new, "password")
