"""Staff sign-in: passwords, sessions, throttling and the safe `next` redirect."""
import re
from datetime import timedelta

import sqlalchemy as sa

from panel import unit_of_work
from panel.auth.models import LoginFailure, StaffUser
from panel.extensions import db
from panel.staff import create_staff_user
from tests.helpers import PASSWORD, PanelClient


def test_every_page_but_login_requires_sign_in(client, customer):
    for url in ("/customers", f"/customers/{customer}", "/audit", "/settings/options", f"/customers/{customer}/edit"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    assert client.get("/login").status_code == 200


def test_sign_in_lands_on_the_page_asked_for(client, staff_users, customer):
    response = client.post(f"/login?next=/customers/{customer}", {"email": "STAFF@example.com", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/customers/{customer}"
    assert client.get(f"/customers/{customer}").status_code == 200


def test_next_never_leaves_the_site(client, staff_users):
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        client.forget_token()
        response = client.post(f"/login?next={target}", {"email": "staff@example.com", "password": PASSWORD})
        assert response.headers["Location"] == "/customers"
        client.post("/logout")
        client.forget_token()


def test_wrong_password_and_unknown_email_get_the_same_answer(client, staff_users):
    wrong = client.post("/login", {"email": "staff@example.com", "password": "nope nope nope"})
    unknown = client.post("/login", {"email": "nobody@example.com", "password": "nope nope nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert "The e-mail or password is not right." in wrong.get_data(as_text=True)
    assert "The e-mail or password is not right." in unknown.get_data(as_text=True)
    # The typed e-mail stays in the form; the password never comes back.
    assert 'value="staff@example.com"' in wrong.get_data(as_text=True)
    assert "nope nope nope" not in wrong.get_data(as_text=True)


def test_long_passwords_work_beyond_bcrypts_72_bytes(app, client):
    long_password = "€" * 128  # 384 bytes in UTF-8
    with app.app_context():
        create_staff_user("long@example.com", long_password, "staff")
        unit_of_work.commit()
    assert client.post("/login", {"email": "long@example.com", "password": "€" * 127 + "x"}).status_code == 401
    assert client.login("long@example.com", long_password).status_code == 303


def test_an_absurdly_long_password_is_refused_not_crashed(client, staff_users):
    response = client.post("/login", {"email": "staff@example.com", "password": "x" * 5000})
    assert response.status_code == 422
    assert "Field cannot be longer than 1024 characters." in response.get_data(as_text=True)


ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def _age_failures(app, seconds):
    """Move every recorded failure `seconds` into the past (as if that time had gone by)."""
    with app.app_context():
        for failure in db.session.scalars(sa.select(LoginFailure)):
            failure.at -= timedelta(seconds=seconds)
        db.session.commit()


def test_guessing_one_email_is_slowed_by_a_growing_delay(app, client, staff_users):
    """Replaces the 15-minute lock-out: after 5 failures the guessing address waits 15 s, then 30 s, 60 s…"""
    for _ in range(5):
        response = client.post("/login", {"email": "staff@example.com", "password": "wrong"}, environ_base=ATTACKER)
        assert response.status_code == 401
    blocked = client.post("/login", {"email": "staff@example.com", "password": PASSWORD}, environ_base=ATTACKER)
    assert blocked.status_code == 429  # during the delay the password is not even looked at
    assert re.search(r"Too many failed sign-ins\. Try again in 1[0-5] second\(s\)\.", blocked.get_data(as_text=True))
    _age_failures(app, 16)
    assert client.post("/login", {"email": "staff@example.com", "password": "wrong"}, environ_base=ATTACKER).status_code == 401
    again = client.post("/login", {"email": "staff@example.com", "password": "wrong"}, environ_base=ATTACKER)
    assert again.status_code == 429 and re.search(r"Try again in (2\d|30) second", again.get_data(as_text=True))
    _age_failures(app, 31)
    assert client.post("/login", {"email": "staff@example.com", "password": "wrong"}, environ_base=ATTACKER).status_code == 401
    assert re.search(r"Try again in ([4-5]\d|60) second", client.post(
        "/login", {"email": "staff@example.com", "password": "x"}, environ_base=ATTACKER).get_data(as_text=True))


def test_the_owner_gets_in_with_the_right_password_while_someone_guesses_elsewhere(app, client, staff_users):
    for _ in range(12):
        client.post("/login", {"email": "staff@example.com", "password": "wrong"}, environ_base=ATTACKER)
    owner = PanelClient(app.test_client())
    response = owner.post("/login", {"email": "staff@example.com", "password": PASSWORD}, environ_base=OWNER)
    assert response.status_code == 303
    # The owner's success forgets only the owner's address: the guesser is still slowed (5 counted, the
    # tries made during the delay were never looked at).
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)
                                 .where(LoginFailure.ip == ATTACKER["REMOTE_ADDR"])) == 5
    assert client.post("/login", {"email": "staff@example.com", "password": PASSWORD},
                       environ_base=ATTACKER).status_code == 429
    # A typo from the owner's address while the account is guessed is refused as wrong (401), and only then
    # is that address slowed too.
    other = PanelClient(app.test_client())
    assert other.post("/login", {"email": "staff@example.com", "password": "typo"}, environ_base=OWNER).status_code == 401
    assert other.post("/login", {"email": "staff@example.com", "password": PASSWORD}, environ_base=OWNER).status_code == 429


def test_the_delay_never_exceeds_its_maximum(app, client, staff_users):
    with app.app_context():
        db.session.add_all(LoginFailure(email="staff@example.com", ip=ATTACKER["REMOTE_ADDR"]) for _ in range(30))
        db.session.commit()
    blocked = client.post("/login", {"email": "staff@example.com", "password": PASSWORD}, environ_base=ATTACKER)
    assert blocked.status_code == 429 and "Try again in 5 minute(s)." in blocked.get_data(as_text=True)
    _age_failures(app, 301)
    assert client.post("/login", {"email": "staff@example.com", "password": PASSWORD},
                       environ_base=ATTACKER).status_code == 303


def test_failures_for_unknown_emails_are_throttled_the_same_way(client):
    for _ in range(5):
        client.post("/login", {"email": "ghost@example.com", "password": "wrong password"})
    assert client.post("/login", {"email": "ghost@example.com", "password": "x"}).status_code == 429


def test_repeated_failures_from_one_address_are_refused(app, client, staff_users):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    for n in range(3):
        client.post("/login", {"email": f"guess{n}@example.com", "password": "wrong password"})
    assert client.post("/login", {"email": "staff@example.com", "password": PASSWORD}).status_code == 429


def test_a_deactivated_user_cannot_sign_in(app, client, staff_users):
    with app.app_context():
        db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "staff@example.com")).active = False
        db.session.commit()
    assert client.post("/login", {"email": "staff@example.com", "password": PASSWORD}).status_code == 401


def test_logout_is_a_post_with_csrf(as_role):
    client = as_role("staff")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout", csrf=False).status_code == 400
    assert client.get("/customers").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/customers").status_code == 302


def test_sign_in_records_last_login_and_one_login_entry_not_a_row_change(app, as_role):
    from panel.audit.models import AuditEntry

    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0
    as_role("staff")
    with app.app_context():
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "staff@example.com"))
        assert user.last_login_at is not None
        new = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.id > before)).all()
        assert [(e.action, e.message, e.user_label, e.staff_user_id) for e in new] == [
            ("LOGIN", "Sign-in", "staff@example.com", user.id)]
