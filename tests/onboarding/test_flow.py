"""The New customer flow's rules, called without HTTP: each step's checks, the support-contact rule,
unique e-mails, and creation as one transaction that leaves nothing behind when any part fails."""
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from panel.actor import SYSTEM
from panel.contacts.models import Contact
from panel.contacts.records import create_contact
from panel.customers.models import Customer
from panel.extensions import db
from panel.mail.models import MailMessage
from panel.onboarding import flow
from panel.onboarding.models import OnboardingDraft
from tests.onboarding.data import ADMINS, CUSTOMER, SUPPORT, rows_form


def _data(customer=None, admins=None, support=None, currency="EUR") -> dict:
    return {"customer": {**CUSTOMER, "currency": currency, **(customer or {})},
            "admins": ADMINS if admins is None else admins,
            "support": SUPPORT if support is None else support, "reached": 3}


def _draft(data: dict, **owner) -> OnboardingDraft:
    from panel.auth.models import StaffUser

    if not owner:
        owner = {"staff_user_id": db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == "staff@example.com"))}
    draft = flow.start_draft(data, 3, **owner)
    db.session.commit()
    return draft


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("types, message", [
    (["Onsite Admin", "Other"], "Add a Maintainer support contact."),
    (["Maintainer", "Other"], "Add an Onsite Admin support contact."),
    (["Other"], "Add a Maintainer and an Onsite Admin support contact."),
    ([], "Add a Maintainer and an Onsite Admin support contact."),
    (["Maintainer", "Onsite Admin"], None),
    (["Onsite Admin", "Other", "Maintainer", "Maintainer"], None),
])
def test_the_support_rule_names_what_is_missing(types, message):
    rows = [{"name": f"P{i}", "email": f"p{i}@x.example", "type": t} for i, t in enumerate(types)]
    assert flow.missing_support_types(rows) == message


def test_a_blank_row_counts_for_nothing_even_with_its_type():
    rows = [{"name": "", "email": "", "type": "Maintainer"}, {"name": "O", "email": "o@x.example", "type": "Onsite Admin"}]
    assert flow.missing_support_types(rows) == "Add a Maintainer support contact."


def test_step_three_shows_the_rule_as_the_steps_message(app):
    with app.app_context():
        errors = flow.check_step(3, [SUPPORT[0]], _data(), with_currency=True)
        assert errors == {"form": ["Add an Onsite Admin support contact."]}
        assert flow.check_step(3, SUPPORT, _data(), with_currency=True) == {}


def test_step_one_needs_the_name_and_the_full_mailing_address(app):
    with app.app_context():
        errors = flow.check_customer({name: "" for name in flow.CUSTOMER_FIELDS}, with_currency=True)
    assert set(errors) == {"name", "address_line1", "city", "postal_code", "country", "business_type", "currency"}
    assert "address_line2" not in errors and "region" not in errors
    bad = flow.check_customer({**CUSTOMER, "country": "USA", "business_type": "Piracy", "currency": "XXX"},
                              with_currency=True)
    assert bad == {"country": ["Use the two-letter country code, such as US or GB."],
                   "business_type": ["Choose a business type from the list."],
                   "currency": ["Choose a currency from the list."]}
    assert flow.check_customer({**CUSTOMER, "name": "x" * 201}, with_currency=False) == {
        "name": ["Use at most 200 characters."]}
    assert flow.check_customer({**CUSTOMER, "city": "Spring\x00field"}, with_currency=False) == {
        "city": [flow.CONTROL_MESSAGE]}


def test_reading_a_step_takes_only_its_own_fields():
    form = MultiDict({**CUSTOMER, "country": "us", "currency": "EUR", "reseller_id": "1", "customer_type": "Reseller",
                      "payment_terms": "Net 60", "debit_limit": "99999", "status": "Active"})
    staff = flow.read_step(1, form, with_currency=True)
    assert staff == {**CUSTOMER, "currency": "EUR"}  # the country in capitals, nothing restricted
    assert flow.read_step(1, form, with_currency=False) == CUSTOMER
    rows = flow.read_step(3, MultiDict({**rows_form("support", SUPPORT), "support-7-name": "  Late   Row ",
                                        "support-0-customer_id": "5", "admin-0-name": "Not this step"}))
    assert rows == [*SUPPORT, {"name": "Late Row", "email": "", "type": ""}]


