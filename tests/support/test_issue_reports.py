"""Report an issue in the portal: the report is kept on the customer's record and e-mailed, in the same
transaction, to the customer's active support contacts (Maintainer, Onsite Admin, Other); staff see it on
the customer's page."""
import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.contacts.models import Contact
from panel.contacts.records import create_contact
from panel.customers.accounts import create_customer
from panel.extensions import db
from panel.mail.models import MailMessage
from panel.support.models import IssueReport
from panel.support.reports import file_report, support_contacts
from tests.conftest import PanelClient

PASSWORD = "contact password 123"


@pytest.fixture
def shop(app, staff_users):
    """A reseller with an Admin contact, its sub-account with a deployment, and the reseller's contacts of
    every type (one of them deactivated)."""
    from panel.deployments.models import Deployment

    def create_deployment(customer_id, product, name):
        deployment = Deployment(deployment_number=f"D-{900000 + customer_id * 10 + len(name)}", customer_id=customer_id,
                                product=product, name=name)
        db.session.add(deployment)
        db.session.commit()
        return deployment

    with app.app_context():
        reseller = create_customer(SYSTEM, {"name": "Reseller One", "status": "Active"}, "USD")
        unit_of_work.commit()
        sub = create_customer(SYSTEM, {"name": "Sub Shop", "status": "Active", "reseller_id": reseller.id}, "USD")
        unit_of_work.commit()
        outsider = create_customer(SYSTEM, {"name": "Outsider", "status": "Active"}, "USD")
        unit_of_work.commit()
        people = {}
        for name, email, kind in [("Rita Admin", "rita@r.example", "Admin"), ("Max Maint", "max@r.example", "Maintainer"),
                                  ("Ola Onsite", "ola@r.example", "Onsite Admin"), ("Oli Other", "oli@r.example", "Other"),
                                  ("Tec Tech", "tec@r.example", "Technical"), ("Bil Billing", "bil@r.example", "Billing"),
                                  ("Gone Maint", "gone@r.example", "Maintainer")]:
            people[email], _ = create_contact(SYSTEM, reseller.id, {"name": name, "email": email, "contact_type": kind},
                                              password=PASSWORD)
        people["gone@r.example"].active = False
        sam, _ = create_contact(SYSTEM, sub.id, {"name": "Sam Sub", "email": "sam@sub.example", "contact_type": "Onsite Admin"},
                                password=PASSWORD)
        db.session.commit()
        ids = {"reseller": reseller.id, "sub": sub.id, "outsider": outsider.id,
               "rita": people["rita@r.example"].id, "tec": people["tec@r.example"].id, "sam": sam.id}
        ids["sub_deployment"] = create_deployment(sub.id, "PBX", "Shop PBX").id
        ids["outside_deployment"] = create_deployment(outsider.id, "SBC", "Far SBC").id
        ids["own_deployment"] = create_deployment(reseller.id, "Gateway", "Own gateway").id
        return ids


def _portal(app, email) -> PanelClient:
    client = PanelClient(app.test_client())
    assert client.post("/portal/login", {"email": email, "password": PASSWORD}).status_code == 303
    client.forget_token()
    return client


def _mails(app) -> list[tuple[str, str]]:
    with app.app_context():
        return sorted(db.session.execute(sa.select(MailMessage.to_addr, MailMessage.subject)).all())


def test_support_contacts_are_the_active_maintainers_onsite_admins_and_others(app, shop):
    with app.app_context():
        emails = [c.email for c in support_contacts(shop["reseller"])]
    assert sorted(emails) == ["max@r.example", "ola@r.example", "oli@r.example"]


def test_a_report_is_mailed_to_the_support_contacts_and_kept(app, shop):
    client = _portal(app, "tec@r.example")
    response = client.post("/portal/report-issue", {"subject": "Calls  drop\tafter 30 s",
                                                    "description": "Since Monday.\nEvery call."})
    assert response.status_code == 303 and response.headers["Location"] == "/portal/report-issue"
    assert _mails(app) == [(to, "Issue report: Calls drop after 30 s")
                           for to in ("max@r.example", "ola@r.example", "oli@r.example")]
    with app.app_context():
        report = db.session.scalar(sa.select(IssueReport))
        assert (report.customer_id, report.contact_id, report.deployment_id, report.subject, report.description) == (
            shop["reseller"], shop["tec"], None, "Calls drop after 30 s", "Since Monday.\nEvery call.")
        assert report.sent_to == "max@r.example, ola@r.example, oli@r.example"
        # Delivered at once (to instance/outbox/ in tests), the reporter named in each message.
        messages = db.session.scalars(sa.select(MailMessage)).all()
        assert all(m.status == "sent" and "Tec Tech <tec@r.example> reported an issue for Reseller One" in m.body
                   and "Every call." in m.body for m in messages)
    page = client.get("/portal/report-issue").get_data(as_text=True)
    assert "is sent to 3 support contact(s)" in page and "Calls drop after 30 s" in page


def test_without_support_contacts_the_report_is_kept_and_the_contact_is_told(app, shop):
    client = _portal(app, "sam@sub.example")
    with app.app_context():
        db.session.get(Contact, shop["sam"]).contact_type = "Technical"
        db.session.commit()
    response = client.post("/portal/report-issue", {"subject": "No dial tone", "description": "None at all."},
                           follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "has no support contacts, so nobody was e-mailed" in body
    assert _mails(app) == []
    with app.app_context():
        report = db.session.scalar(sa.select(IssueReport))
        assert report.customer_id == shop["sub"] and report.sent_to == ""


def test_bad_input_gets_messages_by_the_fields_and_is_kept_escaped(app, shop):
    client = _portal(app, "tec@r.example")
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
    tec = _portal(app, "tec@r.example")  # not an Admin: their own customer's deployments only
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
    rita = _portal(app, "rita@r.example")
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
            file_report(customer, db.session.get(Contact, shop["tec"]), "S", "D")
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
    _portal(app, "tec@r.example").post("/portal/report-issue", {"subject": "<i>Echo</i> on calls",
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
