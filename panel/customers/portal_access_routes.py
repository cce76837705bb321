"""Staff's Portal Access form on a customer's Main tab (/customers/<id>/portal-access): which portal
sections the customer's contacts see. On the customers blueprint, so it is the customers area (read to
see it, write to change it); the change is an audited update of the customer row."""
from flask import redirect, request, url_for

from panel import access
from panel import actor as actors
from panel.customers import bp
from panel.portal.forms import PortalAccessForm
from panel.portal.sections import open_sections, set_portal_access
from panel.web import render_fragment, wants_fragment


def _render(customer, form, code=200, saved=None):
    return render_fragment("portal/_access_form.html", customer=customer, form=form, saved=saved, code=code)


@bp.route("/<int:customer_id>/portal-access", methods=["GET", "POST"])
def portal_access(customer_id: int):
    actor = actors.current()
    customer = access.fetch_customer(actor, customer_id, write=request.method == "POST")
    if request.method == "GET" and not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer.id, _anchor="portal-access"))
    form = PortalAccessForm()
    if request.method == "GET":
        form.sections.data = sorted(open_sections(customer))
        return _render(customer, form)
    if not form.validate():
        return _render(customer, form, code=422)
    changed = set_portal_access(actor, customer, form.sections.data or [])
    return _render(customer, form, saved="Portal Access saved." if changed else "Nothing was changed.")
