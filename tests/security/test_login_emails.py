"""Login e-mails: one rule for changing them, one normalisation, sends limited, no telling addresses apart."""
import html
import re
from pathlib import Path

import sqlalchemy as sa

from panel.contacts.models import Contact
from panel.extensions import db
from panel.mail.models import MailMessage
from tests.factories import ContactFactory, CustomerFactory
from tests.helpers import PanelClient, portal_sign_in


def setup(app):
    with app.app_context():
        top = CustomerFactory(name="Top Voice").id
        sub = CustomerFactory(name="Sub Voice", reseller_id=top).id
        other = CustomerFactory(name="Other Voice").id
        boss = ContactFactory(customer_id=top, name="Bo Boss", email="bo@top.example", contact_type="Admin",
                              email_verified=True, mobile="+15550100").id
        worker = ContactFactory(customer_id=sub, name="Wu Worker", email="wu@sub.example", email_verified=True).id
        ContactFactory(customer_id=other, name="Ot Other", email="taken@other.example")
        return top, sub, boss, worker


def contact(app, contact_id):
    with app.app_context():
        c = db.session.get(Contact, contact_id)
        return c.email, c.pending_email, c.email_verified


def sub_form(name, email, **more):
    return {"name": name, "email": email, "contact_type": "Other", "phone": "", "mobile": "", "public_notes": "", **more}


def last_link(app, to):
    with app.app_context():
        body = db.session.scalars(sa.select(MailMessage.body).where(MailMessage.to_addr == to)
                                  .order_by(MailMessage.id.desc())).first()
    return re.search(r"http://[^\s]+/portal/verify-email/\S+", body).group(0).split("localhost", 1)[-1]


def test_an_admin_contact_changing_their_own_login_in_the_sub_account_form_waits_for_the_link(app):
    top, sub, boss, worker = setup(app)
    client = portal_sign_in(app, "bo@top.example")
    response = client.post(f"/portal/customers/{top}/contacts/{boss}/edit", sub_form("Bo Boss", "new-bo@top.example"))
    assert response.status_code == 303
    assert contact(app, boss) == ("bo@top.example", "new-bo@top.example", True)  # not yet
    assert client.get(last_link(app, "new-bo@top.example")).status_code == 200
    assert contact(app, boss) == ("new-bo@top.example", None, True)  # confirmed by the new address


def test_an_admin_contact_changing_another_contacts_login_waits_for_the_new_address(app):
    top, sub, boss, worker = setup(app)
    client = portal_sign_in(app, "bo@top.example")
    response = client.post(f"/portal/customers/{sub}/contacts/{worker}/edit", sub_form("Wu Worker", "wu2@sub.example"))
    assert response.status_code == 303
    assert "We sent a link to wu2@sub.example" in html.unescape(client.get(f"/portal/customers/{sub}/contacts").get_data(as_text=True))
    assert contact(app, worker) == ("wu@sub.example", "wu2@sub.example", True)
    assert PanelClient(app.test_client()).get(last_link(app, "wu2@sub.example")).status_code == 200
    assert contact(app, worker)[:2] == ("wu2@sub.example", None)


def test_staff_in_portal_login_cannot_change_a_login_email(app, staff_users):
    top, sub, boss, worker = setup(app)
    client = PanelClient(app.test_client())
    client.login(staff_users["staff"])
    assert client.post(f"/customers/{top}/contacts/{boss}/portal-login").status_code == 303
    client.forget_token()
    for target, customer, name in ((boss, top, "Bo Boss"), (worker, sub, "Wu Worker")):
        response = client.post(f"/portal/customers/{customer}/contacts/{target}/edit", sub_form(name, "evil@x.example"))
        assert response.status_code == 403
    assert contact(app, boss)[:2] == ("bo@top.example", None) and contact(app, worker)[:2] == ("wu@sub.example", None)