def test_emails_are_unique_within_the_draft_and_among_existing_contacts(app, customer):
    with app.app_context():
        create_contact(SYSTEM, customer, {"name": "Old", "email": "Taken@Acme.example"}, password="long enough pw")
        db.session.commit()
        admins = [{"name": "A", "email": "a@x.example"}, {"name": "B", "email": "A@X.example"},
                  {"name": "C", "email": "taken@acme.EXAMPLE"}, {"name": "D", "email": "max@gamma.example"}]
        errors = flow.check_step(2, admins, _data(), with_currency=True)
        assert errors == {
            "admin-1-email": ["This e-mail is already used for another contact in this draft."],
            "admin-2-email": ["This e-mail is already the portal login of another contact."],
            "admin-3-email": ["This e-mail is already used for a support contact in this draft."],
        }
        support = [*SUPPORT, {"name": "E", "email": "ann@gamma.example", "type": "Other"}]
        assert flow.check_step(3, support, _data(), with_currency=True) == {
            "support-2-email": ["This e-mail is already used for an admin contact in this draft."]}


def test_rows_need_a_name_a_valid_email_and_a_support_type(app):
    with app.app_context():
        rows = [{"name": "", "email": "x@y.example", "type": "Maintainer"},
                {"name": "N", "email": "not an email", "type": "Onsite Admin"},
                {"name": "T", "email": "t@y.example", "type": "Admin"},
                {"name": "", "email": "", "type": "Other"}]
        assert flow.check_step(3, rows, _data(admins=[]), with_currency=True) == {
            "support-0-name": ["Enter the contact's name."],
            "support-1-email": ["Enter an e-mail address such as name@example.com."],
            "support-2-type": ["Choose Maintainer, Onsite Admin or Other."],
        }


def test_no_admin_contacts_is_allowed(app):
    with app.app_context():
        assert flow.check_step(2, [], _data(), with_currency=True) == {}
        assert flow.check_step(2, [{"name": "", "email": ""}], _data(), with_currency=True) == {}


def test_a_complete_staff_draft_becomes_a_customer_with_its_contacts_and_mails(app, staff_users):
    with app.app_context():
        draft = _draft(_data())
        draft_id = draft.id
        customer, messages = flow.create_customer_from_draft(draft)
        assert (customer.name, customer.currency, customer.status, customer.reseller_id) == (
            "Gamma Hosting", "EUR", "Pending Approval", None)
        assert (customer.address_line1, customer.city, customer.postal_code, customer.country, customer.business_type) == (
            "1 Main Street", "Springfield", "12345", "US", "Technology")
        contacts = db.session.execute(sa.select(Contact.email, Contact.contact_type, Contact.must_change_password)
                                      .where(Contact.customer_id == customer.id).order_by(Contact.email)).all()
        assert contacts == [("ann@gamma.example", "Admin", True), ("max@gamma.example", "Maintainer", True),
                            ("ola@gamma.example", "Onsite Admin", True)]
        assert sorted(m.to_addr for m in messages) == ["ann@gamma.example", "max@gamma.example", "ola@gamma.example"]
        assert all(m.sensitive for m in messages)
        assert db.session.get(OnboardingDraft, draft_id) is None


def test_an_incomplete_draft_names_its_first_failing_step_and_creates_nothing(app, staff_users):
    with app.app_context():
        draft = _draft(_data(support=[SUPPORT[0]]))
        with pytest.raises(flow.Incomplete) as problem:
            flow.create_customer_from_draft(draft)
        assert problem.value.step == 3 and problem.value.errors == {"form": ["Add an Onsite Admin support contact."]}
        draft = _draft(_data(customer={"city": ""}, support=[]))
        with pytest.raises(flow.Incomplete) as problem:
            flow.create_customer_from_draft(draft)
        assert problem.value.step == 1 and "city" in problem.value.errors
        assert _count(Customer) == 0 and _count(Contact) == 0 and _count(MailMessage) == 0
        assert _count(OnboardingDraft) == 2


def test_an_email_taken_after_the_step_was_checked_is_caught_at_creation(app, staff_users, customer):
    with app.app_context():
        draft = _draft(_data())
        create_contact(SYSTEM, customer, {"name": "Quick", "email": "OLA@gamma.example"}, password="long enough pw")
        db.session.commit()
        with pytest.raises(flow.Incomplete) as problem:
            flow.create_customer_from_draft(draft)
        assert problem.value.step == 3
        assert problem.value.errors == {"support-1-email": ["This e-mail is already the portal login of another contact."]}
        assert _count(Customer) == 1  # only the fixture's


