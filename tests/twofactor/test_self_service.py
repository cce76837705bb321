"""One's own second factor: turning it off (a current code or the password; refused with the reason when the
role or customer requires it), ten new recovery codes (shown once, the old ones stop working), and the
audit entries of enrolment, removal, reset, new codes and revocation, with no secret in them."""
import json

import sqlalchemy as sa

from panel import unit_of_work
from panel.audit.models import AuditEntry
from panel.auth.models import StaffUser
from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel.extensions import db
from panel.options import set_option
from panel.twofactor import factors
from panel.twofactor.models import Passkey, RecoveryCode, TotpSecret
from tests.helpers import PASSWORD, CONTACT_PASSWORD
from tests.twofactor.test_two_factor import (  # noqa: F401  (fixtures and the page helpers)
    CODES,
    contact,
    enrol,
    enrolled_staff,
    fresh_code,
    portal_password,
    second_step,
    sign_in_password,
    take_token,
)


def _events(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)
                                  .order_by(AuditEntry.id)).all()


def _signed_in(app, enrolled):
    client = sign_in_password(app, enrolled["email"])
    assert second_step(client, fresh_code(enrolled["secret"])).status_code == 303
    take_token(client, "/account/two-factor")
    return client


def _no_secret_in(entries, *secrets):
    text = " ".join(f"{e.data} {e.comment} {e.message}" for e in entries)
    for secret in secrets:
        assert secret.replace("-", "") not in text.replace("-", "")


def test_enrolment_is_an_enrol_entry_without_the_secret(app, enrolled_staff):
    entries = _events(app, "ENROL")
    assert len(entries) == 1
    data = json.loads(entries[0].data)
    assert data["method"] == [None, "authenticator app"] and data["staff user"] == [None, enrolled_staff["email"]]
    _no_secret_in(entries, enrolled_staff["secret"], *enrolled_staff["codes"])


def test_staff_turn_their_second_factor_off_with_a_code(app, enrolled_staff):
    client = _signed_in(app, enrolled_staff)
    with app.app_context():
        secret = db.session.scalar(sa.select(TotpSecret))
        secret.last_step = None  # the sign-in used this step's code: let the test use a code again
        db.session.commit()
    response = client.post("/account/two-factor/off", {"code": fresh_code(enrolled_staff["secret"], 1)})
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TotpSecret)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    removed = _events(app, "UNENROL")
    assert len(removed) == 1 and enrolled_staff["email"] in removed[0].user_label
    _no_secret_in(removed, enrolled_staff["secret"])
    again = sign_in_password(app, enrolled_staff["email"])
    assert again.get("/customers").status_code == 200  # no second step any more


def test_the_password_also_proves_it_and_a_wrong_one_changes_nothing_and_is_throttled(app, enrolled_staff):
    app.config["LOGIN_MAX_FAILURES_PER_EMAIL"] = 2
    client = _signed_in(app, enrolled_staff)
    assert client.post("/account/two-factor/off", {}).status_code == 422
    for _ in range(2):
        wrong = client.post("/account/two-factor/off", {"password": "not the password at all"})
        assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    throttled = client.post("/account/two-factor/off", {"password": PASSWORD})
    assert throttled.status_code == 429 and "Too many" in throttled.get_data(as_text=True)
    with app.app_context():
        assert factors.has_totp(db.session.scalar(sa.select(StaffUser).where(StaffUser.email == enrolled_staff["email"])))
    assert not _events(app, "UNENROL")


def test_turning_it_off_is_refused_with_the_reason_when_the_role_requires_it(app, enrolled_staff):
    client = _signed_in(app, enrolled_staff)
    with app.app_context(), unit_of_work.unit():
        set_option(factors.REQUIRE_OPTION, "staff")
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "You cannot turn it off" in page and "required for every staff user" in page
    response = client.post("/account/two-factor/off", {"password": PASSWORD})
    assert response.status_code == 409 and "required for every staff user" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TotpSecret)) == 1


def test_new_recovery_codes_are_shown_once_and_the_old_ones_stop_working(app, enrolled_staff):
    client = _signed_in(app, enrolled_staff)
    response = client.post("/account/two-factor/recovery-codes")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    codes = CODES.findall(response.get_data(as_text=True))
    assert len(codes) == 10 and not set(codes) & set(enrolled_staff["codes"])
    assert not set(codes) & set(CODES.findall(client.get("/account/two-factor").get_data(as_text=True)))
    old = sign_in_password(app, enrolled_staff["email"])
    assert second_step(old, enrolled_staff["codes"][0]).status_code == 401
    assert second_step(old, codes[0]).status_code == 303
    entries = _events(app, "CODES")
    assert len(entries) == 1 and json.loads(entries[0].data)["count"] == [None, 10]
    _no_secret_in(entries, *codes)


def test_new_codes_need_a_second_factor_and_the_csrf_token(app, as_role):
    client = as_role("staff")
    take_token(client, "/account/two-factor")
    assert client.post("/account/two-factor/recovery-codes", csrf=False).status_code == 400
    assert client.post("/account/two-factor/recovery-codes").status_code == 409


