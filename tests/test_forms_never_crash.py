"""Every form answers bad input with a message, never a 500: missing fields, junk, markup, huge text."""
import pytest

from panel.actor import SYSTEM
from panel.contacts.records import create_contact
from panel.extensions import db
from tests.factories import deployment_with_credits

JUNK = ["", " ", "x" * 5000, "<script>alert(1)</script>", "'; DROP TABLE customer; --", "\x00\x07", "١٢٣", "NaN", "-1",
        "1e309", "2001-01-01T00:00", "delay"]
CUSTOMER = {"name": "A", "status": "Active", "currency": "USD", "debit_limit": "0", "channel_limit": "1", "flow_speed": "0",
            "email": "", "phone": "", "country": "", "save_action": "continue", "delay": "300", "delay_until": ""}
CONTACT = {"name": "A", "email": "a@b.example", "contact_type": "Other", "phone": "", "mobile": "", "public_notes": "",
           "private_notes": "", "auto_password": "y", "password": "", "save_action": "continue", "delay": "300"}

PAYMENT = {"amount": "10", "method": "Cash", "reference": "R", "status": "Pending", "received_on": "2026-11-20"}
ONBOARDING = {"name": "A", "address_line1": "1 Road", "address_line2": "", "city": "C", "region": "", "postal_code": "1",
              "country": "US", "business_type": "Retail", "currency": "USD", "action": "save"}
ADMIN_ROWS = {"admin-0-name": "A", "admin-0-email": "a@b.example", "admin-1-name": "", "admin-1-email": "",
              "action": "next"}
SUPPORT_ROWS = {"support-0-name": "M", "support-0-email": "m@b.example", "support-0-type": "Maintainer",
                "support-1-name": "O", "support-1-email": "o@b.example", "support-1-type": "Onsite Admin", "action": "next"}
ISSUE = {"subject": "S", "description": "D", "deployment_id": "", "q": ""}
DEPLOYMENT = {"product": "PBX", "name": "Main PBX"}
LICENCE = {"name": "Extensions", "quantity": "5", "expires_on": "2027-01-31"}
SUPPORT_PLAN = {"plan": "Premium", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}
PURCHASE = {"purchase-credits": "1000", "purchase-payment_method": "Other", "purchase-reference": "PO-1",
            "purchase-note": ""}
DEDUCTION = {"credits": "1", "ticket_reference": "TCK-1", "deployment_id": "1", "q": "D-100001 · Main PBX", "note": ""}


def _draft_without_step_one(**owner) -> int:
    """A draft at step 3 whose step 1 is empty: Next on any step never creates the customer."""
    from panel.onboarding.flow import start_draft

    draft = start_draft({"customer": {}, "admins": [], "support": [], "reached": 3}, 3, **owner)
    db.session.commit()
    return draft.id


@pytest.fixture
def targets(app, customer, staff_users):
    import sqlalchemy as sa

    from panel.auth.models import StaffUser

    with app.app_context():
        contact, _ = create_contact(SYSTEM, customer, {"name": "Ana", "email": "ana@acme.example"}, password="long enough pw")
        db.session.commit()
        contact_id = contact.id
        admin_id = db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == staff_users["admin"]))
        draft = _draft_without_step_one(staff_user_id=admin_id)
        deployment, transaction = (row.id for row in deployment_with_credits(customer, deduct=True))
    return [
        ("/customers/new", CUSTOMER),
        (f"/customers/{customer}/edit", CUSTOMER),
        (f"/customers/{customer}/contacts", CONTACT),
        (f"/customers/{customer}/contacts/{contact_id}", CONTACT),
        (f"/customers/{customer}/contacts/{contact_id}/password", {"auto_password": "", "password": ""}),
        ("/settings/options", {"require_comment": "y"}),
        (f"/customers/{customer}/payments/new", PAYMENT),
        (f"/customers/{customer}/invoices/generate", {"frame": "daily", "period": "2026-11-02"}),
        ("/onboarding/new", ONBOARDING),
        (f"/onboarding/{draft}/step/1", {**ONBOARDING, "action": "next"}),
        (f"/onboarding/{draft}/step/2", ADMIN_ROWS),
        (f"/onboarding/{draft}/step/3", SUPPORT_ROWS),
        (f"/customers/{customer}/deployments", DEPLOYMENT),
        (f"/customers/{customer}/deployments/{deployment}/licences", LICENCE),
        (f"/customers/{customer}/deployments/{deployment}/support-plans", SUPPORT_PLAN),
        (f"/customers/{customer}/support-credits/purchases", PURCHASE),
        (f"/customers/{customer}/support-credits/deductions", DEDUCTION),
        (f"/customers/{customer}/support-credits/{transaction}/reverse", {"note": "Wrong ticket"}),
        (f"/customers/{customer}/deployments/{deployment}/decommission", {"audit_comment": "Gone"}),
    ]


