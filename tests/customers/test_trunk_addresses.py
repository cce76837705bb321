"""Main tab → Trunk addresses: staff who write in the customers area list, add and remove the addresses and
CIDR ranges the credit check finds a customer by; bad input stays in the form with its message (422), a
network belongs to one customer, and each change is an audited row."""
import pytest
import sqlalchemy as sa

from panel.audit.models import AuditEntry
from panel.customers.models import TrunkAddress
from panel.customers.trunks import TrunkRefused, parse_network
from panel.extensions import db
from tests.factories import CustomerFactory
from tests.helpers import staff_sign_in

URL = "/customers/{}/trunk-addresses"


def networks(app, customer_id):
    with app.app_context():
        return sorted(db.session.scalars(sa.select(TrunkAddress.network)
                                         .where(TrunkAddress.customer_id == customer_id)))


def test_staff_add_list_and_remove_trunk_addresses_and_each_change_is_audited(app, as_role, customer):
    staff = as_role("staff")
    page = staff.get(f"/customers/{customer}").get_data(as_text=True)
    assert 'id="trunk-addresses"' in page
    added = staff.post(URL.format(customer), {"network": " 203.0.113.7 ", "label": "SBC  Frankfurt"}, htmx=True)
    assert added.status_code == 200 and "Trunk address 203.0.113.7/32 added." in added.get_data(as_text=True)
    staff.post(URL.format(customer), {"network": "2001:DB8:0:1::/64"}, htmx=True)
    listed = staff.get(URL.format(customer), htmx=True).get_data(as_text=True)
    assert "203.0.113.7/32" in listed and "2001:db8:0:1::/64" in listed and "SBC Frankfurt" in listed
    assert listed.index("203.0.113.7/32") < listed.index("2001:db8:0:1::/64")
    assert networks(app, customer) == ["2001:db8:0:1::/64", "203.0.113.7/32"]
    with app.app_context():
        trunk_id = db.session.scalar(sa.select(TrunkAddress.id).where(TrunkAddress.network == "203.0.113.7/32"))
    headers = {"HX-Request": "true", "X-CSRFToken": staff.token()}
    removed = staff.client.delete(f"{URL.format(customer)}/{trunk_id}", headers=headers)
    assert removed.status_code == 200 and "Trunk address 203.0.113.7/32 removed." in removed.get_data(as_text=True)
    assert networks(app, customer) == ["2001:db8:0:1::/64"]
    with app.app_context():
        actions = db.session.execute(sa.select(AuditEntry.action, AuditEntry.customer_id, AuditEntry.data)
                                     .where(AuditEntry.table_name == "trunk_address").order_by(AuditEntry.id)).all()
    assert [(action, owner) for action, owner, _ in actions] == [
        ("POST", customer), ("POST", customer), ("DELETE", customer)]
    assert "203.0.113.7/32" in actions[0].data


@pytest.mark.parametrize("typed, message", [
    ("", "Enter an IP address or a CIDR range"),
    ("203.0.113", "is neither an IP address nor a CIDR range"),
    ("203.0.113.7/24", "has bits set past its prefix: the range is 203.0.113.0/24"),
    ("10.0.0.0/7", "A range is at most /8 wide for IPv4"),
    ("2000::/15", "A range is at most /16 wide for IPv6"),
    ("224.0.0.1", "is not an address a switch sends calls from"),
    ("0.0.0.0", "is not an address a switch sends calls from"),
    ("::ffff:203.0.113.7", "in its IPv4 form"),
    ("fe80::1%eth0", "is neither an IP address"),
    ("<b>x</b>", "is neither an IP address"),
])
def test_bad_addresses_come_back_in_the_form_with_their_message(app, as_role, customer, typed, message):
    response = as_role("staff").post(URL.format(customer), {"network": typed, "label": "kept"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in body.replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"')
    assert 'value="kept"' in body and "<b>x</b>" not in body
    assert networks(app, customer) == []


def test_a_network_belongs_to_one_customer(app, as_role, customer):
    with app.app_context():
        other = CustomerFactory(name="Other Ltd").id
    staff = as_role("staff")
    assert staff.post(URL.format(customer), {"network": "198.51.100.0/24"}, htmx=True).status_code == 200
    again = staff.post(URL.format(customer), {"network": "198.51.100.0/24"}, htmx=True)
    assert again.status_code == 422 and "already one of this customer" in again.get_data(as_text=True)
    taken = staff.post(URL.format(other), {"network": "198.51.100.0/24"}, htmx=True)
    assert taken.status_code == 422 and f"already a trunk address of customer #{customer}" in taken.get_data(as_text=True)
    # A range inside another customer's is its own network: the narrowest one wins at authorize.
    assert staff.post(URL.format(other), {"network": "198.51.100.128/25"}, htmx=True).status_code == 200
    assert networks(app, other) == ["198.51.100.128/25"]


def test_read_only_staff_see_the_addresses_but_cannot_change_them(app, as_role, staff_users, customer):
    as_role("staff").post(URL.format(customer), {"network": "192.0.2.1"}, htmx=True)
    with app.app_context():
        trunk_id = db.session.scalar(sa.select(TrunkAddress.id))
    reader = staff_sign_in(app, staff_users["readonly"])
    listed = reader.get(URL.format(customer), htmx=True)
    assert listed.status_code == 200 and "192.0.2.1/32" in listed.get_data(as_text=True)
    assert "Add trunk address" not in listed.get_data(as_text=True)
    assert reader.post(URL.format(customer), {"network": "192.0.2.2"}, htmx=True).status_code == 403
    headers = {"HX-Request": "true", "X-CSRFToken": reader.token()}
    assert reader.client.delete(f"{URL.format(customer)}/{trunk_id}", headers=headers).status_code == 403
    assert networks(app, customer) == ["192.0.2.1/32"]


def test_a_trunk_address_of_another_customer_is_not_found_and_csrf_is_required(app, as_role, customer):
    with app.app_context():
        other = CustomerFactory(name="Other Ltd").id
    staff = as_role("staff")
    staff.post(URL.format(customer), {"network": "192.0.2.1"}, htmx=True)
    with app.app_context():
        trunk_id = db.session.scalar(sa.select(TrunkAddress.id))
    headers = {"HX-Request": "true", "X-CSRFToken": staff.token()}
    assert staff.client.delete(f"{URL.format(other)}/{trunk_id}", headers=headers).status_code == 404
    assert staff.post(URL.format(customer), {"network": "192.0.2.9"}, csrf=False).status_code in (400, 403)
    assert networks(app, customer) == ["192.0.2.1/32"]


def test_parse_network_gives_the_canonical_network():
    assert str(parse_network("203.0.113.7")) == "203.0.113.7/32"
    assert str(parse_network("2001:0DB8::1")) == "2001:db8::1/128"
    assert str(parse_network("10.0.0.0/8")) == "10.0.0.0/8"
    with pytest.raises(TrunkRefused):
        parse_network("10.0.0.1/8")