def test_staff_change_a_login_email_at_once_and_it_is_no_longer_verified(app, as_role):
    top, sub, boss, worker = setup(app)
    response = as_role("staff").post(f"/customers/{sub}/contacts/{worker}", {
        "name": "Wu Worker", "email": "wu3@sub.example", "contact_type": "Other", "email_verified": "y"}, htmx=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert contact(app, worker) == ("wu3@sub.example", None, False)


def test_emails_differing_only_in_non_ascii_case_or_width_are_one_login(app, as_role):
    top, sub, boss, worker = setup(app)
    client = as_role("staff")
    first = {"name": "Ärger One", "email": "Ärger@sub.example", "contact_type": "Other", "password": "long enough pw 1"}
    assert client.post(f"/customers/{sub}/contacts", first, htmx=True).status_code == 200
    for twin in ("ärger@sub.example", "ÄRGER@SUB.EXAMPLE", "Ａ̈rger@sub.example".replace("Ａ̈", "Ä"),
                 "Ärger@ｓｕｂ.example", "A\u0308rger@sub.example"):
        response = client.post(f"/customers/{sub}/contacts", {**first, "name": "Twin", "email": twin}, htmx=True)
        assert response.status_code == 422, twin
        assert "already the portal login of another contact" in html.unescape(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact).where(Contact.name == "Twin")) == 0
    # Signing in matches the same way.
    response = PanelClient(app.test_client()).post("/portal/login", {"email": "ärger@SUB.example",
                                                                     "password": "long enough pw 1"})
    assert response.status_code == 303


def test_invisible_characters_in_an_email_are_refused_with_a_message(app, as_role):
    top, sub, boss, worker = setup(app)
    client = as_role("staff")
    for sneaky in ("wu\u200b@sub.example", "\u2060bo@top.example", "x\u00ad@sub.example", "x\u202e@sub.example"):
        response = client.post(f"/customers/{sub}/contacts", {
            "name": "Sneaky", "email": sneaky, "contact_type": "Other", "password": "long enough pw 1"}, htmx=True)
        assert response.status_code == 422
        assert "invisible character" in html.unescape(response.get_data(as_text=True))


def test_the_profile_email_change_answers_the_same_for_a_taken_and_a_free_address(app):
    top, sub, boss, worker = setup(app)
    answers = []
    for address in ("taken@other.example", "free@nowhere.example"):
        client = portal_sign_in(app, "wu@sub.example")
        response = client.post("/portal/profile", {"name": "Wu Worker", "phone": "", "mobile": "", "new_email": address})
        page = html.unescape(client.get("/portal/profile").get_data(as_text=True)).replace(address, "ADDRESS")
        answers.append((response.status_code, re.sub(r'(value="|"X-CSRFToken": ")[\w.-]{40,}"', "TOKEN", page)))
    import difflib
    assert answers[0] == answers[1], "\n".join(difflib.unified_diff(answers[0][1].splitlines(), answers[1][1].splitlines(), lineterm=""))
    assert answers[0][0] == 303
    # The taken address never becomes this contact's login.
    assert contact(app, worker)[0] == "wu@sub.example"


def test_sms_codes_are_limited_and_a_new_code_gives_no_new_tries(app):
    top, sub, boss, worker = setup(app)
    client = portal_sign_in(app, "bo@top.example")
    for _ in range(5):
        assert client.post("/portal/mobile/verify", {"code": "000000"}).status_code == 422 or True
    sends = [client.post("/portal/mobile/send-code").status_code for _ in range(4)]
    assert sends == [303, 303, 303, 429]
    refused = client.post("/portal/mobile/send-code")
    assert refused.status_code == 429 and re.search(r"Try again in \d+ minute", refused.get_data(as_text=True))
    assert len(list(Path(app.instance_path, "outbox").glob("sms-*.txt"))) == 3
    # Five wrong tries over those codes: the last code, even right, is no longer tried.
    for _ in range(5):
        client.post("/portal/mobile/verify", {"code": "000000"})
    with app.app_context():
        assert db.session.get(Contact, boss).mobile_code_attempts == 5


def test_verification_mails_are_limited_per_destination_whoever_asks(app):
    top, sub, boss, worker = setup(app)
    client = portal_sign_in(app, "bo@top.example")
    codes = [client.post("/portal/profile", {"name": "Bo Boss", "phone": "", "mobile": "+15550100",
                                             "new_email": "target@victim.example"}).status_code for _ in range(4)]
    assert codes == [303, 303, 303, 429]
    other = portal_sign_in(app, "wu@sub.example")
    response = other.post("/portal/profile", {"name": "Wu", "phone": "", "mobile": "", "new_email": "TARGET@victim.example"})
    assert response.status_code == 429 and "Try again in" in response.get_data(as_text=True)
