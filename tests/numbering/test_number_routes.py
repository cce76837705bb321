"""The Internal Number Block section and Settings → Options through the test client."""
import re

import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.extensions import db
from panel.numbering.models import NumberBlock, SipUser

RANGE = {"number_range_start": "5000", "number_range_end": "5999", "number_block_size": "100", "sip_realm": "sip.example.net"}


def test_plus_is_disabled_until_the_range_is_defined(as_role, customer):
    client = as_role("staff")
    body = client.get(f"/customers/{customer}/number-blocks", htmx=True).get_data(as_text=True)
    assert "disabled" in body and "Settings → Options" in body
    assert client.post(f"/customers/{customer}/number-blocks", htmx=True).status_code == 409


def test_options_validate_the_range(as_role):
    client = as_role("admin")
    for bad, message in (({**RANGE, "number_range_end": "4000"}, "greater than its start"),
                         ({**RANGE, "number_block_size": "0"}, "Number must be between"),
                         ({**RANGE, "number_range_end": ""}, "Give the start, the end and the block size together."),
                         ({**RANGE, "number_range_start": "abc"}, "Not a valid integer value.")):
        response = client.post("/settings/options", bad)
        assert response.status_code == 422 and message in response.get_data(as_text=True), bad
    assert client.post("/settings/options", RANGE).status_code == 303


def test_options_refuse_a_size_change_once_blocks_are_assigned(as_role, customer):
    client = as_role("admin")
    client.post("/settings/options", RANGE)
    client.post(f"/customers/{customer}/number-blocks", htmx=True)
    response = client.post("/settings/options", {**RANGE, "number_block_size": "50"})
    assert response.status_code == 422 and "cannot change while blocks are assigned" in response.get_data(as_text=True)


def test_assign_release_and_sip_users_through_the_section(app, as_role, customer):
    client = as_role("admin")
    client.post("/settings/options", RANGE)
    body = client.post(f"/customers/{customer}/number-blocks", htmx=True).get_data(as_text=True)
    assert "Block 5000 – 5099 assigned." in body and "0 of 100" in body
    created = client.post(f"/customers/{customer}/sip-users", {"username": "5000", "auto_password": "y",
                                                               "caller_name": "Front desk"}, htmx=True)
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    password = re.search(r'<code class="secret">([^<]+)</code>', created.get_data(as_text=True)).group(1)
    again = client.get(f"/customers/{customer}/number-blocks", htmx=True).get_data(as_text=True)
    assert password not in again and "Front desk" in again and "1 of 100" in again
    with app.app_context():
        block_id = db.session.scalar(sa.select(NumberBlock.id))
        user_id = db.session.scalar(sa.select(SipUser.id))
    headers = {"HX-Request": "true", "X-CSRFToken": client.token()}
    refused = client.client.delete(f"/customers/{customer}/number-blocks/{block_id}", headers=headers)
    assert refused.status_code == 409 and "in use by SIP user(s) 5000" in refused.get_data(as_text=True)
    assert client.client.delete(f"/customers/{customer}/sip-users/{user_id}", headers=headers).status_code == 200
    assert client.client.delete(f"/customers/{customer}/number-blocks/{block_id}", headers=headers).status_code == 200


def test_sip_user_form_errors_are_422_with_a_message(as_role, customer):
    client = as_role("admin")
    client.post("/settings/options", RANGE)
    client.post(f"/customers/{customer}/number-blocks", htmx=True)
    outside = client.post(f"/customers/{customer}/sip-users", {"username": "7000", "auto_password": "y"}, htmx=True)
    assert outside.status_code == 422 and "not in one of this customer&#39;s number blocks" in outside.get_data(as_text=True)
    short = client.post(f"/customers/{customer}/sip-users", {"username": "5001", "password": "short"}, htmx=True)
    assert short.status_code == 422 and "Type 12 to" in short.get_data(as_text=True)


def test_other_customers_blocks_are_404_and_readonly_cannot_assign(app, as_role, customer):
    from panel.customers.accounts import create_customer

    client = as_role("admin")
    client.post("/settings/options", RANGE)
    client.post(f"/customers/{customer}/number-blocks", htmx=True)
    with app.app_context():
        other = create_customer(SYSTEM, {"name": "Other"}, "USD").id
        unit_of_work.commit()
        block_id = db.session.scalar(sa.select(NumberBlock.id))
    headers = {"HX-Request": "true", "X-CSRFToken": client.token()}
    assert client.client.delete(f"/customers/{other}/number-blocks/{block_id}", headers=headers).status_code == 404
    client.post("/logout")
    client.forget_token()
    client.login("readonly@example.com")
    assert client.post(f"/customers/{customer}/number-blocks", htmx=True).status_code == 403
    assert "Assign the next number block" not in client.get(f"/customers/{customer}/number-blocks", htmx=True).get_data(as_text=True)
