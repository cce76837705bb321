"""Report an issue in the portal: the report is kept on the customer's record and e-mailed, in the same
transaction, to the customer's active support contacts (Maintainer, Onsite Admin, Other) and Technical
contacts, else to the customer's e-mail (panel/contacts/recipients.py); staff see it on the customer's page."""
import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.contacts.models import Contact
from panel.extensions import db
from panel.mail.models import MailMessage
from panel.support.models import IssueReport
from panel.contacts.recipients import recipients
from panel.customers.models import Customer
from panel.support.reports import file_report
from tests.factories import ContactFactory, CustomerFactory, DeploymentFactory
from tests.helpers import PanelClient, portal_sign_in

@pytest.fixture
def shop(app, staff_users):
    """A reseller with an Admin contact, its sub-account with a deployment, and the reseller's contacts of
    every type (one of them deactivated)."""
    with app.app_context():
        reseller = CustomerFactory(name="Reseller One")
        sub = CustomerFactory(name="Sub Shop", reseller_id=reseller.id)
        outsider = CustomerFactory(name="Outsider")
        people = {}
        for name, email, kind in [("Rita Admin", "rita@r.example", "Admin"), ("Max Maint", "max@r.example", "Maintainer"),
                                  ("Ola Onsite", "ola@r.example", "Onsite Admin"), ("Oli Other", "oli@r.example", "Other"),
                                  ("Tec Tech", "tec@r.example", "Technical"), ("Bil Billing", "bil@r.example", "Billing"),
                                  ("Gone Maint", "gone@r.example", "Maintainer")]:
            people[email] = ContactFactory(customer_id=reseller.id, name=name, email=email, contact_type=kind,
                                           active=email != "gone@r.example")
        sam = ContactFactory(customer_id=sub.id, name="Sam Sub", email="sam@sub.example", contact_type="Onsite Admin")
        ids = {"reseller": reseller.id, "sub": sub.id, "outsider": outsider.id,
               "rita": people["rita@r.example"].id, "tec": people["tec@r.example"].id, "sam": sam.id}
        ids["sub_deployment"] = DeploymentFactory(customer_id=sub.id, product="PBX", name="Shop PBX").id
        ids["outside_deployment"] = DeploymentFactory(customer_id=outsider.id, product="SBC", name="Far SBC").id
        ids["own_deployment"] = DeploymentFactory(customer_id=reseller.id, product="Gateway", name="Own gateway").id
        return ids


def _mails(app) -> list[tuple[str, str]]:
    with app.app_context():
        return sorted(db.session.execute(sa.select(MailMessage.to_addr, MailMessage.subject)).all())


def test_issue_reports_go_to_the_active_maintainers_onsite_admins_others_and_technical_contacts(app, shop):
    with app.app_context():
        emails = [r.email for r in recipients(db.session.get(Customer, shop["reseller"]), "issue_report")]
    assert sorted(emails) == ["max@r.example", "ola@r.example", "oli@r.example", "tec@r.example"]


def test_a_report_is_mailed_to_the_support_contacts_and_kept(app, shop):
    client = portal_sign_in(app, "tec@r.example")
    response = client.post("/portal/report-issue", {"subject": "Calls  drop\tafter 30 s",
                                                    "description": "Since Monday.\nEvery call."})
    assert response.status_code == 303 and response.headers["Location"] == "/portal/report-issue"
    assert _mails(app) == [(to, "Issue report: Calls drop after 30 s")
                           for to in ("max@r.example", "ola@r.example", "oli@r.example", "tec@r.example")]
    with app.app_context():
        report = db.session.scalar(sa.select(IssueReport))
        assert (report.customer_id, report.contact_id, report.deployment_id, report.subject, report.description) == (
            shop["reseller"], shop["tec"], None, "Calls drop after 30 s", "Since Monday.\nEvery call.")
        assert report.sent_to == "max@r.example, ola@r.example, oli@r.example, tec@r.example"
        # Delivered at once (to instance/outbox/ in tests), the reporter named in each message.
        messages = db.session.scalars(sa.select(MailMessage)).all()
        assert all(m.status == "sent" and "Tec Tech <tec@r.example> reported an issue for Reseller One" in m.body
                   and "Every call." in m.body for m in messages)
    page = client.get("/portal/report-issue").get_data(as_text=True)
    assert "is sent to 4 support contact(s)" in page and "Calls drop after 30 s" in page


