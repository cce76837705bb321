"""The Cards tab on the staff customer record and in the portal: list, add (through the SetupIntent the page's
script asks for), set default, remove; who may see and change it; the Content-Security-Policy that lets the
processor's script in on the Add card page only; no processor id or key in any page."""
import re

import pytest
import sqlalchemy as sa

from panel.cards.models import StoredCard
from panel.extensions import db
from tests.cards.conftest import PROCESSOR_SECRET, SECRET_KEY, confirm_setup
from tests.factories import ContactFactory, CustomerFactory
from tests.helpers import portal_sign_in


def _add_through_pages(client, base: str, number: str = "4242424242424242"):
    """What the Add card page does in a browser: ask for a SetupIntent, confirm it with the card, post its id."""
    page = client.get(f"{base}/new")
    assert page.status_code == 200
    answer = client.post(f"{base}/setup-intent", htmx=True)  # the X-CSRFToken header, as cards.js sends it
    assert answer.status_code == 200, answer.get_data(as_text=True)
    secret = answer.get_json()["client_secret"]
    setup_intent = re.match(r"^(seti_\w+)_secret_", secret).group(1)
    confirm_setup(client.client.application.config["STRIPE_API_BASE"], setup_intent, number)
    return client.post(base, {"setup_intent": setup_intent})


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    body = response.get_data(as_text=True)
    assert not PROCESSOR_SECRET.search(body) and SECRET_KEY not in body, url
    return body


@pytest.fixture
def customers(cards_app):
    """A reseller with a sub-account, each with an Admin contact; the reseller also has Billing and Technical ones."""
    with cards_app.app_context():
        reseller = CustomerFactory(name="Reseller Inc")
        sub = CustomerFactory(name="Sub Account Co", reseller_id=reseller.id)
        ContactFactory(customer_id=reseller.id, email="admin@reseller.example", contact_type="Admin")
        ContactFactory(customer_id=reseller.id, email="billing@reseller.example", contact_type="Billing")
        ContactFactory(customer_id=reseller.id, email="tech@reseller.example", contact_type="Technical")
        ContactFactory(customer_id=sub.id, email="admin@sub.example", contact_type="Admin")
        db.session.commit()
        return {"reseller": reseller.id, "sub": sub.id}


def _cards_of(app, customer_id: int) -> list[StoredCard]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(StoredCard).where(StoredCard.customer_id == customer_id,
                                                                    StoredCard.removed_at.is_(None))
                                        .order_by(StoredCard.id)))
        db.session.expunge_all()
        return found


def test_staff_add_list_set_default_and_remove_cards_on_the_customer_record(cards_app, as_role, customers):
    client = as_role("staff")
    base = f"/customers/{customers['reseller']}/cards"
    assert "Cards" in _page(client, f"/customers/{customers['reseller']}")
    assert _add_through_pages(client, base).status_code == 303
    assert _add_through_pages(client, base, "4000056655665556").status_code == 303
    body = _page(client, base)
    assert "•••• 4242" in body and "•••• 5556" in body and "11/2031" in body and "Test mode" in body
    first, second = _cards_of(cards_app, customers["reseller"])
    assert first.is_default and not second.is_default
    refused = client.post(f"{base}/{first.id}/remove")
    assert refused.status_code == 409 and "default card cannot be removed" in refused.get_data(as_text=True)
    assert client.post(f"{base}/{second.id}/default").status_code == 303
    assert client.post(f"{base}/{first.id}/remove").status_code == 303
    assert [(c.id, c.is_default) for c in _cards_of(cards_app, customers["reseller"])] == [(second.id, True)]


def test_a_setup_intent_not_issued_to_this_browser_for_this_customer_is_refused(cards_app, as_role, customers):
    client = as_role("staff")
    other = f"/customers/{customers['sub']}/cards"
    secret = client.post(f"{other}/setup-intent", htmx=True).get_json()["client_secret"]
    setup_intent = re.match(r"^(seti_\w+)_secret_", secret).group(1)
    confirm_setup(client.client.application.config["STRIPE_API_BASE"], setup_intent)
    refused = client.post(f"/customers/{customers['reseller']}/cards", {"setup_intent": setup_intent})
    assert refused.status_code == 422 and "not set up" in refused.get_data(as_text=True)
    assert client.post(f"/customers/{customers['reseller']}/cards", {"setup_intent": "garbage"}).status_code == 422
    assert _cards_of(cards_app, customers["reseller"]) == []


