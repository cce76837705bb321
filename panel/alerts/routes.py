"""Routes of the alerts area: a customer's Alerts section of the Main tab (area "customers") and the global
alerts under Settings → Alerts (area "settings")."""
from flask import abort, redirect, request, url_for

from panel import access
from panel import actor as actors
from panel.alerts import bp, records
from panel.alerts.forms import form_for
from panel.alerts.models import Alert
from panel.web import notify, render_fragment, render_page, wants_fragment

NO_ALERT = "There is no such alert."


def _customer_alert(customer, alert_id: int) -> Alert:
    return access.fetch(actors.current(), Alert, alert_id, customer_id=customer.id, message=NO_ALERT)


def _global_alert(alert_id: int) -> Alert:
    alert = access.fetch(actors.current(), Alert, alert_id, message=NO_ALERT)
    if alert.customer_id is not None:
        abort(404, NO_ALERT)
    return alert


def _forms(alerts, failed=None):
    """An edit form per alert, filled from the alert (or, for the one that failed, as typed)."""
    forms = {}
    for alert in alerts:
        if failed is not None and failed[0] == alert.id:
            forms[alert.id] = failed[1]
        else:
            forms[alert.id] = form_for(alert, formdata=None, prefix=f"a{alert.id}-")
    return forms


def _section(customer, code=200, new_form=None, failed=None, opened=None, notice=None):
    section = records.customer_section(actors.current(), customer)
    own = [item.alert for item in section.alerts if not item.inherited]
    return render_fragment("alerts/_section.html", code=code, customer=customer, section=section,
                           forms=_forms(own, failed), new_form=new_form or form_for(prefix="new-"),
                           opened=opened, notice=notice)


@bp.get("/customers/<int:customer_id>/alerts")
def section(customer_id: int):
    customer = access.fetch_customer(actors.current(), customer_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="alerts"))
    return _section(customer)


@bp.post("/customers/<int:customer_id>/alerts")
def create(customer_id: int):
    customer = access.fetch_customer(actors.current(), customer_id, write=True)
    form = form_for(formdata=request.form, prefix="new-")
    if not form.validate():
        return _section(customer, code=422, new_form=form, opened="new")
    alert = records.create_alert(actors.current(), customer, form.values())
    return _section(customer, notice=f"Alert “{alert.name}” added.")


@bp.post("/customers/<int:customer_id>/alerts/<int:alert_id>")
def update(customer_id: int, alert_id: int):
    customer = access.fetch_customer(actors.current(), customer_id, write=True)
    alert = _customer_alert(customer, alert_id)
    form = form_for(alert, formdata=request.form, prefix=f"a{alert.id}-")
    if not form.validate():
        return _section(customer, code=422, failed=(alert.id, form), opened=alert.id)
    records.update_alert(actors.current(), customer, alert, form.values())
    return _section(customer, notice=f"Alert “{alert.name}” saved.")


@bp.delete("/customers/<int:customer_id>/alerts/<int:alert_id>")
def delete(customer_id: int, alert_id: int):
    customer = access.fetch_customer(actors.current(), customer_id, write=True)
    alert = _customer_alert(customer, alert_id)
    name = alert.name
    records.delete_alert(actors.current(), customer, alert)
    return notify(_section(customer), f"Alert “{name}” deleted.")


# -- Settings → Alerts: the global alerts -----------------------------------------------------------------

def _global_page(code=200, new_form=None, failed=None, opened=None, notice=None):
    alerts = records.global_alerts()
    items = [records.Listed(alert, None, False) for alert in alerts]
    return render_page("alerts/global.html", "alerts", code=code, alerts=items, forms=_forms(alerts, failed),
                       new_form=new_form or form_for(prefix="new-"), opened=opened, notice=notice)


@bp.get("/settings/alerts")
def global_page():
    return _global_page()


@bp.post("/settings/alerts")
def global_create():
    form = form_for(formdata=request.form, prefix="new-")
    if not form.validate():
        return _global_page(code=422, new_form=form, opened="new")
    alert = records.create_alert(actors.current(), None, form.values())
    return _global_page(notice=f"Global alert “{alert.name}” added.")


@bp.post("/settings/alerts/<int:global_alert_id>")
def global_update(global_alert_id: int):
    alert = _global_alert(global_alert_id)
    form = form_for(alert, formdata=request.form, prefix=f"a{alert.id}-")
    if not form.validate():
        return _global_page(code=422, failed=(alert.id, form), opened=alert.id)
    records.update_alert(actors.current(), None, alert, form.values())
    return _global_page(notice=f"Global alert “{alert.name}” saved.")


@bp.delete("/settings/alerts/<int:global_alert_id>")
def global_delete(global_alert_id: int):
    alert = _global_alert(global_alert_id)
    name = alert.name
    records.delete_alert(actors.current(), None, alert)
    return notify(_global_page(), f"Global alert “{name}” deleted.")
