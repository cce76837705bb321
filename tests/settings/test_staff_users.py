"""Settings → Staff users: the list, invitations by a single-use link, role and groups, deactivation,
forced password resets, and the last active admin who can be neither deactivated nor demoted."""
import json

import sqlalchemy as sa

from panel.audit.models import AuditEntry
from panel.auth.models import AuthLink, StaffGroup, StaffGroupMember, StaffUser
from panel.extensions import db
from tests.factories import StaffUserFactory
from tests.helpers import PASSWORD, PanelClient
from tests.mail_links import last_link, mailed

NEW_PASSWORD = "a brand new passphrase"


def _user(email):
    return db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))


def _group(app, name="Billing", grants="invoices:rw payments:r"):
    with app.app_context():
        group = StaffGroup(name=name, grants=grants)
        db.session.add(group)
        db.session.commit()
        return group.id


def test_only_admins_reach_staff_administration(app, as_role, client):
    for role in ("staff", "readonly"):
        client.login(f"{role}@example.com")
        for url in ("/settings/staff", "/settings/groups", "/settings/ip-allowlist"):
            assert client.get(url).status_code == 403, (role, url)
        client.post("/logout", {})
        client.forget_token()  # sign-out renews the session, and its CSRF token with it
    admin = as_role("admin")
    body = admin.get("/settings/staff").get_data(as_text=True)
    for email in ("admin@example.com", "staff@example.com", "readonly@example.com"):
        assert email in body
    assert "$2b$" not in body and "password_hash" not in body


def test_an_invitation_mails_a_link_that_sets_the_password_once(app, as_role):
    group = _group(app)
    admin = as_role("admin")
    response = admin.post("/settings/staff", {"email": "New.Person@Example.com", "name": "New Person", "role": "staff",
                                              "groups": [str(group)]})
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        user = _user("new.person@example.com")
        assert [g.name for g in user.groups] == ["Billing"]
        entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "POST",
                                                                 AuditEntry.user_label == "admin@example.com")).all()
        assert {(e.table_name, e.row_id) for e in entries} == {("staff_user", str(user.id)),
                                                              ("staff_group_member", f"{user.id},{group}")}
        created = next(e for e in entries if e.table_name == "staff_user")
        assert json.loads(created.data)["password_hash"] == [None, "[secret]"]
    assert "invited" in admin.get("/settings/staff").get_data(as_text=True)
    link = last_link(app.instance_path, "new.person@example.com")
    assert "48 hours" in mailed(app.instance_path, "new.person@example.com")[-1].get_content()

    visitor = PanelClient(app.test_client())
    assert "Welcome: choose your password" in visitor.get(link).get_data(as_text=True)
    short = visitor.post(link, {"new": "short", "repeat": "short"})
    assert short.status_code == 422 and 'class="error">Use 10 to 1024 characters.' in short.get_data(as_text=True)
    assert visitor.post(link, {"new": NEW_PASSWORD, "repeat": NEW_PASSWORD}).status_code == 303
    assert visitor.login("new.person@example.com", NEW_PASSWORD).status_code == 303
    # Used once: the same link never sets a password again.
    again = PanelClient(app.test_client())
    assert again.get(link).status_code == 404
    assert again.post(link, {"new": "another passphrase!", "repeat": "another passphrase!"}).status_code == 404


def test_an_invitation_link_expires_after_48_hours_and_cannot_be_forged(app, as_role):
    from datetime import timedelta

    admin = as_role("admin")
    admin.post("/settings/staff", {"email": "late@example.com", "role": "readonly"})
    link = last_link(app.instance_path, "late@example.com")
    visitor = PanelClient(app.test_client())
    assert visitor.get(link[:-3] + "abc").status_code == 404  # a changed signature
    with app.app_context():
        row = db.session.scalar(sa.select(AuthLink))
        assert row.expires_at - row.created_at == timedelta(hours=48)
        row.expires_at = row.created_at - timedelta(seconds=1)
        db.session.commit()
    assert "expired" in visitor.get(link).get_data(as_text=True)


def test_a_duplicate_or_bad_invitation_is_refused_by_the_field(app, as_role):
    admin = as_role("admin")
    taken = admin.post("/settings/staff", {"email": "staff@example.com", "role": "staff"})
    assert taken.status_code == 422 and "already exists" in taken.get_data(as_text=True)
    bad = admin.post("/settings/staff", {"email": "not an address", "role": "boss"})
    assert bad.status_code == 422 and 'value="not an address"' in bad.get_data(as_text=True)


