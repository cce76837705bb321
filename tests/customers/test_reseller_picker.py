"""The Reseller owner picker: search-as-you-type by id or part of the name among customers that may own others
(never the customer itself nor its sub-accounts), the picked id saved, an id typed without JavaScript saved,
a name typed but not picked explained, and a loop refused by the field as before."""
import re

import sqlalchemy as sa

from panel.actor import SYSTEM
from panel.customers.accounts import reseller_candidates
from panel.customers.models import Customer
from panel.extensions import db
from tests.factories import CustomerFactory

FORM = {"name": "Acme Telecom", "status": "Active", "debit_limit": "0", "channel_limit": "30", "flow_speed": "0",
        "invoice_schedule": "none", "customer_type": "End Customer", "payment_terms": "Prepaid", "business_type": "",
        "save_action": "continue", "shipping_same_as_billing": "y"}


def picks(response) -> dict[str, str]:
    """{id: label} of the matches offered."""
    return dict(re.findall(r'data-pick="(\d+)" data-label="([^"]*)"', response.get_data(as_text=True)))


def setup_tree(app, customer):
    with app.app_context():
        north = CustomerFactory(name="Northwind Reseller", customer_type="Reseller").id
        south = CustomerFactory(name="Southwind Partner", customer_type="Partner").id
        CustomerFactory(name="Windy End Customer", customer_type="End Customer")
        below = CustomerFactory(name="Windmill Distributor", customer_type="Distributor", reseller_id=customer).id
        owner = CustomerFactory(name="Breeze Holdings", customer_type="End Customer").id  # owns one already
        CustomerFactory(name="Breeze Shop", reseller_id=owner)
    return {"north": north, "south": south, "below": below, "owner": owner}


def value_of(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
    return re.search(r'value="([^"]*)"', tag).group(1)


def test_the_picker_finds_possible_resellers_by_part_of_the_name_or_the_id(app, as_role, customer):
    ids = setup_tree(app, customer)
    client = as_role("readonly")
    url = f"/customers/resellers/search?for={customer}"
    found = picks(client.get(url + "&reseller_q=WIND", htmx=True))
    # Not the End Customer, nor Windmill (a sub-account of the customer being edited: a loop).
    assert found == {str(ids["north"]): f"#{ids['north']} · Northwind Reseller",
                     str(ids["south"]): f"#{ids['south']} · Southwind Partner"}
    assert set(picks(client.get(url + f"&reseller_q=%23{ids['owner']}", htmx=True))) == {str(ids["owner"])}
    assert set(picks(client.get(url + "&reseller_q=breeze", htmx=True))) == {str(ids["owner"])}
    everyone = picks(client.get("/customers/resellers/search?reseller_q=wind", htmx=True))
    assert str(ids["below"]) in everyone  # a new customer has no sub-accounts to avoid
    nothing = client.get(url + "&reseller_q=<zz>", htmx=True).get_data(as_text=True)
    assert "No reseller matches “&lt;zz&gt;”" in nothing
    assert client.get("/customers/resellers/search?for=99999", htmx=True).status_code == 404


def test_the_edit_page_shows_the_owner_in_the_picker_and_saves_a_picked_one(app, as_role, customer):
    ids = setup_tree(app, customer)
    client = as_role("staff")
    page = client.get(f"/customers/{customer}/edit").get_data(as_text=True)
    assert 'data-picker' in page and f'hx-get="/customers/resellers/search?for={customer}"' in page
    assert value_of(page, "reseller_q") == "" and value_of(page, "reseller_id") == ""
    label = f"#{ids['north']} · Northwind Reseller"
    response = client.post(f"/customers/{customer}/edit", {**FORM, "reseller_id": str(ids["north"]), "reseller_q": label})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Customer, customer).reseller_id == ids["north"]
    page = client.get(f"/customers/{customer}/edit").get_data(as_text=True)
    assert value_of(page, "reseller_q") == label and value_of(page, "reseller_id") == str(ids["north"])
    cleared = client.post(f"/customers/{customer}/edit", {**FORM, "reseller_id": str(ids["north"]), "reseller_q": " "})
    assert cleared.status_code == 303
    with app.app_context():
        assert db.session.get(Customer, customer).reseller_id is None


def test_without_javascript_an_id_typed_in_the_box_is_the_owner(app, as_role, customer):
    ids = setup_tree(app, customer)
    client = as_role("staff")
    # The hidden id still holds the old owner (no script cleared it): the typed id wins.
    response = client.post(f"/customers/{customer}/edit", {**FORM, "reseller_id": str(ids["south"]),
                                                           "reseller_q": str(ids["north"])})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Customer, customer).reseller_id == ids["north"]
    created = client.post("/customers/new", {**FORM, "name": "Fresh Co", "currency": "USD", "reseller_id": "",
                                             "reseller_q": f"#{ids['south']}"})
    assert created.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(Customer.reseller_id).where(Customer.name == "Fresh Co")) == ids["south"]


def test_a_name_not_picked_a_missing_customer_and_a_loop_are_explained_by_the_field(app, as_role, customer):
    ids = setup_tree(app, customer)
    client = as_role("staff")
    for typed, message in [("Northwind", "Pick the reseller from the list, or type its customer id."),
                           ("99999", "There is no customer with that id."),
                           ("99999999999", "Pick the reseller from the list, or type its customer id."),
                           (str(ids["below"]), "A customer cannot be owned by itself or by one of its own sub-accounts."),
                           (str(customer), "A customer cannot be owned by itself")]:
        response = client.post(f"/customers/{customer}/edit", {**FORM, "reseller_id": "", "reseller_q": typed})
        body = response.get_data(as_text=True)
        assert response.status_code == 422 and message in body, typed
        assert value_of(body, "reseller_q") == typed  # what was typed stays
    with app.app_context():
        assert db.session.get(Customer, customer).reseller_id is None



def test_possible_owners_come_in_name_order_with_or_without_text(app, customer):
    """A text is matched first and its matches ordered after (panel/search.py): walking the name index until
    enough owners turn up read most of a million customers when many names hold the text."""
    ids = setup_tree(app, customer)
    with app.app_context():
        for name in ("Windy Two", "Windy Three", "Windy Four"):
            CustomerFactory(name=name, customer_type="End Customer")
        aero = CustomerFactory(name="Aero Wind Reseller", customer_type="Reseller").id
    with app.test_request_context():
        page = reseller_candidates(SYSTEM, "wind", customer, 2)
        assert [c.id for c in page.items] == [aero, ids["north"]] and page.links.get("next")
        every = reseller_candidates(SYSTEM, "", customer, 50).items
        assert [(c.name, c.id) for c in every] == sorted((c.name, c.id) for c in every)
        assert {aero, ids["north"], ids["south"], ids["owner"]} <= {c.id for c in every}
        assert ids["below"] not in {c.id for c in every}
