"""The Alerts section of a customer's Main tab and Settings → Alerts: add, edit and delete with messages by
the field, CSRF, and who may reach them (area customers; the global alerts are Settings)."""
from decimal import Decimal

import sqlalchemy as sa

from panel.alerts.models import Alert
from panel.audit.models import AuditEntry
from panel.extensions import db
from tests.alerts.test_evaluate import add_alert
from tests.helpers import staff_sign_in
from tests.portal.test_access_groups import grouped_client

GOOD = {"new-name": "Low balance", "new-figure": "balance", "new-operator": "<", "new-threshold": "5.00",
        "new-reset_threshold": "8", "new-repeat_minutes": "", "new-contact_types": "Billing",
        "new-extra_addresses": "cfo@acme.example", "new-subject": "{customer}: {value}", "new-body": "Low: {value}",
        "new-penalty_minutes": "60", "new-enabled": "y"}


def alerts_of(app, customer):
    with app.app_context():
        return db.session.scalars(sa.select(Alert).where(Alert.customer_id == customer)).all()


def test_the_main_tab_loads_the_alerts_section(app, as_role, customer):
    client = as_role("staff")
    page = client.get(f"/customers/{customer}").get_data(as_text=True)
    assert f'hx-get="/customers/{customer}/alerts"' in page
    assert client.get(f"/customers/{customer}/alerts").status_code == 302  # not htmx: to the Main tab
    section = client.get(f"/customers/{customer}/alerts", htmx=True).get_data(as_text=True)
    assert "No alerts" in section and "Add an alert" in section


def test_staff_add_an_alert_and_it_is_listed_with_its_state_and_audited(app, as_role, customer):
    client = as_role("staff")
    response = client.post(f"/customers/{customer}/alerts", GOOD, htmx=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    assert "Low balance" in body and "Balance &lt; 5<" in body and "Armed" in body and "never" in body
    [alert] = alerts_of(app, customer)
    assert (alert.threshold, alert.reset_threshold, alert.penalty_minutes, alert.types, alert.addresses) == (
        Decimal(5), Decimal(8), 60, ["Billing"], ["cfo@acme.example"])
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.table_name == "alert"))
        assert entry.customer_id == customer and entry.user_label.startswith("staff")


def test_bad_input_gets_a_message_by_the_field_keeps_the_input_and_writes_nothing(app, as_role, customer):
    client = as_role("staff")
    for field, value, message in (("new-threshold", "5,00", "Use a point for decimals"),
                                  ("new-reset_threshold", "4", "The reset level must be where the alert is not crossed"),
                                  ("new-name", "", "Give the alert a name."),
                                  ("new-extra_addresses", "not an address", "is not an e-mail address"),
                                  ("new-repeat_minutes", "0", "Number must be")):
        response = client.post(f"/customers/{customer}/alerts", GOOD | {field: value}, htmx=True)
        assert response.status_code == 422, field
        body = response.get_data(as_text=True)
        assert message in body, (field, body[:2000])
        assert 'aria-invalid="true"' in body and "Low balance" in body or field == "new-name"
    assert alerts_of(app, customer) == []


def test_edit_and_delete(app, as_role, customer):
    with app.app_context():
        alert = add_alert(customer)
    client = as_role("staff")
    prefix = f"a{alert}-"
    edited = {key.replace("new-", prefix): value for key, value in GOOD.items()} | {f"{prefix}threshold": "2"}
    response = client.post(f"/customers/{customer}/alerts/{alert}", edited, htmx=True)
    assert response.status_code == 200
    assert alerts_of(app, customer)[0].threshold == Decimal(2)
    bad = client.post(f"/customers/{customer}/alerts/{alert}", edited | {f"{prefix}threshold": "lots"}, htmx=True)
    assert bad.status_code == 422 and 'value="lots"' in bad.get_data(as_text=True)
    response = client.client.delete(f"/customers/{customer}/alerts/{alert}",
                                    headers={"HX-Request": "true", "X-CSRFToken": client.token()})
    assert response.status_code == 200 and "deleted" in response.headers["HX-Trigger"]
    assert alerts_of(app, customer) == []


def test_another_customers_alert_is_not_found(app, as_role, customer):
    from tests.factories import CustomerFactory

    with app.app_context():
        other = CustomerFactory().id
        alert = add_alert(other)
    client = as_role("staff")
    assert client.post(f"/customers/{customer}/alerts/{alert}", {}, htmx=True).status_code == 404


def test_writes_need_the_csrf_token(app, as_role, customer):
    client = as_role("staff")
    assert client.post(f"/customers/{customer}/alerts", GOOD, csrf=False).status_code == 400
    assert alerts_of(app, customer) == []


def test_readonly_staff_and_other_areas_are_refused(app, as_role, customer):
    assert as_role("readonly").post(f"/customers/{customer}/alerts", GOOD, htmx=True).status_code == 403
    invoices_only = grouped_client(app, "invoices")
    assert invoices_only.get(f"/customers/{customer}/alerts", htmx=True).status_code == 403
    assert invoices_only.post(f"/customers/{customer}/alerts", GOOD, htmx=True).status_code == 403
    customers_read = grouped_client(app, "customers", mode="r")
    assert customers_read.get(f"/customers/{customer}/alerts", htmx=True).status_code == 200
    assert customers_read.post(f"/customers/{customer}/alerts", GOOD, htmx=True).status_code == 403
    assert alerts_of(app, customer) == []


def test_global_alerts_are_settings_and_show_on_customers_without_their_own(app, staff_users, customer):
    staff = staff_sign_in(app, staff_users["staff"])
    assert staff.get("/settings/alerts").status_code == 403  # staff in no group: every area but Settings
    admin = staff_sign_in(app, staff_users["admin"])
    response = admin.post("/settings/alerts", GOOD, htmx=True)
    assert response.status_code == 200 and "Low balance" in response.get_data(as_text=True)
    assert len(alerts_of(app, None)) == 1
    section = admin.get(f"/customers/{customer}/alerts", htmx=True).get_data(as_text=True)
    assert "(global)" in section and "the global alerts (Settings → Alerts) apply" in section
    assert admin.post("/settings/alerts", GOOD | {"new-operator": "!="}, htmx=True).status_code == 422
    settings_group = grouped_client(app, "settings")
    assert settings_group.get("/settings/alerts").status_code == 200
    assert grouped_client(app, "customers").get("/settings/alerts").status_code == 403
