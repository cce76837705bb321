"""A change of a staff user's permission groups ends that user's sessions, like a change of role: a copied
cookie replayed afterwards gets the sign-in page (401 + HX-Redirect for htmx), never a page or a write."""
import sqlalchemy as sa

from panel.auth.models import StaffGroup, StaffGroupMember, StaffUser
from panel.extensions import db
from tests.helpers import PanelClient, staff_sign_in
from tests.portal.test_server_sessions import assert_signed_out, copy_of


def _ids(app, email: str, group_name: str = "Billing") -> tuple[int, int]:
    with app.app_context():
        group = StaffGroup(name=group_name, grants="invoices:rw")
        db.session.add(group)
        db.session.commit()
        return db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)), group.id


def test_adding_a_group_ends_every_session_of_the_user(app, as_role, staff_users):
    member = staff_sign_in(app, staff_users["staff"])
    copied = copy_of(app, member)
    staff_id, group = _ids(app, staff_users["staff"])
    admin = as_role("admin")
    assert admin.post(f"/settings/staff/{staff_id}", {"role": "staff", "groups": [str(group)]}).status_code == 303
    assert_signed_out(app, copied)
    assert_signed_out(app, member)
    assert admin.get("/settings/staff").status_code == 200  # the admin's own session is untouched


def test_removing_a_group_ends_the_sessions_and_saving_the_same_groups_does_not(app, as_role, staff_users):
    staff_id, group = _ids(app, staff_users["staff"])
    with app.app_context():
        db.session.add(StaffGroupMember(staff_user_id=staff_id, group_id=group))
        db.session.commit()
    admin = as_role("admin")
    member = staff_sign_in(app, staff_users["staff"])
    assert admin.post(f"/settings/staff/{staff_id}", {"role": "staff", "groups": [str(group)]}).status_code == 303
    assert member.get("/customers").status_code in (200, 403)  # nothing changed: still signed in
    copied = copy_of(app, member)
    assert admin.post(f"/settings/staff/{staff_id}", {"role": "staff"}).status_code == 303
    assert_signed_out(app, copied)


def test_deleting_a_group_ends_its_members_sessions(app, as_role, staff_users):
    staff_id, group = _ids(app, staff_users["staff"])
    with app.app_context():
        db.session.add(StaffGroupMember(staff_user_id=staff_id, group_id=group))
        db.session.commit()
    member = staff_sign_in(app, staff_users["staff"])
    copied = copy_of(app, member)
    admin = as_role("admin")
    response = admin.post(f"/settings/groups/{group}/delete")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert_signed_out(app, copied)
    again = PanelClient(app.test_client())
    assert again.login(staff_users["staff"]).status_code == 303
