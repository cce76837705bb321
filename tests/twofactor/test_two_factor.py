"""Two-factor sign-in: TOTP enrolment and checks (replay, drift, recovery codes, throttling), the
half-signed-in session, who must enrol, the portal's opt-in and per-customer rule, and admin resets."""
import html
import re
import time

import pyotp
import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.audit.models import AuditEntry
from panel.auth.models import StaffUser
from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel.extensions import db
from panel.mail.models import MailMessage
from panel.options import set_option
from panel.twofactor import factors
from panel.twofactor.models import RecoveryCode, TotpSecret
from panel.types import utcnow
from tests.factories import ContactFactory
from tests.helpers import CONTACT_PASSWORD, TOKEN, PanelClient

KEY = re.compile(r'id="manual-key"[^>]*>([A-Z2-7]+)<')
CODES = re.compile(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>")


def take_token(client: PanelClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    client._token = TOKEN.search(page).group(1)
    return page


def enrol(client: PanelClient, url: str = "/account/two-factor/app") -> tuple[str, list[str], object]:
    """Enrol through the pages; returns the secret (read from the page as a person would), the recovery
    codes and the confirmation's answer."""
    page = take_token(client, url)
    secret = KEY.search(page).group(1)
    assert "<svg" in page and "<script" not in page.split("<main", 1)[1]
    response = client.post(url, {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    codes = CODES.findall(response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes, response


def fresh_code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def sign_in_password(app, email: str) -> PanelClient:
    client = PanelClient(app.test_client())
    response = client.login(email)
    assert response.status_code == 303
    return client


@pytest.fixture
def enrolled_staff(app, client, staff_users):
    """The staff user with an authenticator app; their secret and recovery codes."""
    client.login(staff_users["staff"])
    secret, codes, _ = enrol(client)
    # The confirmation used the current step: wait for the next step is not needed, later codes use drift.
    with app.app_context():
        row = db.session.scalar(sa.select(TotpSecret))
        row.last_step = None  # let the tests use the current code again
        db.session.commit()
    return {"email": staff_users["staff"], "secret": secret, "codes": codes}


def second_step(client: PanelClient, code: str):
    take_token(client, "/login/second-factor")
    return client.post("/login/second-factor", {"code": code})


def test_enrolment_stores_the_secret_as_secret_and_never_shows_it_again(app, client, staff_users):
    client.login(staff_users["staff"])
    secret, codes, _ = enrol(client)
    again = client.get("/account/two-factor/app", follow_redirects=True).get_data(as_text=True)
    assert secret not in again and "<svg" not in again
    assert secret not in client.get("/account/two-factor").get_data(as_text=True)
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name.in_(["totp_secret", "recovery_code"]))).all()
        assert entries
        text = " ".join(str(e.data) for e in entries)
        assert secret not in text and "[secret]" in text
        stored = {row.digest for row in db.session.scalars(sa.select(RecoveryCode))}
        assert len(stored) == 10 and not any(code.replace("-", "") in stored for code in codes)


def test_a_wrong_first_code_does_not_enrol(app, client, staff_users):
    client.login(staff_users["staff"])
    page = take_token(client, "/account/two-factor/app")
    secret = KEY.search(page).group(1)
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    response = client.post("/account/two-factor/app", {"code": wrong})
    assert response.status_code == 422 and "not right" in response.get_data(as_text=True)
    assert KEY.search(response.get_data(as_text=True)).group(1) == secret  # the same key, still enrolling
    with app.app_context():
        assert db.session.scalar(sa.select(TotpSecret)).confirmed_at is None


def test_sign_in_asks_for_the_code_after_the_password(app, enrolled_staff):
    client = sign_in_password(app, enrolled_staff["email"])
    response = client.get("/customers")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/second-factor")
    assert second_step(client, fresh_code(enrolled_staff["secret"])).status_code == 303
    assert client.get("/customers").status_code == 200


def test_a_half_signed_in_session_reaches_no_page_and_writes_nothing(app, enrolled_staff, customer):
    client = sign_in_password(app, enrolled_staff["email"])
    take_token(client, "/login/second-factor")
    for url in ("/customers", f"/customers/{customer}", "/audit", "/account/two-factor", "/contacts"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/second-factor" in response.headers["Location"], url
    response = client.post(f"/customers/{customer}/edit", {"name": "Taken over"})
    assert response.status_code == 303 and "/login/second-factor" in response.headers["Location"]
    response = client.get("/customers", htmx=True)
    assert response.status_code == 401 and response.headers["HX-Redirect"].endswith("/login/second-factor")
    with app.app_context():
        assert db.session.get(Customer, customer).name == "Acme Telecom"
    assert client.post("/logout").status_code == 303  # sign-out works
    assert client.get("/login/second-factor").status_code == 302


def test_a_code_is_accepted_once_only(app, enrolled_staff):
    code = fresh_code(enrolled_staff["secret"])
    first = sign_in_password(app, enrolled_staff["email"])
    assert second_step(first, code).status_code == 303
    second = sign_in_password(app, enrolled_staff["email"])
    response = second_step(second, code)
    assert response.status_code == 401 and "used already" in response.get_data(as_text=True)
    assert second.get("/customers").status_code == 302


def test_one_step_of_clock_drift_is_accepted_and_two_are_not(app, enrolled_staff):
    with app.app_context():
        secret = db.session.scalar(sa.select(TotpSecret))
        now = time.time()
        totp = pyotp.TOTP(secret.secret)
        assert not factors.accept_totp(secret, totp.at(now - 60), now)
        assert not factors.accept_totp(secret, totp.at(now + 60), now)
        assert factors.accept_totp(secret, totp.at(now - 30), now)
        assert factors.accept_totp(secret, totp.at(now + 30), now)
        assert not factors.accept_totp(secret, totp.at(now), now)  # earlier than the last accepted step
        db.session.rollback()
    client = sign_in_password(app, enrolled_staff["email"])
    assert second_step(client, fresh_code(enrolled_staff["secret"], -1)).status_code == 303


def test_a_recovery_code_works_once(app, enrolled_staff):
    code = enrolled_staff["codes"][3]
    client = sign_in_password(app, enrolled_staff["email"])
    assert second_step(client, code.upper()).status_code == 303
    other = sign_in_password(app, enrolled_staff["email"])
    assert second_step(other, code).status_code == 401
    assert second_step(other, enrolled_staff["codes"][4]).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(RecoveryCode.used_at.is_not(None))) == 2


def test_wrong_codes_are_throttled_like_passwords(app, enrolled_staff):
    app.config["LOGIN_MAX_FAILURES_PER_EMAIL"] = 3
    client = sign_in_password(app, enrolled_staff["email"])
    for _ in range(3):
        assert second_step(client, "000000" if fresh_code(enrolled_staff["secret"]) != "000000" else "111111").status_code == 401
    response = second_step(client, fresh_code(enrolled_staff["secret"]))
    assert response.status_code == 429 and "Too many wrong codes" in response.get_data(as_text=True)
    assert client.get("/customers").status_code == 302


def test_a_new_install_requires_two_factor_of_admins(app):
    app.config.pop("TWO_FACTOR_REQUIRED_DEFAULT")
    with app.app_context():
        assert factors.staff_requirement() == "admins"


@pytest.mark.parametrize("rule, role, held", [("admins", "admin", True), ("admins", "staff", False),
                                               ("staff", "readonly", True), ("nobody", "admin", False)])
def test_who_must_enrol_is_sent_to_enrolment_and_can_do_nothing_else(app, staff_users, customer, rule, role, held):
    with app.app_context(), unit_of_work.unit():
        set_option(factors.REQUIRE_OPTION, rule)
    client = PanelClient(app.test_client())
    response = client.login(staff_users[role])
    assert response.status_code == 303
    if not held:
        assert client.get("/customers").status_code == 200
        return
    assert response.headers["Location"].endswith("/account/two-factor/app")
    assert client.get(f"/customers/{customer}").headers["Location"].endswith("/account/two-factor/app")
    assert client.get("/account/two-factor").status_code == 200  # passkeys are offered there too
    enrol(client)  # a read-only user may enrol (a POST) too
    assert client.get(f"/customers/{customer}").status_code == 200


def test_the_requirement_setting_is_for_admins(app, as_role, staff_users):
    client = as_role("staff")
    assert client.get("/settings/two-factor").status_code == 403
    client = sign_in_password(app, staff_users["admin"])
    take_token(client, "/settings/two-factor")
    assert client.post("/settings/two-factor", {"required": "staff"}).status_code == 303
    assert client.post("/settings/two-factor", {"required": "everyone"}).status_code == 422
    with app.app_context():
        assert factors.staff_requirement() == "staff"


def test_an_admin_resets_a_staff_users_second_factor_and_they_are_told(app, enrolled_staff, staff_users):
    admin = sign_in_password(app, staff_users["admin"])
    page = take_token(admin, "/settings/two-factor")
    with app.app_context():
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == enrolled_staff["email"]))
        admin_id = db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == staff_users["admin"]))
    assert enrolled_staff["secret"] not in page
    assert admin.post(f"/settings/two-factor/staff/{admin_id}/reset").status_code == 409  # never one's own
    assert admin.post(f"/settings/two-factor/staff/{user.id}/reset").status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TotpSecret)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
        mail = db.session.scalar(sa.select(MailMessage).where(MailMessage.to_addr == enrolled_staff["email"]))
        assert mail is not None and "reset" in mail.subject
        assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.table_name == "totp_secret",
                                                             AuditEntry.action == "DELETE")) is not None
    client = sign_in_password(app, enrolled_staff["email"])
    assert client.get("/customers").status_code == 200  # no second factor asked any more