def test_no_form_crashes_on_missing_or_junk_fields(as_role, targets):
    client = as_role("admin")
    for url, valid in targets:
        for field in valid:
            cases = [{k: v for k, v in valid.items() if k != field}] + [{**valid, field: junk} for junk in JUNK]
            for data in cases:
                response = client.post(url, data, htmx=True)
                assert response.status_code < 500, (url, field, data.get(field), response.status_code)


@pytest.mark.parametrize("url", ["/customers?q={}", "/customers?status={}", "/contacts?q={}", "/contacts?customer={}",
                                 "/contacts?type={}", "/audit?user={}", "/audit?table={}", "/delay-log?status={}",
                                 "/customers?page={}", "/customers/deployments/search?q={}"])
def test_search_boxes_take_any_text(as_role, url):
    client = as_role("readonly")
    for junk in JUNK + ["%00", "%", "_", "\\"]:
        assert client.get(url.format(junk)).status_code == 200, (url, junk)


def test_no_portal_form_crashes_on_missing_or_junk_fields(app, customer):
    from tests.helpers import PanelClient

    with app.app_context():
        ana, _ = create_contact(SYSTEM, customer, {"name": "Ana", "email": "ana@acme.example", "mobile": "+1 555 0100",
                                           "contact_type": "Admin"}, password="long enough pw")
        db.session.commit()
        draft = _draft_without_step_one(contact_id=ana.id, reseller_id=customer)
    client = PanelClient(app.test_client())
    assert client.post("/portal/login", {"email": "ana@acme.example", "password": "long enough pw"}).status_code == 303
    client.forget_token()
    forms = [
        ("/portal/profile", {"name": "Ana", "phone": "", "mobile": "+1 555 0100", "new_email": ""}),
        ("/portal/mobile/verify", {"code": "123456"}),
        ("/portal/password", {"current": "long enough pw", "new": "another long pw", "repeat": "another long pw"}),
        ("/portal/report-issue", ISSUE),
        ("/portal/onboarding/new", {k: v for k, v in ONBOARDING.items() if k != "currency"}),
        (f"/portal/onboarding/{draft}/step/2", ADMIN_ROWS),
        (f"/portal/onboarding/{draft}/step/3", SUPPORT_ROWS),
    ]
    for url, valid in forms:
        for field in valid:
            cases = [{k: v for k, v in valid.items() if k != field}] + [{**valid, field: junk} for junk in JUNK]
            for data in cases:
                response = client.post(url, data)
                assert response.status_code < 500, (url, field, data.get(field), response.status_code)
                if url == "/portal/password" and response.status_code == 303:
                    client.forget_token()
                    valid["current"], valid["new"], valid["repeat"] = valid["new"], valid["current"], valid["current"]
    login = PanelClient(app.test_client())
    for field in ("email", "password"):
        for junk in JUNK:
            assert login.post("/portal/login", {"email": "a@b.example", "password": "x", field: junk}).status_code < 500
            assert login.post("/login", {"email": "a@b.example", "password": "x", field: junk}).status_code < 500