def test_without_support_contacts_or_customer_email_the_report_is_kept_and_the_contact_is_told(app, shop):
    client = portal_sign_in(app, "sam@sub.example")
    with app.app_context():
        db.session.get(Contact, shop["sam"]).contact_type = "Billing"
        db.session.commit()
    response = client.post("/portal/report-issue", {"subject": "No dial tone", "description": "None at all."},
                           follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "has no support contacts, so nobody was e-mailed" in body
    assert _mails(app) == []
    with app.app_context():
        report = db.session.scalar(sa.select(IssueReport))
        assert report.customer_id == shop["sub"] and report.sent_to == ""


def test_without_support_contacts_the_customer_email_receives_the_report(app, shop):
    client = portal_sign_in(app, "sam@sub.example")
    with app.app_context():
        db.session.get(Contact, shop["sam"]).contact_type = "Billing"
        db.session.get(Customer, shop["sub"]).email = "office@sub.example"
        db.session.commit()
    assert client.post("/portal/report-issue", {"subject": "No dial tone", "description": "None at all."}).status_code == 303
    assert _mails(app) == [("office@sub.example", "Issue report: No dial tone")]
    with app.app_context():
        message = db.session.scalar(sa.select(MailMessage))
        assert "at the e-mail address of Sub Shop, which has no contact for this kind of mail" in message.body


def test_bad_input_gets_messages_by_the_fields_and_is_kept_escaped(app, shop):
    client = portal_sign_in(app, "tec@r.example")
    response = client.post("/portal/report-issue", {"subject": "  ", "description": "<script>x</script>"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Say in a few words what the issue is." in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body and "<script>x</script>" not in body
    response = client.post("/portal/report-issue", {"subject": "x" * 201, "description": ""})
    assert response.status_code == 422 and "Describe the issue." in response.get_data(as_text=True)
    response = client.post("/portal/report-issue", {"subject": "S", "description": "D", "deployment_id": "",
                                                    "q": "typed but not picked"})
    assert response.status_code == 422 and "Pick the deployment from the list" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IssueReport)) == 0


def test_a_deployment_outside_the_contacts_reach_is_not_accepted(app, shop):
    tec = portal_sign_in(app, "tec@r.example")  # not an Admin: their own customer's deployments only
    for deployment in (shop["sub_deployment"], shop["outside_deployment"], 0, "abc", "9" * 30):
        response = tec.post("/portal/report-issue", {"subject": "S", "description": "D", "deployment_id": deployment,
                                                     "q": "D-1"})
        assert response.status_code == 422, deployment
    response = tec.post("/portal/report-issue", {"subject": "S", "description": "D",
                                                 "deployment_id": shop["own_deployment"], "q": "Own gateway"})
    assert response.status_code == 303
    with app.app_context():
        report = db.session.scalar(sa.select(IssueReport))
        assert (report.customer_id, report.deployment_id) == (shop["reseller"], shop["own_deployment"])


def test_an_admin_reports_for_a_sub_account_by_its_deployment(app, shop):
    rita = portal_sign_in(app, "rita@r.example")
    response = rita.post("/portal/report-issue", {"subject": "Shop PBX down", "description": "Reboot loop.",
                                                  "deployment_id": shop["sub_deployment"], "q": "Shop PBX"})
    assert response.status_code == 303
    assert _mails(app) == [("sam@sub.example", "Issue report: Shop PBX down")]
    with app.app_context():
        report = db.session.scalar(sa.select(IssueReport))
        assert (report.customer_id, report.contact_id, report.deployment_id) == (shop["sub"], shop["rita"],
                                                                                 shop["sub_deployment"])
        assert "Deployment: D-" in db.session.scalar(sa.select(MailMessage.body))
    assert rita.post("/portal/report-issue", {"subject": "S", "description": "D",
                                              "deployment_id": shop["outside_deployment"], "q": "x"}).status_code == 422


def test_the_report_and_its_mails_are_one_transaction(app, shop, monkeypatch):
    from panel.support import reports

    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("mail queue is down")
        return real(*args, **kwargs)

    real = reports.queue_mail
    monkeypatch.setattr(reports, "queue_mail", failing)
    with app.app_context():
        from panel.customers.models import Customer

        customer = db.session.get(Customer, shop["reseller"])
        with pytest.raises(RuntimeError):
            with unit_of_work.unit():
                file_report(SYSTEM, customer, db.session.get(Contact, shop["tec"]), "S", "D")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IssueReport)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == 0


def test_staff_in_portal_login_report_as_the_contact(app, shop, staff_users):
    client = PanelClient(app.test_client())
    client.login(staff_users["staff"])
    assert client.post(f"/customers/{shop['reseller']}/contacts/{shop['tec']}/portal-login").status_code == 303
    client.forget_token()
    assert client.post("/portal/report-issue", {"subject": "S", "description": "D"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(IssueReport.contact_id)) == shop["tec"]
        body = db.session.scalar(sa.select(MailMessage.body).limit(1))
        assert body is not None and "filed by your provider's staff on their behalf" in body
        assert "staff@example.com" not in body


def test_staff_see_the_reports_on_the_customer_page(app, shop, staff_users):
    portal_sign_in(app, "tec@r.example").post("/portal/report-issue", {"subject": "<i>Echo</i> on calls",
                                                               "description": "Loud echo."})
    client = PanelClient(app.test_client())
    client.login(staff_users["readonly"])
    page = client.get(f"/customers/{shop['reseller']}").get_data(as_text=True)
    assert f'hx-get="/customers/{shop["reseller"]}/issue-reports"' in page
    section = client.get(f"/customers/{shop['reseller']}/issue-reports", htmx=True)
    body = section.get_data(as_text=True)
    assert section.status_code == 200
    assert "&lt;i&gt;Echo&lt;/i&gt; on calls" in body and "Tec Tech" in body and "Loud echo." in body
    assert "max@r.example, ola@r.example, oli@r.example" in body
    empty = client.get(f"/customers/{shop['sub']}/issue-reports", htmx=True).get_data(as_text=True)
    assert "No issue reports." in empty
    assert client.get(f"/customers/{shop['reseller']}/issue-reports").status_code == 302
    assert client.get("/customers/999999/issue-reports", htmx=True).status_code == 404