def test_staff_cannot_reset_second_factors(app, enrolled_staff, staff_users):
    with app.app_context():
        user_id = db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == enrolled_staff["email"]))
    client = sign_in_password(app, enrolled_staff["email"])
    second_step(client, fresh_code(enrolled_staff["secret"]))
    take_token(client, "/customers")
    assert client.post(f"/settings/two-factor/staff/{user_id}/reset").status_code == 403


# -- the portal ------------------------------------------------------------------------------------

@pytest.fixture
def contact(app, customer):
    with app.app_context():
        return ContactFactory(customer_id=customer, email="pat@example.com").email


def portal_password(app, email: str) -> PanelClient:
    client = PanelClient(app.test_client())
    response = client.post("/portal/login", {"email": email, "password": CONTACT_PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)
    client.forget_token()
    return client


def test_a_contact_turns_two_factor_on_and_then_signs_in_with_a_code(app, contact):
    client = portal_password(app, contact)
    assert "Turn on two-factor sign-in" in client.get("/portal/profile").get_data(as_text=True)
    secret, codes, _ = enrol(client, "/portal/two-factor/setup")
    other = portal_password(app, contact)
    assert other.get("/portal/").headers["Location"].endswith("/portal/two-factor")
    assert other.get("/portal/invoices").headers["Location"].endswith("/portal/two-factor")
    take_token(other, "/portal/two-factor")
    assert other.post("/portal/profile", {"name": "X"}).headers["Location"].endswith("/portal/two-factor")
    assert other.post("/portal/two-factor", {"code": "12"}).status_code == 401
    assert other.post("/portal/two-factor", {"code": codes[0]}).status_code == 303
    assert other.get("/portal/").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(Contact.name).where(Contact.email == contact)) != "X"


