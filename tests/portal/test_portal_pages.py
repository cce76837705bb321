"""The portal for contacts: sign-in rules, the overview, the profile and its verifications."""
import json
import re
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.contacts.models import Contact
from panel.contacts.records import create_contact
from panel.extensions import db
from panel.portal.models import AccessEvent
from panel.types import utcnow
from tests.helpers import CONTACT_PASSWORD, PanelClient, temporary_password
from tests.portal.conftest import MARKER


def outbox(app, pattern="*.eml"):
    return sorted(Path(app.instance_path, "outbox").glob(pattern))


def test_a_contact_sees_their_customer_and_its_public_notes(app, world, portal_client):
    body = portal_client(world.ana_email).get("/portal/").get_data(as_text=True)
    assert "Alpha Voice" in body and "Alpha public note" in body and "0.00 USD" in body
    assert MARKER not in body and "Beta" not in body


def test_sign_in_failures_say_the_same_thing(app, world):
    client = PanelClient(app.test_client())
    wrong = client.post("/portal/login", {"email": world.ana_email, "password": "wrong password"})
    unknown = client.post("/portal/login", {"email": "nobody@x.example", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401
    message = "The e-mail or password is not right, or signing in from your address is not allowed."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_staff_credentials_do_not_open_the_portal(app, world, staff_users):
    client = PanelClient(app.test_client())
    assert client.post("/portal/login", {"email": "staff@example.com", "password": "correct horse battery staple"}).status_code == 401


def test_portal_sign_in_is_throttled(app, world):
    client = PanelClient(app.test_client())
    for _ in range(5):
        client.post("/portal/login", {"email": world.ana_email, "password": "wrong password"})
    assert client.post("/portal/login", {"email": world.ana_email, "password": CONTACT_PASSWORD}).status_code == 429


def test_allow_list_refuses_other_addresses_and_audits_it(app, world):
    with app.app_context():
        db.session.get(Contact, world.ana).ip_allowlist = "203.0.113.0/24\n2001:db8::1"
        db.session.commit()
    client = PanelClient(app.test_client())
    refused = client.post("/portal/login", {"email": world.ana_email, "password": CONTACT_PASSWORD},
                          environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert refused.status_code == 401
    allowed = client.post("/portal/login", {"email": world.ana_email, "password": CONTACT_PASSWORD},
                          environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert allowed.status_code == 303
    with app.app_context():
        event = db.session.scalar(sa.select(AccessEvent))
        assert event.kind == "portal sign-in refused" and event.ip == "198.51.100.9" and "allow-list" in event.detail
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.table_name == "access_event"))
        assert entry.customer_id == world.a and entry.message == "New"


def test_staff_edit_the_allow_list_and_bad_entries_are_refused(as_role, world):
    client = as_role("staff")
    data = {"name": "Ana Alpha", "email": world.ana_email, "contact_type": "Other", "ip_allowlist": "10.0.0.0/8\nnonsense"}
    response = client.post(f"/customers/{world.a}/contacts/{world.ana}", data, htmx=True)
    assert response.status_code == 422 and "“nonsense” is not an IP address or CIDR range" in response.get_data(as_text=True)
    data["ip_allowlist"] = "10.0.0.0/8, 192.0.2.5"
    assert client.post(f"/customers/{world.a}/contacts/{world.ana}", data, htmx=True).status_code == 200


def test_a_generated_password_must_be_replaced_first_and_expires(app, world):
    with app.app_context():
        contact, message = create_contact(SYSTEM, world.a, {"name": "Cy", "email": "cy@alpha.example"})
        db.session.commit()
        temporary = temporary_password(message.body)
    client = PanelClient(app.test_client())
    assert client.post("/portal/login", {"email": "cy@alpha.example", "password": temporary}).status_code == 303
    client.forget_token()
    assert client.get("/portal/").headers["Location"] == "/portal/password"
    assert client.get("/portal/profile").headers["Location"] == "/portal/password"
    page = client.get("/portal/password").get_data(as_text=True)
    assert "Choose your password" in page and 'name="current"' not in page
    assert client.post("/portal/password", {"new": "short", "repeat": "short"}).status_code == 422
    assert client.post("/portal/password", {"new": "my own password", "repeat": "my own passwerd"}).status_code == 422
    assert client.post("/portal/password", {"new": "my own password", "repeat": "my own password"}).status_code == 303
    client.forget_token()
    assert client.get("/portal/").status_code == 200
    with app.app_context():
        contact, message = create_contact(SYSTEM, world.a, {"name": "Di", "email": "di@alpha.example"})
        contact.password_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        temporary = temporary_password(message.body)
    expired = PanelClient(app.test_client()).post("/portal/login", {"email": "di@alpha.example", "password": temporary})
    assert expired.status_code == 401 and "temporary password has expired" in expired.get_data(as_text=True)


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(app, world, portal_client):
    client = portal_client(world.ana_email)
    other = portal_client(world.ana_email)
    wrong = client.post("/portal/password", {"current": "nope", "new": "brand new password", "repeat": "brand new password"})
    assert wrong.status_code == 422 and "That is not your current password." in wrong.get_data(as_text=True)
    assert client.post("/portal/password", {"current": CONTACT_PASSWORD, "new": "brand new password",
                                            "repeat": "brand new password"}).status_code == 303
    client.forget_token()
    assert client.get("/portal/").status_code == 200
    assert other.get("/portal/").headers["Location"].startswith("/portal/login")


def test_profile_changes_are_audited_as_portal_and_the_contact(app, world, portal_client):
    client = portal_client(world.ana_email)
    response = client.post("/portal/profile", {"name": "Ana A. Alpha", "phone": "+1 555 0101", "mobile": ""})
    assert response.status_code == 303
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "contact",
                                                               AuditEntry.message == "Update")).all()[-1]
        assert entry.user_label == "Portal: Ana A. Alpha <ana@alpha.example>" or entry.user_label.startswith("Portal: Ana")
        assert entry.contact_id == world.ana and entry.staff_user_id is None
        assert json.loads(entry.data)["phone"] == ["", "+1 555 0101"]


