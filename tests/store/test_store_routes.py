"""The Store over HTTP: Settings → Store for admins only, product forms that keep what was typed, the portal
Store (tabs, categories, items in the customer's currency, details, the plan wizard), the cart updating in
place with htmx, CSRF on every write, bad quantities answered by the field with the cart kept, and another
contact's cart out of reach."""
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.seed import seed_store
from panel.store.models import CartLine, Product
from tests.factories import ContactFactory, CustomerFactory, ProductFactory
from tests.form_crawl import forms_of
from tests.helpers import CONTACT_PASSWORD, PanelClient

PRODUCT = {"sku": "SUP-01", "name": "1 Hour of Support", "description": "One hour.", "tab": "support",
           "category": "Hourly Support", "kind": "credits", "credits": "1", "plan": "", "term_months": "",
           "product_line": "", "position": "0", "price_USD": "150", "price_EUR": "140.50"}


@pytest.fixture
def shop(app):
    """A EUR customer with an Admin contact (Ana) and a Technical one (Tom), and the demo catalogue."""
    with app.app_context():
        customer = CustomerFactory(name="Acme", currency="EUR").id
        ContactFactory(customer_id=customer, email="ana@acme.example", contact_type="Admin")
        ContactFactory(customer_id=customer, email="tom@acme.example", contact_type="Technical")
        seed_store()
        ids = dict(db.session.execute(sa.select(Product.sku, Product.id)).all())
    return ids


def line_ids(app):
    with app.app_context():
        return list(db.session.scalars(sa.select(CartLine.id).order_by(CartLine.id)))


def quantities(app):
    with app.app_context():
        return [q for q in db.session.scalars(sa.select(CartLine.quantity).order_by(CartLine.id))]


# -- Settings → Store -----------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/settings/store", "/settings/store/products/new", "/settings/store/shipping",
                                 "/settings/store/shipping/new", "/settings/store/settings"])
def test_settings_store_pages_are_for_admins_only(as_role, app, url):
    client = as_role("staff")
    assert client.get(url).status_code == 403
    if url.endswith(("/new", "/settings")):
        assert client.post(url, PRODUCT).status_code == 403


def test_an_admin_adds_a_product_and_edits_its_prices(as_role, app):
    client = as_role("admin")
    assert "Store" in client.get("/settings/options").get_data(as_text=True)
    response = client.post("/settings/store/products/new", PRODUCT)
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get("/settings/store").get_data(as_text=True)
    assert "SUP-01" in page and "150.00 USD" in page and "140.50 EUR" in page
    with app.app_context():
        product_id = db.session.scalar(sa.select(Product.id))
    form = client.get(f"/settings/store/products/{product_id}").get_data(as_text=True)
    assert 'value="140.50"' in form
    assert client.post(f"/settings/store/products/{product_id}", {**PRODUCT, "price_EUR": "", "price_GBP": "120"}).status_code == 303
    with app.app_context():
        assert {p.currency for p in db.session.get(Product, product_id).prices} == {"USD", "GBP"}
    assert client.post(f"/settings/store/products/{product_id}/retire").status_code == 303
    with app.app_context():
        assert db.session.get(Product, product_id).retired_at is not None
        from panel.audit.models import AuditEntry

        labels = set(db.session.scalars(sa.select(AuditEntry.user_label).where(
            AuditEntry.table_name.in_(["store_product", "store_product_price"]))))
        assert labels and all("admin@example.com" in label for label in labels)


@pytest.mark.parametrize("change, message", [
    ({"price_USD": "50,00"}, "Use a point"), ({"sku": ""}, "Enter a SKU."), ({"credits": ""}, "number of credits"),
    ({"price_USD": "", "price_EUR": ""}, "at least one currency"), ({"term_months": "abc"}, "integer"),
    ({"kind": "plan", "plan": "Premium", "term_months": "500"}, "Number must be between"),
])
def test_the_product_form_refuses_with_a_message_and_keeps_what_was_typed(as_role, app, change, message):
    client = as_role("admin")
    response = client.post("/settings/store/products/new", {**PRODUCT, "name": "Typed <name>", **change})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in body
    assert 'value="Typed &lt;name&gt;"' in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_a_duplicate_sku_is_refused_by_its_field(as_role, app):
    client = as_role("admin")
    assert client.post("/settings/store/products/new", PRODUCT).status_code == 303
    body = client.post("/settings/store/products/new", PRODUCT).get_data(as_text=True)
    assert re.search(r'has-error">\s*<label for="sku"', body) and "Another product has this SKU" in body