def test_a_customer_that_requires_two_factor_sends_its_contacts_to_enrolment(app, as_role, customer, contact):
    staff = as_role("staff")
    page = take_token(staff, f"/customers/{customer}/edit")
    assert "Portal contacts must use two-factor sign-in" in page
    values = {"name": "Acme Telecom", "status": "Active", "debit_limit": "0", "channel_limit": "30", "flow_speed": "0",
              "email": "noc@acme.example", "country": "ie", "save_action": "stay", "require_two_factor": "y"}
    response = staff.post(f"/customers/{customer}/edit", values)
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Customer, customer).require_two_factor is True
    client = portal_password(app, contact)
    assert client.get("/portal/").headers["Location"].endswith("/portal/two-factor/setup")
    assert client.get("/portal/invoices").headers["Location"].endswith("/portal/two-factor/setup")
    enrol(client, "/portal/two-factor/setup")
    assert client.get("/portal/").status_code == 200


def test_an_admin_resets_a_contacts_second_factor(app, contact, staff_users):
    client = portal_password(app, contact)
    enrol(client, "/portal/two-factor/setup")
    with app.app_context():
        contact_id = db.session.scalar(sa.select(Contact.id).where(Contact.email == contact))
    admin = sign_in_password(app, staff_users["admin"])
    assert contact in take_token(admin, "/settings/two-factor")
    assert admin.post(f"/settings/two-factor/contacts/{contact_id}/reset").status_code == 303
    with app.app_context():
        assert not factors.has_totp(db.session.get(Contact, contact_id))
        assert db.session.scalar(sa.select(MailMessage).where(MailMessage.to_addr == contact)) is not None
    assert portal_password(app, contact).get("/portal/").status_code == 200


