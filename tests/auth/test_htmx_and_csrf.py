"""CSRF on every write (htmx included), and what an htmx request gets when the session is gone."""
import sqlalchemy as sa

from panel.customers.models import Customer
from panel.extensions import db


def test_a_write_without_the_csrf_token_is_refused(app, as_role, customer):
    client = as_role("staff")
    response = client.post(f"/customers/{customer}/edit", {"name": "Forged"}, csrf=False)
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Customer, customer).name == "Acme Telecom"


def test_htmx_writes_carry_the_token_in_a_header(as_role, customer):
    client = as_role("staff")
    data = {"name": "Via htmx", "status": "Active", "debit_limit": "0", "channel_limit": "1", "flow_speed": "0"}
    assert client.post(f"/customers/{customer}/edit", data, htmx=True).status_code == 303
    assert client.post(f"/customers/{customer}/edit", data, htmx=True, csrf=False).status_code == 400


def test_base_template_sends_the_token_as_a_header_for_htmx(as_role):
    page = as_role("staff").get("/customers").get_data(as_text=True)
    assert "hx-headers='{\"X-CSRFToken\": \"" in page


def test_csrf_tokens_do_not_expire_while_the_session_lives(app):
    # A panel tab is left open all day: the token is tied to the session, not to the clock.
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None


def test_expired_session_on_htmx_gets_hx_redirect_not_the_login_page(client, customer):
    response = client.get(f"/customers/{customer}/overview", htmx=True,
                          headers={"HX-Current-URL": f"http://localhost/customers/{customer}"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == f"/login?next=/customers/{customer}"
    assert b"<form" not in response.data


def test_expired_session_on_an_htmx_write_also_redirects(client, customer):
    response = client.post(f"/customers/{customer}/edit", {"name": "x"}, htmx=True, csrf=False)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_error_fragments_for_htmx_are_not_whole_pages(as_role):
    response = as_role("staff").get("/customers/424242/overview", htmx=True)
    assert response.status_code == 404
    assert b"<html" not in response.data and b"error-fragment" in response.data


def test_nothing_half_written_when_a_request_fails(app, as_role, customer, monkeypatch):
    from panel.customers import accounts

    def failing_update(customer_obj, values):
        customer_obj.name = "Half written"
        db.session.flush()
        raise RuntimeError("boom")

    monkeypatch.setattr(accounts, "update_customer", failing_update)
    client = as_role("staff")
    data = {"name": "New name", "status": "Active", "debit_limit": "0", "channel_limit": "1", "flow_speed": "0"}
    response = client.post(f"/customers/{customer}/edit", data)
    assert response.status_code == 500
    assert b"Traceback" not in response.data
    with app.app_context():
        assert db.session.get(Customer, customer).name == "Acme Telecom"
        from panel.audit.models import AuditEntry
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.message == "Update")) == 0


def test_every_answer_that_depends_on_htmx_says_so(as_role, customer):
    client = as_role("staff")
    for url in (f"/customers/{customer}/contacts", f"/customers/{customer}/overview", "/customers", "/nope"):
        assert "HX-Request" in client.get(url).headers.get("Vary", ""), url