def test_shipping_rates_and_store_settings(as_role, app):
    client = as_role("admin")
    assert client.post("/settings/store/shipping/new", {"name": "Express", "position": "1", "price_USD": "45"}).status_code == 303
    assert "45.00 USD" in client.get("/settings/store/shipping").get_data(as_text=True)
    response = client.post("/settings/store/settings", {"terms": "Be nice.", "wire_instructions": "IBAN",
                                                         "cheque_instructions": "Payable to", "quote_days": "30"})
    assert response.status_code == 303
    page = client.get("/settings/store/settings").get_data(as_text=True)
    assert "version 1" in page and "Be nice." in page
    refused = client.post("/settings/store/settings", {"terms": "Be nice.", "quote_days": "0"})
    assert refused.status_code == 422 and "Number must be between 1 and 365" in refused.get_data(as_text=True)


def test_every_settings_write_needs_the_csrf_token(as_role, app, shop):
    client = as_role("admin")
    product = shop["SUP-HR-01"]
    for url in ("/settings/store/products/new", f"/settings/store/products/{product}",
                f"/settings/store/products/{product}/retire", "/settings/store/shipping/new",
                "/settings/store/settings"):
        assert client.post(url, PRODUCT, csrf=False).status_code == 400, url


# -- the portal Store ---------------------------------------------------------------------------------

def test_the_store_opens_on_hourly_support_in_the_customers_currency(app, shop, portal_client):
    client = portal_client("ana@acme.example")
    body = client.get("/portal/store").get_data(as_text=True)
    assert 'aria-current="page">Support</a>' in body and 'aria-current="page">Hourly Support</a>' in body
    assert "1 Hour of Support" in body and "138.00 EUR" in body and "USD" not in body
    assert 'type="number"' in body and 'min="1" max="999"' in body and "Add to cart" in body
    assert "Your cart is empty" in body
    detail = client.get(f"/portal/store/products/{shop['SUP-HR-05']}").get_data(as_text=True)
    assert "5 Hours of Support" in detail and "5.00 credits" in detail
    assert 'href="/portal/store"' in client.get("/portal/").get_data(as_text=True)


def test_every_item_and_cart_line_has_its_own_form_with_the_pages_csrf_token_and_a_quantity(app, shop, portal_client):
    """The Store page reads the token and the Add to cart URL once for all its forms: each form still carries them,
    with its own product, and is accepted as the page gives it."""
    client = portal_client("ana@acme.example")
    client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-01"]), "quantity": "2"})
    client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-05"]), "quantity": "1"})
    url = "/portal/store?tab=support&category=Hourly+Support"
    body = client.get(url).get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', body).group(1)
    forms = forms_of(body, "http://localhost" + url)
    adds = [f for f in forms if f.url.endswith("/portal/store/cart")]
    assert len(adds) == body.count('class="card store-item"') >= 2
    assert len({f.fields["product_id"].values[0] for f in adds}) == len(adds)
    for form in adds:
        assert form.htmx and form.fields["csrf_token"].values == [token]
        assert form.fields["quantity"].kind == "number" and form.fields["quantity"].values == ["1"]
        assert form.fields["tab"].values == ["support"] and form.fields["category"].values == ["Hourly Support"]
    lines = [f for f in forms if "/portal/store/cart/lines/" in f.url]
    assert len(lines) == 4 and all(f.fields["csrf_token"].values == [token] for f in lines)
    third = next(f for f in adds if f.fields["product_id"].values[0] not in {str(shop["SUP-HR-01"]), str(shop["SUP-HR-05"])})
    sent = {name: field.values[0] for name, field in third.fields.items() if field.values}
    assert client.post("/portal/store/cart", sent, csrf=False).status_code == 303
    assert len(line_ids(app)) == 3


def test_a_product_not_priced_in_the_currency_or_retired_is_not_found(app, shop, portal_client):
    with app.app_context():
        dollars = ProductFactory(prices={"USD": "1"}).id
    client = portal_client("ana@acme.example")
    assert client.get(f"/portal/store/products/{dollars}").status_code == 404
    assert client.post("/portal/store/cart", {"product_id": str(dollars), "quantity": "1"}).status_code == 422