def test_the_admins_page_pages_through_every_contact_with_an_authenticator_app(app, customer, staff_users,
                                                                             monkeypatch):
    with app.app_context():
        for n in (3, 0, 4, 1, 2):
            holder = ContactFactory(customer_id=customer, email=f"app{n}@acme.example")
            db.session.add(TotpSecret(secret=pyotp.random_base32(), confirmed_at=utcnow(), contact_id=holder.id,
                                      customer_id=customer))
        halfway = ContactFactory(customer_id=customer, email="halfway@acme.example")
        db.session.add(TotpSecret(secret=pyotp.random_base32(), contact_id=halfway.id, customer_id=customer))
        ContactFactory(customer_id=customer, email="plain@acme.example")
        db.session.commit()
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    admin = sign_in_password(app, staff_users["admin"])
    pages, url = [], "/settings/two-factor"
    for _ in range(5):
        body = admin.get(url).get_data(as_text=True)
        pages.append(re.findall(r"app\d@acme\.example", body))
        following = re.search(r'<a href="([^"]+)" rel="next">', body)
        if not following:
            break
        url = html.unescape(following.group(1))
    assert [len(page) for page in pages] == [2, 2, 1]
    # In e-mail order; an unconfirmed app and a contact without one are not listed.
    assert sum(pages, []) == [f"app{n}@acme.example" for n in range(5)]


def test_portal_login_by_staff_is_not_asked_for_the_contacts_second_factor(app, as_role, customer, contact):
    client = portal_password(app, contact)
    enrol(client, "/portal/two-factor/setup")
    with app.app_context():
        contact_id = db.session.scalar(sa.select(Contact.id).where(Contact.email == contact))
    staff = as_role("staff")
    take_token(staff, "/customers")
    assert staff.post(f"/customers/{customer}/contacts/{contact_id}/portal-login").status_code == 303
    assert staff.get("/portal/").status_code == 200
    assert staff.get("/portal/two-factor/setup").status_code == 403


# -- passkeys, without a browser (tests/browser/test_two_factor.py drives a real one) ---------------

def test_passkey_options_name_this_host_and_bad_answers_are_refused(app, as_role):
    client = as_role("staff")
    take_token(client, "/account/two-factor")
    options = client.post("/account/passkeys/options", htmx=True).get_json()
    assert options["rp"]["id"] == "localhost" and options["challenge"]
    response = client.client.post("/account/passkeys", data="not json", content_type="application/json",
                                  headers={"X-CSRFToken": client.token()})
    assert response.status_code == 422 and response.get_json()["error"]
    response = client.client.post("/account/passkeys", json={"name": "x", "credential": {"id": "AA", "response": {}}},
                                  headers={"X-CSRFToken": client.token()})
    assert response.status_code == 422  # no challenge left: each is used once


def test_a_passkey_answer_for_an_unknown_credential_signs_nobody_in(app):
    client = PanelClient(app.test_client())
    client.post("/login/passkey/options", htmx=True)
    response = client.client.post("/login/passkey", json={"id": "bm9wZQ", "response": {"clientDataJSON": ""}},
                                  headers={"X-CSRFToken": client.token()})
    assert response.status_code == 401
    assert client.get("/customers").status_code == 302


def test_a_passkey_is_removed_only_by_its_owner(app, as_role, staff_users):
    from panel.twofactor.models import Passkey

    with app.app_context():
        owner = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == staff_users["admin"]))
        db.session.add(Passkey(staff_user_id=owner.id, name="Admin's key", credential_id="YWRtaW4", public_key=b"k",
                               sign_count=0))
        db.session.commit()
        passkey_id = db.session.scalar(sa.select(Passkey.id))
    client = as_role("staff")
    take_token(client, "/account/two-factor")
    assert client.post(f"/account/passkeys/{passkey_id}/remove").status_code == 404
    with app.app_context():
        assert db.session.get(Passkey, passkey_id) is not None
