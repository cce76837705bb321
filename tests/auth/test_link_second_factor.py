"""The mailed links and the second factor: a password reset (staff and portal) asks for the second factor
when one is enrolled, before the new password is accepted, and a wrong code changes nothing and is
throttled like a sign-in; an invitation whose role must use two-factor sign-in goes straight to enrolment,
and the invited user can do nothing else first."""
import pyotp
import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.auth.models import AuthLink, StaffUser
from panel.contacts.models import Contact
from panel.extensions import db
from panel.options import set_option
from panel.twofactor import factors
from panel.twofactor.models import TotpSecret
from tests.helpers import CONTACT_PASSWORD, PASSWORD, PanelClient
from tests.mail_links import last_link
from tests.portal.conftest import world  # noqa: F401  (two customers and their contacts)
from tests.twofactor.test_two_factor import enrol, take_token

NEW = "my new long passphrase"
SIDES = {"staff": ("/forgot-password", "/login", "staff@example.com", PASSWORD, "/account/two-factor/app"),
         "portal": ("/portal/forgot-password", "/portal/login", "ana@alpha.example", CONTACT_PASSWORD,
                    "/portal/two-factor/setup")}


def _enrolled(app, side):
    """Sign in with the password, enrol an authenticator app; the secret and the recovery codes."""
    _, login, email, password, setup = SIDES[side]
    client = PanelClient(app.test_client())
    assert client.post(login, {"email": email, "password": password}).status_code == 303
    client.forget_token()
    secret, codes, _ = enrol(client, setup)
    with app.app_context():
        db.session.scalar(sa.select(TotpSecret)).last_step = None  # the test may use this step's code again
        db.session.commit()
    return secret, codes


def _link(app, side):
    forgot, _, email, _, _ = SIDES[side]
    client = PanelClient(app.test_client())
    assert client.post(forgot, {"email": email}).status_code == 200
    link = last_link(app.instance_path, email)
    page = take_token(client, link)
    return client, link, page


def _signs_in(app, side, password) -> bool:
    _, login, email, _, _ = SIDES[side]
    return PanelClient(app.test_client()).post(login, {"email": email, "password": password}).status_code == 303


def _hash(app, side):
    with app.app_context():
        email = SIDES[side][2]
        model = StaffUser if side == "staff" else Contact
        return db.session.scalar(sa.select(model.password_hash).where(model.email == email))


@pytest.mark.parametrize("side", SIDES)
def test_a_reset_asks_for_the_second_factor_before_the_new_password(app, world, side):  # noqa: F811
    secret, _ = _enrolled(app, side)
    before = _hash(app, side)
    client, link, page = _link(app, side)
    assert "give your second factor" in page and 'name="code"' in page
    missing = client.post(link, {"new": NEW, "repeat": NEW})
    assert missing.status_code == 422 and "Enter a code" in missing.get_data(as_text=True)
    wrong_code = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    wrong = client.post(link, {"new": NEW, "repeat": NEW, "code": wrong_code})
    assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    assert _hash(app, side) == before and _signs_in(app, side, SIDES[side][3]) and not _signs_in(app, side, NEW)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuthLink).where(AuthLink.used_at.is_(None))) >= 1
    done = client.post(link, {"new": NEW, "repeat": NEW, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 303 and done.headers["Location"] == SIDES[side][1]
    assert _hash(app, side) != before
    assert PanelClient(app.test_client()).post(SIDES[side][1], {"email": SIDES[side][2], "password": NEW}).status_code == 303


@pytest.mark.parametrize("side", SIDES)
def test_a_recovery_code_also_proves_it_once(app, world, side):  # noqa: F811
    _, codes = _enrolled(app, side)
    client, link, _ = _link(app, side)
    assert client.post(link, {"new": NEW, "repeat": NEW, "code": codes[0]}).status_code == 303
    client, link, _ = _link(app, side)
    assert client.post(link, {"new": NEW + "!", "repeat": NEW + "!", "code": codes[0]}).status_code == 401


@pytest.mark.parametrize("side", SIDES)
def test_wrong_codes_on_the_link_are_throttled_like_a_sign_in(app, world, side):  # noqa: F811
    app.config["LOGIN_MAX_FAILURES_PER_EMAIL"] = 2
    secret, _ = _enrolled(app, side)
    before = _hash(app, side)
    client, link, _ = _link(app, side)
    for _ in range(2):
        assert client.post(link, {"new": NEW, "repeat": NEW, "code": "000000" if pyotp.TOTP(secret).now() != "000000"
                                  else "111111"}).status_code == 401
    throttled = client.post(link, {"new": NEW, "repeat": NEW, "code": pyotp.TOTP(secret).now()})
    assert throttled.status_code == 429 and "Too many wrong codes" in throttled.get_data(as_text=True)
    assert _hash(app, side) == before


@pytest.mark.parametrize("side", SIDES)
def test_without_a_second_factor_the_link_asks_only_for_the_password(app, world, side):  # noqa: F811
    client, link, page = _link(app, side)
    assert 'name="code"' not in page
    assert client.post(link, {"new": NEW, "repeat": NEW}).status_code == 303


@pytest.mark.parametrize("side", SIDES)
def test_a_forged_passkey_answer_on_the_link_proves_nothing(app, world, side):  # noqa: F811
    from panel.twofactor.models import Passkey

    _enrolled(app, side)
    with app.app_context():
        email = SIDES[side][2]
        owner = (db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email)) if side == "staff"
                 else db.session.scalar(sa.select(Contact).where(Contact.email == email)))
        db.session.add(Passkey(name="Key", credential_id="a2V5", public_key=b"k", sign_count=0,
                               **factors.owner_columns(owner)))
        db.session.commit()
    client, link, page = _link(app, side)
    assert "Use a passkey instead of the code" in page
    options = client.client.post(f"{link}/passkey/options", headers={"X-CSRFToken": client.token()})
    assert options.status_code == 200 and options.get_json()["allowCredentials"][0]["id"] == "a2V5"
    answer = client.client.post(f"{link}/passkey", json={"id": "a2V5", "response": {"clientDataJSON": "e30"}},
                                headers={"X-CSRFToken": client.token()})
    assert answer.status_code == 401
    assert client.post(link, {"new": NEW, "repeat": NEW}).status_code == 422  # still asks for the code
    forged = link.rsplit("/", 1)[0] + "/forged"
    assert client.client.post(f"{forged}/passkey/options", headers={"X-CSRFToken": client.token()}).status_code == 404