def test_add_change_and_remove_in_place_with_htmx(app, shop, portal_client):
    client = portal_client("ana@acme.example")
    added = client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-01"]), "quantity": "2",
                                               "tab": "support", "category": "Hourly Support"}, htmx=True)
    body = added.get_data(as_text=True)
    assert added.status_code == 200 and 'id="cart" class="store-cart card" aria-label="Your cart" hx-swap-oob="true"' in body
    assert "Added to your cart" in body and "276.00 EUR" in body and "<html" not in body
    client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-01"]), "quantity": "1"}, htmx=True)
    [line] = line_ids(app)
    assert quantities(app) == [3]
    changed = client.post(f"/portal/store/cart/lines/{line}", {"quantity": "5"}, htmx=True)
    assert changed.status_code == 200 and "690.00 EUR" in changed.get_data(as_text=True)
    assert changed.get_data(as_text=True).lstrip().startswith("<aside id=\"cart\"")
    removed = client.post(f"/portal/store/cart/lines/{line}/remove", htmx=True)
    assert "Your cart is empty" in removed.get_data(as_text=True) and line_ids(app) == []


def test_without_javascript_each_change_returns_to_the_store_page(app, shop, portal_client):
    client = portal_client("ana@acme.example")
    response = client.post("/portal/store/cart", {"product_id": str(shop["POMP-PBXACT-1Y"]), "quantity": "1",
                                                  "tab": "plans", "category": "Peace of Mind Plans"})
    assert response.status_code == 303 and response.headers["Location"] == \
        "/portal/store?tab=plans&category=Peace+of+Mind+Plans"
    [line] = line_ids(app)
    assert client.post(f"/portal/store/cart/lines/{line}", {"quantity": "2"}).status_code == 303
    assert quantities(app) == [2]


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "100000", ""])
def test_a_bad_quantity_gets_a_message_by_the_field_and_the_cart_is_kept(app, shop, portal_client, quantity):
    client = portal_client("ana@acme.example")
    client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-01"]), "quantity": "2"})
    [line] = line_ids(app)
    changed = client.post(f"/portal/store/cart/lines/{line}", {"quantity": quantity}, htmx=True)
    body = changed.get_data(as_text=True)
    assert changed.status_code == 422
    assert re.search(r'<div class="field quantity has-error">.*?aria-invalid="true".*?<p class="error"', body, re.S)
    assert f'value="{quantity}"' in body and quantities(app) == [2]
    added = client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-05"]), "quantity": quantity}, htmx=True)
    body = added.get_data(as_text=True)
    assert added.status_code == 422 and 'aria-invalid="true"' in body and "quantity" in body.lower()
    assert quantities(app) == [2]
    page = client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-05"]), "quantity": quantity})
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and ("Enter a quantity from 1 to 999" in text or "Not a valid integer" in text)
    assert re.search(r'<div class="field quantity has-error">', text)


def test_every_portal_write_needs_the_csrf_token(app, shop, portal_client):
    client = portal_client("ana@acme.example")
    client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-01"]), "quantity": "2"})
    [line] = line_ids(app)
    for url in ("/portal/store/cart", f"/portal/store/cart/lines/{line}", f"/portal/store/cart/lines/{line}/remove"):
        assert client.post(url, {"product_id": str(shop["SUP-HR-01"]), "quantity": "3"}, csrf=False).status_code == 400
        assert client.post(url, {"quantity": "3"}, htmx=True, csrf=False).status_code == 400
    assert quantities(app) == [2]


def test_another_contacts_cart_is_out_of_reach(app, shop, portal_client):
    with app.app_context():
        other = CustomerFactory(currency="EUR").id
        ContactFactory(customer_id=other, email="olga@other.example", contact_type="Admin")
    owner = portal_client("ana@acme.example")
    owner.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-01"]), "quantity": "2"})
    [line] = line_ids(app)
    stranger = portal_client("olga@other.example")
    assert stranger.post(f"/portal/store/cart/lines/{line}", {"quantity": "9"}).status_code == 404
    assert stranger.post(f"/portal/store/cart/lines/{line}/remove").status_code == 404
    assert "1 Hour of Support" not in stranger.get("/portal/store").get_data(as_text=True).split('id="cart"')[1]
    assert quantities(app) == [2]


def test_the_cart_survives_signing_out(app, shop, portal_client):
    client = portal_client("ana@acme.example")
    client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-10"]), "quantity": "1"})
    client.post("/portal/logout")
    again = portal_client("ana@acme.example")
    assert "10 Hours of Support" in again.get("/portal/store").get_data(as_text=True).split('id="cart"')[1]