@pytest.mark.parametrize("failing_call", [1, 3])
def test_creation_is_one_transaction_when_the_mail_queue_fails(app, staff_users, monkeypatch, failing_call):
    from panel.mail import outbox

    real, calls = outbox.queue_mail, []

    def flaky(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == failing_call:
            raise RuntimeError("mail queue is down")
        return real(*args, **kwargs)

    monkeypatch.setattr(outbox, "queue_mail", flaky)
    with app.app_context():
        draft = _draft(_data())
        with pytest.raises(RuntimeError, match="mail queue is down"):
            flow.create_customer_from_draft(draft)
        assert _count(Customer) == 0 and _count(Contact) == 0 and _count(MailMessage) == 0
        assert _count(OnboardingDraft) == 1  # the draft is still there to try again
        assert calls


def test_creation_is_one_transaction_when_a_contact_insert_fails(app, staff_users, monkeypatch):
    """Two rows of the draft with one e-mail, past the checks: the database refuses the second contact,
    and neither the customer nor the first contacts nor their mails stay."""
    with app.app_context():
        twin = {"name": "Twin", "email": "ANN@gamma.example", "type": "Other"}
        draft = _draft(_data(support=[*SUPPORT, twin]))
        monkeypatch.setattr(flow, "first_incomplete", lambda data, **kw: None)
        with pytest.raises(sa.exc.IntegrityError):
            flow.create_customer_from_draft(draft)
        assert _count(Customer) == 0 and _count(Contact) == 0 and _count(MailMessage) == 0
        assert _count(OnboardingDraft) == 1


def test_a_portal_draft_becomes_a_sub_account_in_the_resellers_currency(app, reseller):
    with app.app_context():
        data = _data(currency="JPY")
        draft = _draft(data, contact_id=reseller.admin_id, reseller_id=reseller.id)
        customer, _ = flow.create_customer_from_draft(draft)
        assert (customer.reseller_id, customer.currency, customer.status) == (reseller.id, "GBP", "Pending Approval")
        assert (customer.customer_type, customer.payment_terms, customer.debit_limit) == ("End Customer", "Prepaid", 0)


def test_a_portal_draft_of_a_contact_who_is_no_longer_an_admin_is_refused(app, reseller):
    with app.app_context():
        draft = _draft(_data(), contact_id=reseller.admin_id, reseller_id=reseller.id)
        db.session.get(Contact, reseller.admin_id).contact_type = "Technical"
        db.session.commit()
        with pytest.raises(flow.OnboardingRefused):
            flow.create_customer_from_draft(draft)
        other = _draft(_data(), contact_id=reseller.other_id, reseller_id=reseller.id)
        with pytest.raises(flow.OnboardingRefused):
            flow.create_customer_from_draft(other)
        assert _count(Customer) == 1


def test_a_portal_draft_for_a_customer_outside_the_admins_tree_is_refused(app, reseller, customer):
    with app.app_context():
        draft = _draft(_data(), contact_id=reseller.admin_id, reseller_id=customer)
        with pytest.raises(flow.OnboardingRefused, match="outside your account"):
            flow.create_customer_from_draft(draft)


def test_a_draft_has_exactly_one_owner(app):
    with app.app_context(), pytest.raises(ValueError):
        flow.start_draft(flow.empty_data(), 1)


def test_a_damaged_draft_loads_as_an_empty_one(app, staff_users):
    with app.app_context():
        for text in ("not json", "[1, 2]", '{"customer": 5, "admins": {"a": 1}, "support": [1, {"name": 2}], "reached": 9}'):
            draft = _draft({})
            draft.data = text
            data = flow.load(draft)
            assert data["customer"] == {} and data["admins"] == [] and data["reached"] == 1
            assert data["support"] in ([], [{"name": "2", "email": "", "type": ""}])


def test_a_draft_used_meanwhile_is_gone(app, staff_users):
    from types import SimpleNamespace

    with app.app_context():
        draft = _draft(_data())
        draft_id = draft.id
        flow.create_customer_from_draft(draft)
        with pytest.raises(flow.DraftGone):
            flow.create_customer_from_draft(SimpleNamespace(id=draft_id))
        assert _count(Customer) == 1