def test_another_customers_card_is_not_found_on_either_side(cards_app, as_role, customers):
    client = as_role("staff")
    assert _add_through_pages(client, f"/customers/{customers['sub']}/cards").status_code == 303
    (card,) = _cards_of(cards_app, customers["sub"])
    for action in ("default", "remove"):
        assert client.post(f"/customers/{customers['reseller']}/cards/{card.id}/{action}").status_code == 404
    admin = portal_sign_in(cards_app, "admin@reseller.example")
    for action in ("default", "remove"):
        assert admin.post(f"/portal/cards/{card.id}/{action}").status_code == 404
    assert "•••• 4242" not in _page(admin, "/portal/cards")
    assert len(_cards_of(cards_app, customers["sub"])) == 1


def test_readonly_staff_see_the_cards_but_change_nothing(cards_app, as_role, customers):
    client = as_role("readonly")
    body = _page(client, f"/customers/{customers['reseller']}/cards")
    assert "Add card" not in body
    assert client.post(f"/customers/{customers['reseller']}/cards/setup-intent", htmx=True).status_code == 403


@pytest.mark.parametrize("email", ["admin@reseller.example", "billing@reseller.example"])
def test_admin_and_billing_contacts_manage_their_own_customers_cards_in_the_portal(cards_app, customers, email):
    client = portal_sign_in(cards_app, email)
    assert 'href="/portal/cards"' in _page(client, f"/portal/customers/{customers['reseller']}")
    assert _add_through_pages(client, "/portal/cards").status_code == 303
    body = _page(client, "/portal/cards")
    assert "•••• 4242" in body and "Default" in body
    (card,) = _cards_of(cards_app, customers["reseller"])
    assert client.post(f"/portal/cards/{card.id}/remove").status_code == 303
    assert _cards_of(cards_app, customers["reseller"]) == []


def test_other_contacts_and_sub_accounts_seen_through_the_tree_have_no_cards_tab(cards_app, customers):
    tech = portal_sign_in(cards_app, "tech@reseller.example")
    assert tech.get("/portal/cards").status_code == 404
    assert tech.post("/portal/cards/setup-intent", htmx=True).status_code == 404
    assert "/portal/cards" not in _page(tech, f"/portal/customers/{customers['reseller']}")
    admin = portal_sign_in(cards_app, "admin@reseller.example")
    sub_page = _page(admin, f"/portal/customers/{customers['sub']}")  # the reseller's Admin sees the sub-account
    assert "Sub Account Co" in sub_page and "/portal/cards" not in sub_page


def test_the_add_card_page_alone_lets_the_processors_script_in(cards_app, as_role, customers, localstripe):
    client = as_role("staff")
    new = client.get(f"/customers/{customers['reseller']}/cards/new")
    policy = new.headers["Content-Security-Policy"]
    assert f"script-src 'self' {localstripe.url};" in policy and f"connect-src 'self' {localstripe.url};" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    body = new.get_data(as_text=True)
    assert f'<script src="{localstripe.js_url}"></script>' in body and "pk_test_panel_cards" in body
    for url in (f"/customers/{customers['reseller']}/cards", f"/customers/{customers['reseller']}"):
        assert "script-src 'self';" in client.get(url).headers["Content-Security-Policy"], url


def test_without_a_key_the_cards_tab_says_not_available_and_offers_nothing(app, as_role, customers):
    app.config.update(STRIPE_SECRET_KEY="")
    client = as_role("admin")
    body = _page(client, f"/customers/{customers['reseller']}/cards")
    assert "Card payments are not available" in body and "Add card" not in body
    new = client.get(f"/customers/{customers['reseller']}/cards/new")
    assert "script-src 'self';" in new.headers["Content-Security-Policy"] and "Card payments are not available" in new.get_data(as_text=True)
    assert client.post(f"/customers/{customers['reseller']}/cards/setup-intent", htmx=True).status_code == 409


def test_staff_in_portal_login_see_the_contacts_cards_but_neither_add_change_nor_remove_them(cards_app, as_role,
                                                                                            customers):
    owner = portal_sign_in(cards_app, "billing@reseller.example")
    assert _add_through_pages(owner, "/portal/cards").status_code == 303
    (card,) = _cards_of(cards_app, customers["reseller"])
    with cards_app.app_context():
        from panel.contacts.models import Contact

        billing = db.session.scalar(sa.select(Contact.id).where(Contact.email == "billing@reseller.example"))
    staff = as_role("staff")
    assert staff.post(f"/customers/{customers['reseller']}/contacts/{billing}/portal-login").status_code == 303
    staff.forget_token()
    body = _page(staff, "/portal/cards")
    assert "•••• 4242" in body and "Add card" not in body and "Remove" not in body
    assert staff.get("/portal/cards/new").status_code == 403
    assert staff.post("/portal/cards/setup-intent", htmx=True).status_code == 403
    assert staff.post(f"/portal/cards/{card.id}/remove").status_code == 403
    assert len(_cards_of(cards_app, customers["reseller"])) == 1