def test_other_contacts_browse_and_are_told_why_they_cannot_buy(app, shop, portal_client):
    client = portal_client("tom@acme.example")
    body = client.get("/portal/store").get_data(as_text=True)
    assert "1 Hour of Support" in body and "Add to cart" not in body
    assert "Only Admin and Billing contacts can buy" in body and "/portal/store/checkout" not in body
    assert client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-01"]), "quantity": "1"}).status_code == 403


def test_a_product_retired_since_it_was_added_shows_unavailable_in_the_cart(app, shop, portal_client):
    from panel import unit_of_work
    from panel.actor import SYSTEM
    from panel.store import catalogue

    client = portal_client("ana@acme.example")
    client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-20"]), "quantity": "1"})
    client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-01"]), "quantity": "1"})
    with app.app_context(), unit_of_work.unit():
        catalogue.retire_product(SYSTEM, db.session.get(Product, shop["SUP-HR-20"]))
    cart = client.get("/portal/store").get_data(as_text=True).split('id="cart"')[1]
    assert "20 Hours of Support" in cart and "Unavailable: No longer sold" in cart
    assert "138.00 EUR" in cart.split("Subtotal")[1] and "/portal/store/checkout" not in cart
    assert "Remove the unavailable items to check out" in cart


def test_checkout_is_offered_to_a_buyer_with_a_cart(app, shop, portal_client):
    client = portal_client("ana@acme.example")
    client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-01"]), "quantity": "1"})
    assert 'href="/portal/store/checkout"' in client.get("/portal/store").get_data(as_text=True)


def test_portal_login_quotes_and_says_it_cannot_order(app, shop, staff_users):
    with app.app_context():
        from panel.contacts.models import Contact

        ana = db.session.scalar(sa.select(Contact).where(Contact.email == "ana@acme.example"))
        customer_id, contact_id = ana.customer_id, ana.id
    client = PanelClient(app.test_client())
    client.login(staff_users["staff"])
    assert client.post(f"/customers/{customer_id}/contacts/{contact_id}/portal-login").status_code == 303
    client.forget_token()
    assert client.post("/portal/store/cart", {"product_id": str(shop["SUP-HR-01"]), "quantity": "1"}).status_code == 303
    body = client.get("/portal/store").get_data(as_text=True)
    assert "In Portal Login you can save a quote" in body and 'href="/portal/store/checkout"' in body


def test_the_plan_wizard_in_three_steps_with_and_without_htmx(app, shop, portal_client):
    client = portal_client("ana@acme.example")
    step1 = client.get("/portal/store?tab=plans&category=Peace+of+Mind+Plans").get_data(as_text=True)
    assert 'aria-current="step">1. Product line' in step1 and 'value="PBXact"' in step1 and 'value="FreePBX"' in step1
    step2 = client.get("/portal/store?tab=plans&category=Peace+of+Mind+Plans&line=PBXact", htmx=True,
                       headers={"HX-Target": "wizard"})
    body = step2.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="wizard"') and "PBXact Peace of Mind Plan, 2 years" in body
    assert "FreePBX Peace of Mind Plan" not in body
    product = shop["POMP-PBXACT-2Y"]
    step3 = client.get(f"/portal/store?tab=plans&category=Peace+of+Mind+Plans&line=PBXact&product={product}")
    body = step3.get_data(as_text=True)
    assert 'aria-current="step">3. Confirm' in body and "Add plan to cart" in body and "<html" in body
    added = client.post("/portal/store/cart", {"product_id": str(product), "quantity": "1", "tab": "plans",
                                               "category": "Peace of Mind Plans"}, htmx=True)
    assert added.status_code == 200 and "Add plan to cart" in added.get_data(as_text=True)
    assert "Added to your cart" in added.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(CartLine.product_id)) == product


def test_seeding_the_store_twice_adds_nothing(app):
    with app.app_context():
        assert seed_store()
        count = db.session.scalar(sa.select(sa.func.count(Product.id)))
        assert seed_store() is None and db.session.scalar(sa.select(sa.func.count(Product.id))) == count
        skus = set(db.session.scalars(sa.select(Product.sku)))
        assert {"SUP-HR-01", "SUP-HR-05", "SUP-HR-10", "SUP-HR-20", "POMP-FREEPBX-3Y", "HW-GW-4FXO"} <= skus
        assert Decimal(0) < db.session.get(Product, 1).price_in("GBP").amount