def test_an_email_change_waits_for_the_link_sent_to_the_new_address(app, world, portal_client):
    client = portal_client(world.ana_email)
    # An address another account uses answers as a free one would (issue 14): the page tells nothing; the link
    # goes to that mailbox, and following it says the address is taken.
    taken = client.post("/portal/profile", {"name": "Ana Alpha", "new_email": world.ben_email})
    assert taken.status_code == 303
    (ben_mail,) = outbox(app)
    ben_link = re.search(r"http://localhost(/portal/verify-email/\S+)", ben_mail.read_text().replace("=\n", "")).group(1)
    refused = PanelClient(app.test_client()).get(ben_link)
    assert refused.status_code == 400 and "used by another account" in refused.get_data(as_text=True)
    assert client.post("/portal/profile", {"name": "Ana Alpha", "new_email": "ana.new@alpha.example"}).status_code == 303
    with app.app_context():
        contact = db.session.get(Contact, world.ana)
        assert contact.email == world.ana_email and contact.pending_email == "ana.new@alpha.example"
    (eml,) = [f for f in outbox(app) if "To: ana.new@alpha.example" in f.read_text()]
    assert "To: ana.new@alpha.example" in eml.read_text()
    link = re.search(r"http://localhost(/portal/verify-email/\S+)", eml.read_text().replace("=\n", "")).group(1)
    tampered = client.get(link[:-3] + "xyz")
    assert tampered.status_code == 400
    assert "E-mail confirmed" in PanelClient(app.test_client()).get(link).get_data(as_text=True)
    with app.app_context():
        contact = db.session.get(Contact, world.ana)
        assert contact.email == "ana.new@alpha.example" and contact.email_verified and contact.pending_email is None


def test_mobile_is_verified_with_a_six_digit_code(app, world, portal_client):
    client = portal_client(world.ana_email)
    client.post("/portal/profile", {"name": "Ana Alpha", "mobile": "+44 7700 900001"})
    assert client.post("/portal/mobile/send-code").status_code == 303
    (sms,) = outbox(app, "sms-*.txt")
    code = re.search(r"code is (\d{6})", sms.read_text()).group(1)
    wrong = client.post("/portal/mobile/verify", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 422 and "That code is not right." in wrong.get_data(as_text=True)
    assert client.post("/portal/mobile/verify", {"code": code}).status_code == 303
    with app.app_context():
        contact = db.session.get(Contact, world.ana)
        assert contact.mobile_verified and contact.mobile_code_hash is None
        assert all(code not in e.data for e in db.session.scalars(sa.select(AuditEntry)))


def test_a_mobile_code_allows_five_tries(app, world, portal_client):
    client = portal_client(world.ana_email)
    client.post("/portal/profile", {"name": "Ana Alpha", "mobile": "+44 7700 900001"})
    client.post("/portal/mobile/send-code")
    code = re.search(r"code is (\d{6})", outbox(app, "sms-*.txt")[0].read_text()).group(1)
    bad = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post("/portal/mobile/verify", {"code": bad})
    last = client.post("/portal/mobile/verify", {"code": code})
    assert "Too many wrong codes" in last.get_data(as_text=True)


def test_a_deactivated_contact_is_signed_out_and_cannot_sign_in(app, world, portal_client):
    client = portal_client(world.ana_email)
    with app.app_context():
        db.session.get(Contact, world.ana).active = False
        db.session.commit()
    assert client.get("/portal/").headers["Location"].startswith("/portal/login")
    assert PanelClient(app.test_client()).post("/portal/login", {"email": world.ana_email,
                                                                  "password": CONTACT_PASSWORD}).status_code == 401


def test_portal_sign_in_records_last_login(app, world, portal_client):
    portal_client(world.ana_email)
    with app.app_context():
        assert db.session.get(Contact, world.ana).last_login_at is not None


def test_a_sign_in_with_the_longest_address_or_a_long_ipv6_address_is_refused_and_counted(app, world):
    """The portal counts "portal:" + the address and "portal:" + the IP, longer than login_failure's columns
    for the longest addresses and IPv6 ones: each is refused and counted like any other (PostgreSQL used to
    answer 500), and two such addresses keep their own counts."""
    client = PanelClient(app.test_client())
    longest = "a" * 64 + "@" + ".".join(["b" * 61] * 3)  # 250 characters
    ipv6 = "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
    for _ in range(5):
        response = client.post("/portal/login", {"email": longest, "password": "wrong password"},
                               environ_base={"REMOTE_ADDR": ipv6})
        assert response.status_code == 401
    refused = client.post("/portal/login", {"email": longest, "password": "wrong password"},
                          environ_base={"REMOTE_ADDR": ipv6})
    assert refused.status_code == 429
    other = longest[:-1] + "c"  # the same start: a count of its own
    assert client.post("/portal/login", {"email": other, "password": "wrong password"},
                       environ_base={"REMOTE_ADDR": "2001:db8::2"}).status_code == 401