def test_a_staff_user_removes_their_own_passkey_as_an_unenrol_entry(app, as_role, staff_users):
    client = as_role("staff")  # signed in fully before the passkey exists
    with app.app_context():
        owner = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == staff_users["staff"]))
        db.session.add(Passkey(staff_user_id=owner.id, name="Laptop", credential_id="bGFwdG9w", public_key=b"k",
                               sign_count=0))
        db.session.commit()
        passkey_id = db.session.scalar(sa.select(Passkey.id))
    assert "Laptop" in take_token(client, "/account/two-factor")
    assert client.post(f"/account/passkeys/{passkey_id}/remove").status_code == 303
    entries = _events(app, "UNENROL")
    assert len(entries) == 1 and json.loads(entries[0].data)["passkey"] == [None, "Laptop"]
    assert sign_in_password(app, staff_users["staff"]).get("/customers").status_code == 200


def test_the_last_passkey_of_someone_who_must_have_one_is_not_removed(app, as_role, staff_users):
    client = as_role("staff")
    with app.app_context(), unit_of_work.unit():
        owner = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == staff_users["staff"]))
        db.session.add(Passkey(staff_user_id=owner.id, name="Only key", credential_id="b25seQ", public_key=b"k",
                               sign_count=0))
        set_option(factors.REQUIRE_OPTION, "staff")
    take_token(client, "/account/two-factor")
    passkey_id = _passkey_id(app)
    response = client.post(f"/account/passkeys/{passkey_id}/remove")
    assert response.status_code == 409 and "required for every staff user" in response.get_data(as_text=True)
    assert _passkey_id(app) == passkey_id


def _passkey_id(app):
    with app.app_context():
        return db.session.scalar(sa.select(Passkey.id))


def test_an_admin_reset_is_a_reset2fa_entry(app, enrolled_staff, staff_users):
    admin = sign_in_password(app, staff_users["admin"])
    take_token(admin, "/settings/two-factor")
    with app.app_context():
        user_id = db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == enrolled_staff["email"]))
    assert admin.post(f"/settings/two-factor/staff/{user_id}/reset").status_code == 303
    entries = _events(app, "RESET2FA")
    assert len(entries) == 1 and entries[0].user_label.startswith("admin@example.com")
    assert json.loads(entries[0].data)["staff user"] == [None, enrolled_staff["email"]]
    _no_secret_in(entries, enrolled_staff["secret"])


def test_the_audit_page_filters_by_the_new_actions(app, enrolled_staff, staff_users):
    admin = sign_in_password(app, staff_users["admin"])
    page = admin.get("/audit").get_data(as_text=True)
    for action in ("ENROL", "UNENROL", "RESET2FA", "CODES", "REVOKE"):
        assert f'value="{action}"' in page, action
    listed = admin.get("/audit?action=ENROL").get_data(as_text=True)
    assert "<code>ENROL</code>" in listed and "<code>POST</code>" not in listed


# -- the portal -------------------------------------------------------------------------------------

def test_a_contact_turns_it_off_with_the_password_and_makes_new_codes(app, contact):
    client = portal_password(app, contact)
    secret, codes, _ = enrol(client, "/portal/two-factor/setup")
    page = take_token(client, "/portal/profile")
    assert "Make new recovery codes" in page and "Turn two-factor sign-in off" in page
    renewed = client.post("/portal/two-factor/recovery-codes")
    new = CODES.findall(renewed.get_data(as_text=True))
    assert renewed.status_code == 200 and len(new) == 10 and not set(new) & set(codes)
    wrong = client.post("/portal/two-factor/off", {"password": "wrong wrong wrong"})
    assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    assert client.post("/portal/two-factor/off", {"password": CONTACT_PASSWORD}).status_code == 303
    with app.app_context():
        row = db.session.scalar(sa.select(Contact).where(Contact.email == contact))
        assert not factors.enrolled(row)
        entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action.in_(["ENROL", "CODES", "UNENROL"]))).all()
        assert sorted(e.action for e in entries) == ["CODES", "ENROL", "UNENROL"]
        assert all(e.customer_id == row.customer_id for e in entries)  # in that customer's log too
    _no_secret_in(entries, secret, *codes, *new)
    assert portal_password(app, contact).get("/portal/").status_code == 200


def test_a_contact_cannot_turn_it_off_when_the_customer_requires_it(app, contact):
    client = portal_password(app, contact)
    secret, _, _ = enrol(client, "/portal/two-factor/setup")
    with app.app_context():
        row = db.session.scalar(sa.select(Contact).where(Contact.email == contact))
        db.session.get(Customer, row.customer_id).require_two_factor = True
        db.session.commit()
    page = take_token(client, "/portal/profile")
    assert "Your provider requires two-factor sign-in" in page
    response = client.post("/portal/two-factor/off", {"password": CONTACT_PASSWORD})
    assert response.status_code == 409 and "Your provider requires two-factor sign-in" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TotpSecret)) == 1


def test_portal_login_cannot_change_the_contacts_second_factor(app, as_role, customer, contact):
    client = portal_password(app, contact)
    enrol(client, "/portal/two-factor/setup")
    with app.app_context():
        contact_id = db.session.scalar(sa.select(Contact.id).where(Contact.email == contact))
    staff = as_role("staff")
    take_token(staff, "/customers")
    assert staff.post(f"/customers/{customer}/contacts/{contact_id}/portal-login").status_code == 303
    page = take_token(staff, "/portal/profile")
    assert "Turn two-factor sign-in off" not in page
    for url in ("/portal/two-factor/off", "/portal/two-factor/recovery-codes", "/portal/passkeys/options"):
        assert staff.post(url, {"password": CONTACT_PASSWORD}).status_code == 403, url
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TotpSecret)) == 1
