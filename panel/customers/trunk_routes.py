"""Staff's Trunk addresses section on a customer's Main tab (/customers/<id>/trunk-addresses): the IP
addresses and CIDR ranges the credit check finds the customer by. On the customers blueprint, so it is the
customers area (read to see it, write to change it); each add and removal is an audited row."""
from flask import redirect, url_for

from panel import access
from panel import actor as actors
from panel.customers import bp
from panel.customers.forms import TrunkAddressForm
from panel.customers.models import TrunkAddress
from panel.customers.trunks import TrunkRefused, add_trunk, customer_trunks, remove_trunk
from panel.web import render_fragment, wants_fragment


def _section(customer, form=None, code=200, **extra):
    return render_fragment("customers/_trunk_addresses.html", code=code, customer=customer,
                           trunks=customer_trunks(actors.current(), customer),
                           form=form or TrunkAddressForm(formdata=None), **extra)


@bp.get("/<int:customer_id>/trunk-addresses")
def trunk_addresses(customer_id: int):
    customer = access.fetch_customer(actors.current(), customer_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer.id, _anchor="trunk-addresses"))
    return _section(customer)


@bp.post("/<int:customer_id>/trunk-addresses")
def add_trunk_address(customer_id: int):
    actor = actors.current()
    customer = access.fetch_customer(actor, customer_id, write=True)
    form = TrunkAddressForm()
    if not form.validate():
        return _section(customer, form, code=422)
    try:
        trunk = add_trunk(actor, customer, form.network.data, form.label.data or "")
    except TrunkRefused as error:
        form.network.errors = [str(error)]
        return _section(customer, form, code=422)
    return _section(customer, notice=f"Trunk address {trunk.network} added.")


@bp.delete("/<int:customer_id>/trunk-addresses/<int:trunk_id>")
def remove_trunk_address(customer_id: int, trunk_id: int):
    actor = actors.current()
    customer = access.fetch_customer(actor, customer_id, write=True)
    trunk = access.fetch(actor, TrunkAddress, trunk_id, customer_id=customer.id, write=True,
                         message="This customer has no such trunk address.")
    remove_trunk(actor, trunk)
    return _section(customer, notice=f"Trunk address {trunk.network} removed.")