def test_role_and_groups_change_and_apply_at_the_next_request(app, as_role, staff_users):
    group = _group(app, "Audit only", "audit:r")
    member = PanelClient(app.test_client())
    member.login("staff@example.com")
    assert member.get("/customers").status_code == 200
    admin = as_role("admin")
    with app.app_context():
        staff_id = _user("staff@example.com").id
    page = admin.get(f"/settings/staff/{staff_id}")
    assert page.status_code == 200 and "Audit only" in page.get_data(as_text=True)
    assert admin.post(f"/settings/staff/{staff_id}", {"role": "staff", "groups": [str(group)]}).status_code == 303
    assert member.get("/customers").status_code == 302  # a change of groups ends the user's sessions
    member = PanelClient(app.test_client())
    member.login("staff@example.com")
    assert member.get("/customers").status_code == 403
    assert member.get("/audit").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.table_name == "staff_group_member")).user_label \
            == "admin@example.com"
    assert admin.post(f"/settings/staff/{staff_id}", {"role": "staff"}).status_code == 303
    member = PanelClient(app.test_client())
    member.login("staff@example.com")
    assert member.get("/customers").status_code == 200
    assert admin.get("/settings/staff/99999").status_code == 404


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(app, as_role):
    admin = as_role("admin")
    with app.app_context():
        admin_id = _user("admin@example.com").id
        StaffUserFactory(role="admin", email="second@example.com")
        second_id = _user("second@example.com").id
    # Two admins: the second may be deactivated; then the first is the last.
    assert admin.post(f"/settings/staff/{second_id}/deactivate", {}).status_code == 303
    demote = admin.post(f"/settings/staff/{admin_id}", {"role": "staff"})
    assert demote.status_code == 422 and "last active admin" in demote.get_data(as_text=True)
    with app.app_context():
        assert _user("admin@example.com").role == "admin"
    # Reactivated, the second admin may be demoted once, and then not the first.
    assert admin.post(f"/settings/staff/{second_id}/reactivate", {}).status_code == 303
    assert admin.post(f"/settings/staff/{second_id}", {"role": "readonly"}).status_code == 303
    assert admin.post(f"/settings/staff/{admin_id}", {"role": "staff"}).status_code == 422


def test_domain_refuses_deactivating_the_last_admin(app, staff_users):
    import pytest

    from panel import actor as actors
    from panel.settings.staff_users import LAST_ADMIN, set_active
    from panel.staff import StaffError

    with app.app_context():
        admin = _user("admin@example.com")
        other = StaffUserFactory(role="admin", email="other@example.com")
        other.active = False
        db.session.commit()
        with pytest.raises(StaffError, match="last active admin"):
            set_active(actors.staff(other), admin, False)
        assert LAST_ADMIN.startswith("This is the last active admin")
        with pytest.raises(Exception) as refused:
            set_active(actors.staff(_user("staff@example.com")), admin, False)
        assert getattr(refused.value, "code", None) == 403


def test_deactivation_ends_the_sessions_and_sign_in_and_reactivation_restores_them(app, as_role):
    member = PanelClient(app.test_client())
    member.login("staff@example.com")
    admin = as_role("admin")
    with app.app_context():
        staff_id = _user("staff@example.com").id
    assert admin.post(f"/settings/staff/{staff_id}/deactivate", {}).status_code == 303
    assert member.get("/customers").headers["Location"].startswith("/login")
    assert PanelClient(app.test_client()).login("staff@example.com").status_code == 401
    with app.app_context():
        assert _user("staff@example.com").active is False
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "staff_user",
                                                               AuditEntry.action == "PUT")).all()[-1]
        assert json.loads(entry.data) == {"active": [True, False]}
    assert admin.post(f"/settings/staff/{staff_id}/reactivate", {}).status_code == 303
    assert PanelClient(app.test_client()).login("staff@example.com").status_code == 303


def test_an_admin_cannot_deactivate_themself(app, as_role):
    admin = as_role("admin")
    with app.app_context():
        admin_id = _user("admin@example.com").id
        StaffUserFactory(role="admin", email="second@example.com")
    response = admin.post(f"/settings/staff/{admin_id}/deactivate", {})
    assert response.status_code == 409 and "cannot deactivate yourself" in response.get_data(as_text=True)


def test_a_forced_reset_stops_the_password_and_its_sessions_and_mails_a_link(app, as_role):
    member = PanelClient(app.test_client())
    member.login("staff@example.com")
    admin = as_role("admin")
    with app.app_context():
        staff_id = _user("staff@example.com").id
    assert admin.post(f"/settings/staff/{staff_id}/reset-password", {}).status_code == 303
    assert member.get("/customers").headers["Location"].startswith("/login")
    assert PanelClient(app.test_client()).login("staff@example.com", PASSWORD).status_code == 401
    link = last_link(app.instance_path, "staff@example.com")
    visitor = PanelClient(app.test_client())
    assert visitor.post(link, {"new": NEW_PASSWORD, "repeat": NEW_PASSWORD}).status_code == 303
    assert visitor.login("staff@example.com", NEW_PASSWORD).status_code == 303


def test_groups_are_made_changed_and_deleted_with_their_memberships(app, as_role):
    admin = as_role("admin")
    response = admin.post("/settings/groups", {"name": "Support desk", "area_contacts": "rw", "area_customers": "r"})
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        group = db.session.scalar(sa.select(StaffGroup))
        assert group.grant_map() == {"contacts": True, "customers": False}
        group_id = group.id
        db.session.add(StaffGroupMember(staff_user_id=_user("staff@example.com").id, group_id=group_id))
        db.session.commit()
    assert "Support desk" in admin.get("/settings/groups").get_data(as_text=True)
    clash = admin.post("/settings/groups", {"name": "support  DESK"})
    assert clash.status_code == 422 and "already a group" in clash.get_data(as_text=True)
    assert admin.post("/settings/groups", {"name": "", "area_audit": "r"}).status_code == 422
    assert admin.post("/settings/groups", {"name": "Bad", "area_audit": "x"}).status_code == 422
    assert admin.post(f"/settings/groups/{group_id}", {"name": "Support desk", "area_audit": "r"}).status_code == 303
    with app.app_context():
        assert db.session.get(StaffGroup, group_id).grant_map() == {"audit": False}
    assert admin.post(f"/settings/groups/{group_id}/delete", {}).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffGroupMember)) == 0
        deleted = {e.table_name for e in db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "DELETE"))}
        assert deleted == {"staff_group", "staff_group_member"}
    assert admin.get(f"/settings/groups/{group_id}").status_code == 404