# -- invitations ------------------------------------------------------------------------------------

def _invite(app, admin, email, role):
    response = admin.post("/settings/staff", {"email": email, "name": "New Person", "role": role})
    assert response.status_code == 303, response.get_data(as_text=True)
    return last_link(app.instance_path, email)


def test_an_invited_admin_sets_a_password_and_enrols_before_anything_else(app, as_role, customer):
    with app.app_context(), unit_of_work.unit():
        set_option(factors.REQUIRE_OPTION, "admins")
    admin = PanelClient(app.test_client())
    admin.login("admin@example.com")
    enrol(admin)  # the inviting admin is held at enrolment too, until done
    link = _invite(app, admin, "boss@example.com", "admin")
    visitor = PanelClient(app.test_client())
    take_token(visitor, link)
    done = visitor.post(link, {"new": NEW, "repeat": NEW})
    assert done.status_code == 303 and done.headers["Location"].endswith("/account/two-factor/app")
    for url in ("/customers", f"/customers/{customer}", "/settings/staff", "/audit"):
        held = visitor.get(url)
        assert held.status_code == 302 and held.headers["Location"].endswith("/account/two-factor/app"), url
    held = visitor.get("/customers", htmx=True)
    assert held.status_code == 401 and held.headers["HX-Redirect"].endswith("/account/two-factor/app")
    enrol(visitor)
    assert visitor.get(f"/customers/{customer}").status_code == 200
    assert PanelClient(app.test_client()).get(link).status_code == 404  # used once


def test_an_invited_user_who_must_enrol_and_leaves_is_sent_to_enrolment_at_the_next_sign_in(app, as_role):
    with app.app_context(), unit_of_work.unit():
        set_option(factors.REQUIRE_OPTION, "staff")
    admin = as_role("admin")
    enrol(admin)
    link = _invite(app, admin, "later@example.com", "readonly")
    visitor = PanelClient(app.test_client())
    take_token(visitor, link)
    assert visitor.post(link, {"new": NEW, "repeat": NEW}).headers["Location"].endswith("/account/two-factor/app")
    again = PanelClient(app.test_client())
    assert again.login("later@example.com", NEW).headers["Location"].endswith("/account/two-factor/app")
    assert again.get("/customers").headers["Location"].endswith("/account/two-factor/app")


def test_an_invited_user_not_required_to_enrol_signs_in_as_before(app, as_role):
    admin = as_role("admin")  # the tests' default: two-factor required of nobody
    link = _invite(app, admin, "plain@example.com", "staff")
    visitor = PanelClient(app.test_client())
    take_token(visitor, link)
    done = visitor.post(link, {"new": NEW, "repeat": NEW})
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert visitor.get("/customers").status_code == 302
