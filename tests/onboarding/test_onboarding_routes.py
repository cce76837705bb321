"""The New customer pages, staff side and portal side: Next, Back, Cancel, Save and Back, the rows of a
step, who owns a draft, and that nothing becomes a customer before the last step."""
import re

import pytest
import sqlalchemy as sa

from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel.extensions import db
from panel.mail.models import MailMessage
from panel.onboarding import flow
from panel.onboarding.models import OnboardingDraft
from tests.onboarding.data import ADMINS, CUSTOMER, SUPPORT, rows_form

STEP = re.compile(r"/onboarding/(\d+)/step/(\d)$")


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _draft(app, draft_id) -> tuple[int, dict] | None:
    with app.app_context():
        draft = db.session.get(OnboardingDraft, draft_id)
        return (draft.step, flow.load(draft)) if draft else None


def _start(client, base="/onboarding", customer=None) -> int:
    response = client.post(f"{base}/new", {**CUSTOMER, "currency": "EUR", **(customer or {}), "action": "next"})
    assert response.status_code == 303, response.get_data(as_text=True)
    draft_id, step = STEP.search(response.headers["Location"]).groups()
    assert step == "2"
    return int(draft_id)


def _to_step_three(client, base="/onboarding") -> int:
    draft_id = _start(client, base)
    response = client.post(f"{base}/{draft_id}/step/2", {**rows_form("admin", ADMINS), "action": "next"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/{draft_id}/step/3")
    return draft_id


def test_staff_onboard_a_customer_in_three_steps(app, staff_client):
    client = staff_client("staff")
    assert "+ New customer, step by step" in client.get("/customers").get_data(as_text=True)
    page = client.get("/onboarding/new").get_data(as_text=True)
    assert "Customer information" in page and 'name="currency"' in page
    draft_id = _to_step_three(client)
    assert _count(app, Customer) == 0, "nothing is created before the last step"
    page = client.get(f"/onboarding/{draft_id}/step/3").get_data(as_text=True)
    # An empty step 3 starts with a Maintainer row and an Onsite Admin row.
    assert re.search(r'name="support-0-type".*?<option value="Maintainer" selected>', page, re.S)
    assert re.search(r'name="support-1-type".*?<option value="Onsite Admin" selected>', page, re.S)
    response = client.post(f"/onboarding/{draft_id}/step/3", {**rows_form("support", SUPPORT), "action": "next"})
    assert response.status_code == 303
    with app.app_context():
        customer = db.session.scalar(sa.select(Customer).where(Customer.name == "Gamma Hosting"))
        assert response.headers["Location"] == f"/customers/{customer.id}"
        assert (customer.currency, customer.status, customer.reseller_id) == ("EUR", "Pending Approval", None)
        types = sorted(db.session.scalars(sa.select(Contact.contact_type).where(Contact.customer_id == customer.id)))
        assert types == ["Admin", "Maintainer", "Onsite Admin"]
        # The welcome e-mails went out (to instance/outbox/ in tests): their temporary passwords are erased.
        mails = db.session.scalars(sa.select(MailMessage)).all()
        assert sorted(m.to_addr for m in mails) == ["ann@gamma.example", "max@gamma.example", "ola@gamma.example"]
        assert all(m.status == "sent" and m.body is None for m in mails)
    assert _draft(app, draft_id) is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Gamma Hosting (#" in page and "is created" in page


@pytest.mark.parametrize("types, message", [
    (["Maintainer", "Other"], "Add an Onsite Admin support contact."),
    (["Onsite Admin"], "Add a Maintainer support contact."),
    (["Other", "Other"], "Add a Maintainer and an Onsite Admin support contact."),
])
def test_the_last_step_says_which_support_contact_is_missing(app, staff_client, types, message):
    client = staff_client("staff")
    draft_id = _to_step_three(client)
    rows = [{"name": f"Person {i}", "email": f"p{i}@gamma.example", "type": t} for i, t in enumerate(types)]
    response = client.post(f"/onboarding/{draft_id}/step/3", {**rows_form("support", rows), "action": "next"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in body
    assert 'value="Person 0"' in body and 'value="p0@gamma.example"' in body  # typed input kept
    assert _count(app, Customer) == 0 and _count(app, Contact) == 0 and _count(app, MailMessage) == 0
    assert _draft(app, draft_id) is not None


def test_messages_stand_by_their_fields_and_input_is_kept_escaped(app, staff_client):
    client = staff_client("staff")
    response = client.post("/onboarding/new", {**CUSTOMER, "name": "<b>Bold</b>", "city": "", "country": "USA",
                                               "currency": "EUR", "action": "next"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="city"[^>]*aria-invalid="true".*?Enter the city\.', body, re.S)
    assert "Use the two-letter country code" in body
    assert 'value="&lt;b&gt;Bold&lt;/b&gt;"' in body and "<b>Bold</b>" not in body
    assert _count(app, OnboardingDraft) == 0
    draft_id = _start(client)
    rows = [{"name": "Ann", "email": "ann@gamma.example"}, {"name": "Twin", "email": "ANN@gamma.example"}]
    response = client.post(f"/onboarding/{draft_id}/step/2", {**rows_form("admin", rows), "action": "next"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="admin-1-email"[^>]*aria-invalid="true".*?already used for another contact in this draft',
                     body, re.S)


def test_an_email_of_an_existing_contact_is_refused_at_its_step(app, staff_client, reseller):
    client = staff_client("staff")
    draft_id = _to_step_three(client)
    rows = [*SUPPORT, {"name": "Rita", "email": "RITA@reseller.example", "type": "Other"}]
    response = client.post(f"/onboarding/{draft_id}/step/3", {**rows_form("support", rows), "action": "next"})
    assert response.status_code == 422
    assert "already the portal login of another contact" in response.get_data(as_text=True)


def test_back_keeps_what_was_typed_and_next_needs_the_step_complete(app, staff_client):
    client = staff_client("staff")
    draft_id = _start(client)
    half = {"admin-0-name": "Half Typed", "admin-0-email": "not yet"}
    response = client.post(f"/onboarding/{draft_id}/step/2", {**half, "action": "back"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/{draft_id}/step/1")
    step, data = _draft(app, draft_id)
    assert step == 1 and data["admins"] == [{"name": "Half Typed", "email": "not yet"}]
    page = client.get(f"/onboarding/{draft_id}/step/1").get_data(as_text=True)
    assert 'value="Gamma Hosting"' in page and 'value="Back"' not in page
    assert "Half Typed" in client.get(f"/onboarding/{draft_id}/step/2").get_data(as_text=True)
    assert client.post(f"/onboarding/{draft_id}/step/2", {**half, "action": "next"}).status_code == 422


def test_save_and_back_keeps_the_draft_and_it_resumes_at_that_step(app, staff_client):
    client = staff_client("staff")
    draft_id = _to_step_three(client)
    response = client.post(f"/onboarding/{draft_id}/step/3", {**rows_form("support", SUPPORT[:1]), "action": "save"})
    assert response.status_code == 303 and response.headers["Location"] == "/onboarding/"
    listing = client.get("/onboarding/").get_data(as_text=True)
    assert "Gamma Hosting" in listing and "3. Support contacts" in listing and "is saved" in listing
    assert f'href="/onboarding/{draft_id}/step/3">Resume' in listing
    page = client.get(f"/onboarding/{draft_id}/step/3").get_data(as_text=True)
    assert 'value="max@gamma.example"' in page
    assert _count(app, Customer) == 0
    # Save and Back on the first page makes the draft, even unfinished.
    response = client.post("/onboarding/new", {"name": "Just A Name", "country": "u\x00s", "action": "save"})
    assert response.status_code == 303
    with app.app_context():
        draft = db.session.scalar(sa.select(OnboardingDraft).where(OnboardingDraft.id != draft_id))
        assert draft.step == 1 and flow.load(draft)["customer"]["name"] == "Just A Name"
        assert flow.load(draft)["customer"]["country"] == "US"  # a draft keeps no control characters


def test_a_later_step_is_not_reached_before_the_earlier_ones(app, staff_client):
    client = staff_client("staff")
    assert client.post("/onboarding/new", {"name": "Only", "action": "save"}).status_code == 303
    draft_id = _first_draft_id(app)
    response = client.get(f"/onboarding/{draft_id}/step/3")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/{draft_id}/step/1")
    response = client.post(f"/onboarding/{draft_id}/step/3", {**rows_form("support", SUPPORT), "action": "next"})
    assert response.status_code == 409
    assert client.get(f"/onboarding/{draft_id}/step/4").status_code == 404
    assert client.get(f"/onboarding/{draft_id}/step/0").status_code == 404
    assert _count(app, Customer) == 0


def _first_draft_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(OnboardingDraft.id).order_by(OnboardingDraft.id))


def test_cancel_asks_then_discards_the_draft(app, staff_client):
    client = staff_client("staff")
    draft_id = _to_step_three(client)
    page = client.get(f"/onboarding/{draft_id}/cancel").get_data(as_text=True)
    assert "Discard the draft of Gamma Hosting?" in page
    assert _draft(app, draft_id) is not None, "asking discards nothing"
    response = client.post(f"/onboarding/{draft_id}/cancel")
    assert response.status_code == 303 and response.headers["Location"] == "/onboarding/"
    assert _draft(app, draft_id) is None and _count(app, Customer) == 0
    assert client.get(f"/onboarding/{draft_id}/step/1").status_code == 404


def test_rows_are_added_and_removed_keeping_what_was_typed(app, staff_client):
    client = staff_client("staff")
    draft_id = _start(client)
    typed = rows_form("admin", [{"name": "First", "email": "first@gamma.example"}])
    response = client.post(f"/onboarding/{draft_id}/step/2", {**typed, "action": "add-admin"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/{draft_id}/step/2#admin-1")
    page = client.get(f"/onboarding/{draft_id}/step/2").get_data(as_text=True)
    assert 'value="First"' in page and 'name="admin-1-name"' in page
    rows = [{"name": "First", "email": "first@gamma.example"}, {"name": "Second", "email": "second@gamma.example"}]
    response = client.post(f"/onboarding/{draft_id}/step/2", {**rows_form("admin", rows), "action": "remove-admin-0"})
    assert response.status_code == 303
    assert _draft(app, draft_id)[1]["admins"] == [{"name": "Second", "email": "second@gamma.example"}]
    # A remove of a row that is not there changes nothing; an unknown action counts as Next.
    assert client.post(f"/onboarding/{draft_id}/step/2", {**rows_form("admin", rows[1:]),
                                                         "action": "remove-admin-99"}).status_code == 303
    response = client.post(f"/onboarding/{draft_id}/step/2", {**rows_form("admin", rows[1:]), "action": "dance"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/step/3")


def test_no_admin_contacts_is_fine(app, staff_client):
    client = staff_client("staff")
    draft_id = _start(client)
    response = client.post(f"/onboarding/{draft_id}/step/2", {"admin-0-name": "", "admin-0-email": "", "action": "next"})
    assert response.status_code == 303
    response = client.post(f"/onboarding/{draft_id}/step/3", {**rows_form("support", SUPPORT), "action": "next"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 2


def test_drafts_belong_to_their_owner(app, staff_client, reseller, portal_as):
    mine = staff_client("staff")
    draft_id = _start(mine)
    other = staff_client("admin")
    assert "Gamma Hosting" not in other.get("/onboarding/").get_data(as_text=True)
    for url in (f"/onboarding/{draft_id}/step/1", f"/onboarding/{draft_id}/step/2", f"/onboarding/{draft_id}/cancel"):
        assert other.get(url).status_code == 404
        assert other.post(url, {"action": "save"}).status_code == 404
    # A portal admin's draft is not a staff member's either, and the other way round.
    portal = portal_as(reseller.admin_email)
    portal_draft = _start(portal, "/portal/onboarding")
    assert mine.get(f"/onboarding/{portal_draft}/step/1").status_code == 404
    assert portal.get(f"/portal/onboarding/{draft_id}/step/1").status_code == 404
    assert _draft(app, draft_id) is not None


def test_readonly_staff_see_the_pages_but_change_nothing(app, staff_client):
    client = staff_client("readonly")
    assert client.get("/onboarding/").status_code == 200
    assert "+ New customer" not in client.get("/onboarding/").get_data(as_text=True)
    assert client.post("/onboarding/new", {**CUSTOMER, "currency": "EUR", "action": "next"}).status_code == 403
    assert _count(app, OnboardingDraft) == 0


def test_one_person_keeps_a_bounded_number_of_drafts(app, staff_client, monkeypatch):
    monkeypatch.setattr(flow, "MAX_DRAFTS", 2)
    client = staff_client("staff")
    _start(client)
    _start(client)
    response = client.post("/onboarding/new", {**CUSTOMER, "currency": "EUR", "action": "next"})
    assert response.status_code == 409
    assert _count(app, OnboardingDraft) == 2


# The portal -------------------------------------------------------------------------------------

def test_a_portal_admin_onboards_a_sub_account_of_their_customer(app, reseller, portal_as):
    client = portal_as(reseller.admin_email)
    page = client.get("/portal/onboarding/new").get_data(as_text=True)
    assert "New sub-account of Reseller One" in page and 'name="currency"' not in page and "GBP" in page
    restricted = {"reseller_id": "1", "customer_type": "Distributor", "payment_terms": "Net 60",
                  "debit_limit": "50000", "status": "Active", "currency": "JPY", "channel_limit": "99"}
    response = client.post("/portal/onboarding/new", {**CUSTOMER, **restricted, "action": "next"})
    assert response.status_code == 303
    draft_id = int(STEP.search(response.headers["Location"]).group(1))
    response = client.post(f"/portal/onboarding/{draft_id}/step/2",
                           {**rows_form("admin", ADMINS), **restricted, "action": "next"})
    assert response.status_code == 303
    assert _count(app, Customer) == 1
    response = client.post(f"/portal/onboarding/{draft_id}/step/3",
                           {**rows_form("support", SUPPORT), **restricted, "action": "next"})
    assert response.status_code == 303
    with app.app_context():
        customer = db.session.scalar(sa.select(Customer).where(Customer.name == "Gamma Hosting"))
        assert response.headers["Location"] == f"/portal/customers/{customer.id}"
        assert (customer.reseller_id, customer.currency, customer.status, customer.customer_type,
                customer.payment_terms, customer.debit_limit, customer.channel_limit) == (
            reseller.id, "GBP", "Pending Approval", "End Customer", "Prepaid", 0, 0)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)
                                 .where(Contact.customer_id == customer.id)) == 3
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Gamma Hosting" in page and "sub-account of Reseller One" in page


def test_the_portal_tells_an_admin_which_support_contact_is_missing(app, reseller, portal_as):
    client = portal_as(reseller.admin_email)
    draft_id = _to_step_three(client, "/portal/onboarding")
    response = client.post(f"/portal/onboarding/{draft_id}/step/3",
                           {**rows_form("support", SUPPORT[:1]), "action": "next"})
    assert response.status_code == 422
    assert "Add an Onsite Admin support contact." in response.get_data(as_text=True)
    assert _count(app, Customer) == 1


def test_a_contact_who_is_not_an_admin_has_no_onboarding(app, reseller, portal_as):
    client = portal_as(reseller.other_email)
    admin = portal_as(reseller.admin_email)
    draft_id = _start(admin, "/portal/onboarding")
    for url in ("/portal/onboarding/", "/portal/onboarding/new", f"/portal/onboarding/{draft_id}/step/1",
                f"/portal/onboarding/{draft_id}/cancel"):
        assert client.get(url).status_code == 404, url
        if url != "/portal/onboarding/":
            assert client.post(url, {**CUSTOMER, "action": "next"}).status_code == 404, url
    assert _count(app, OnboardingDraft) == 1 and _count(app, Customer) == 1


def test_staff_in_portal_login_onboard_as_the_admin_contact(app, reseller, staff_client):
    client = staff_client("staff")
    response = client.post(f"/customers/{reseller.id}/contacts/{reseller.admin_id}/portal-login")
    assert response.status_code == 303
    client.forget_token()
    draft_id = _to_step_three(client, "/portal/onboarding")
    with app.app_context():
        assert db.session.get(OnboardingDraft, draft_id).contact_id == reseller.admin_id
    response = client.post(f"/portal/onboarding/{draft_id}/step/3", {**rows_form("support", SUPPORT), "action": "next"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(Customer.reseller_id).where(Customer.name == "Gamma Hosting")) == reseller.id


def test_portal_save_and_back_and_cancel(app, reseller, portal_as):
    client = portal_as(reseller.admin_email)
    draft_id = _start(client, "/portal/onboarding")
    response = client.post(f"/portal/onboarding/{draft_id}/step/2", {**rows_form("admin", ADMINS), "action": "save"})
    assert response.status_code == 303 and response.headers["Location"] == "/portal/onboarding/"
    listing = client.get("/portal/onboarding/").get_data(as_text=True)
    assert f'href="/portal/onboarding/{draft_id}/step/2">Resume' in listing
    assert client.post(f"/portal/onboarding/{draft_id}/cancel").status_code == 303
    assert _draft(app, draft_id) is None


def test_two_presses_of_create_customer_make_one_customer(app, staff_client):
    """Both requests ask at once: one creates the customer, the other finds the draft gone (404 or 409),
    never a second customer and never a 500."""
    import threading

    first, second = staff_client("staff"), staff_client("staff")
    draft_id = _to_step_three(first)
    data = {**rows_form("support", SUPPORT), "action": "next"}
    for client in (first, second):
        client.token()  # fetched before the race: the sign-in page is a request too
    barrier, codes = threading.Barrier(2), []

    def press(client):
        barrier.wait()
        codes.append(client.post(f"/onboarding/{draft_id}/step/3", data).status_code)

    threads = [threading.Thread(target=press, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(codes) in ([303, 404], [303, 409]), codes
    assert _count(app, Customer) == 1 and _count(app, Contact) == 3
