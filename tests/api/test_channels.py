"""The small JSON endpoint through which the switch reports channels in use."""
import pytest

from panel import unit_of_work
from panel.api.tokens import issue_token


@pytest.fixture
def token(app):
    with app.app_context():
        made = issue_token("switch-1", ["channels"])
        unit_of_work.commit()
        return made


def put(client, customer, body, token):
    return client.client.put(f"/api/v1/customers/{customer}/channels", json=body,
                             headers={"Authorization": f"Bearer {token}"} if token else {})


def test_the_switch_reports_channels_and_the_main_tab_shows_them(client, as_role, customer, token):
    response = put(client, customer, {"channels_in_use": 9}, token)
    assert response.status_code == 200
    assert response.get_json()["channels_in_use"] == 9
    assert "9 / 30" in as_role("readonly").get(f"/customers/{customer}/overview", htmx=True).get_data(as_text=True)


def test_no_token_a_wrong_token_or_a_wrong_scope_is_401(app, client, customer):
    with app.app_context():
        billing = issue_token("billing", ["invoices"])
        unit_of_work.commit()
    for token in (None, "pnl_wrong", billing):
        response = put(client, customer, {"channels_in_use": 1}, token)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_staff_session_is_not_enough_for_the_api(as_role, customer):
    client = as_role("admin")
    assert client.client.put(f"/api/v1/customers/{customer}/channels", json={"channels_in_use": 1}).status_code == 401


@pytest.mark.parametrize("body", [{}, {"channels_in_use": "3"}, {"channels_in_use": -1}, {"channels_in_use": 2.5},
                                  {"channels_in_use": True}, {"channels_in_use": 10**9}, [1]])
def test_bad_figures_are_422(client, customer, token, body):
    assert put(client, customer, body, token).status_code == 422


def test_unknown_customer_is_404(client, token):
    assert put(client, 999999, {"channels_in_use": 1}, token).status_code == 404


def test_tokens_are_stored_only_as_digests(app, token):
    from panel.api.models import ApiToken
    from panel.extensions import db

    with app.app_context():
        stored = db.session.query(ApiToken).one()
        assert token not in stored.token_digest and len(stored.token_digest) == 64
