"""The portal's checkout page: what it shows, a refusal by the field keeping what was typed, success to the
order's page, a second press landing on the same order, and the totals following the shipping rate."""
import re

import sqlalchemy as sa

from panel.extensions import db
from panel.options import set_option
from panel.store.models import CartLine, Order
from tests.factories import CustomerFactory
from tests.store.factories import ShippingRateFactory, shop


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def form_of(ids, token, **changes) -> dict:
    lines = ids["lines"]
    data = {"token": token, f"deployment-{lines['plan']}": ids["deployment_id"],
            f"deployment-{lines['licence']}": ids["deployment_id"], f"organisation-{lines['credits']}": ids["customer_id"],
            "shipping_rate_id": ids["rate_id"], "shipping_address": "1 Main St\nSpringfield", "payment_method": "wire",
            "has_po": "yes", "po_number": "PO-42", "terms": "1"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_checkout_page_shows_pickers_organisations_shipping_methods_and_the_terms(app, portal_client):
    with app.app_context():
        ids = shop()
        set_option("store_wire_instructions", "IBAN DE00 1234 <b>")
        set_option("store_terms_version", "4")
        db.session.commit()
    client = portal_client(ids["email"])
    html = client.get("/portal/store/checkout").get_data(as_text=True)
    assert html.count("Search for deployment") == 2 and "A licence cannot be moved after purchase" in html
    assert html.count("Apply to All") == 2
    assert f'name="organisation-{ids["lines"]["credits"]}"' in html and "Acme Telecom (#" in html
    assert "1 Main St" in html and "Springfield" in html  # pre-filled from the billing address
    assert "Ground — 15.00 USD" in html and "1,390.00 USD" in html
    assert "IBAN DE00 1234 &lt;b&gt;" in html and "(not available)" in html
    assert "Do you have a Reference or PO number?" in html and "version 4" in html
    assert len(token_of(html)) >= 40


def test_a_refusal_comes_back_422_by_the_field_and_keeps_what_was_typed(app, portal_client):
    with app.app_context():
        ids = shop()
    client = portal_client(ids["email"])
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    response = client.post("/portal/store/checkout", form_of(ids, token, terms=None, po_number="",
                                                              shipping_address="Dock 4, Harbour Rd"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Tick the box to agree to the Terms and Conditions." in html
    assert "Enter your reference or PO number (or answer No)." in html
    assert "Dock 4, Harbour Rd" in html and token in html
    assert "Head office PBX" in html  # the picked deployment is shown again
    for name in ("po_number", "shipping_address"):
        response = client.post("/portal/store/checkout", form_of(ids, token, **{name: "PO\x00\x07"}))
        assert response.status_code == 422 and "Remove the control characters" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CartLine)) == 4


def test_process_order_lands_on_the_order_and_a_second_press_on_the_same_one(app, portal_client):
    with app.app_context():
        ids = shop()
    client = portal_client(ids["email"])
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    first = client.post("/portal/store/checkout", form_of(ids, token))
    assert first.status_code == 303
    again = client.post("/portal/store/checkout", form_of(ids, token))
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Awaiting payment" in page and "PO-42" in page and "1,390.00" in page
    assert "Head office PBX" in page and "waits for your Wire Transfer payment" in page
    assert "Your cart is empty." in client.get("/portal/store/checkout").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1


def test_the_total_follows_the_shipping_rate(app, portal_client):
    with app.app_context():
        ids = shop()
        express = ShippingRateFactory(name="Express", amount="40.00").id
    client = portal_client(ids["email"])
    block = client.get(f"/portal/store/checkout/totals?shipping_rate_id={express}", htmx=True).get_data(as_text=True)
    assert "Express" in block and "1,415.00 USD" in block and "<html" not in block


def test_the_checkout_picker_offers_only_reachable_deployments_of_the_product_line(app, portal_client):
    from tests.factories import DeploymentFactory

    with app.app_context():
        ids = shop()
        DeploymentFactory(customer_id=ids["customer_id"], name="Edge SBC", product="SBC")
        DeploymentFactory(customer_id=CustomerFactory(name="Other").id, name="Their PBX")
    client = portal_client(ids["email"])
    html = client.get("/portal/store/checkout/deployments?product_line=PBX&q=", htmx=True).get_data(as_text=True)
    assert "Head office PBX" in html and "Edge SBC" not in html and "Their PBX" not in html


def test_a_contact_who_may_not_buy_is_refused_and_offered_a_quote(app, portal_client):
    with app.app_context():
        ids = shop(contact_type="Technical")
    client = portal_client(ids["email"])
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    response = client.post("/portal/store/checkout", form_of(ids, token))
    assert response.status_code == 422 and "Only Admin and Billing contacts place orders." in response.get_data(as_text=True)


def test_a_quote_is_saved_converted_from_its_page_and_cannot_be_converted_twice(app, portal_client):
    with app.app_context():
        ids = shop()
    client = portal_client(ids["email"])
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    saved = client.post("/portal/store/checkout", form_of(ids, token, quote="1", payment_method=None))
    assert saved.status_code == 303
    number = saved.headers["Location"].rsplit("/", 1)[1]
    assert number.startswith("Q-")
    assert number in client.get("/portal/quotes").get_data(as_text=True)
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Convert to order" in page and "Valid until" in page
    assert "Printable view" in page and client.get(f"/portal/orders/{number}/print").status_code == 200
    refused = client.post(f"/portal/orders/{number}/convert", {"payment_method": "cheque"})
    assert refused.status_code == 422 and "Terms and Conditions" in refused.get_data(as_text=True)
    converted = client.post(f"/portal/orders/{number}/convert", {"payment_method": "cheque", "terms": "1"})
    assert converted.status_code == 303 and "/portal/orders/O-" in converted.headers["Location"]
    twice = client.post(f"/portal/orders/{number}/convert", {"payment_method": "cheque", "terms": "1"})
    assert twice.status_code == 409 and "converted into an order already" in twice.get_data(as_text=True)
    copied = client.post(f"/portal/orders/{number}/copy")
    assert copied.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CartLine)) == 4


def test_another_customers_order_is_not_found(app, portal_client):
    with app.app_context():
        ids = shop()
        other = shop(email="other@beta.example")
    client = portal_client(ids["email"])
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    number = client.post("/portal/store/checkout", form_of(ids, token)).headers["Location"].rsplit("/", 1)[1]
    assert portal_client(other["email"]).get(f"/portal/orders/{number}").status_code == 404


JUNK = ["x" * 20_000, "\x00\x01bad", "<script>alert(1)</script>", "' OR 1=1 --", "99999999999999999999", "-1",
        "١٢٣", "\u202e\u200b"]


def test_junk_in_any_field_is_refused_by_the_field_never_a_500_and_nothing_is_written(app, portal_client):
    with app.app_context():
        ids = shop()
    client = portal_client(ids["email"])
    token = token_of(client.get("/portal/store/checkout").get_data(as_text=True))
    fields = list(form_of(ids, token))
    for name in fields:
        if name == "token":
            continue
        for junk in JUNK:
            data = form_of(ids, token, **{name: junk})
            data.pop("terms", None)  # never accepted, so the cart stays for the next try
            response = client.post("/portal/store/checkout", data)
            html = response.get_data(as_text=True)
            assert response.status_code == 422, (name, junk[:20], response.status_code)
            assert 'class="error' in html and "<script>alert(1)</script>" not in html, (name, junk[:20])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CartLine)) == 4
