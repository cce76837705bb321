"""Contact and customer rules take the actor: outside its reach an object is not found (404), within
reach but read-only it is forbidden (403), and a portal contact's lists hold only what it may see."""
import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden, NotFound

from panel import actor as actors
from panel import unit_of_work
from panel.actor import SYSTEM
from panel.auth.models import StaffUser
from panel.contacts.directory import contact_page
from panel.contacts.models import Contact
from panel.contacts.records import create_contact, reset_password, update_contact
from panel.customers.accounts import create_customer, customer_page, update_customer
from panel.delayed import changes
from panel.extensions import db
from panel.types import utcnow
from panel.pages import FIRST

PASSWORD = "long enough pw 1"


@pytest.fixture
def two(app, customer):
    """Acme with Ana (a plain contact), Other with Bo."""
    with app.app_context(), unit_of_work.unit():
        other = create_customer(SYSTEM, {"name": "Other Co", "status": "Active"}, "USD").id
        ana, _ = create_contact(SYSTEM, customer, {"name": "Ana", "email": "ana@acme.example"}, password=PASSWORD)
        bo, _ = create_contact(SYSTEM, other, {"name": "Bo", "email": "bo@other.example"}, password=PASSWORD)
        db.session.flush()
        return {"acme": customer, "other": other, "ana": ana.id, "bo": bo.id}


def test_a_portal_contact_reaches_nothing_of_another_customer(app, two):
    with app.app_context():
        ana = actors.contact(db.session.get(Contact, two["ana"]))
        bo = db.session.get(Contact, two["bo"])
        with pytest.raises(NotFound):
            create_contact(ana, two["other"], {"name": "Cy", "email": "cy@other.example"}, password=PASSWORD)
        with pytest.raises(NotFound):
            update_contact(ana, bo, {"name": "Bob"})
        with pytest.raises(NotFound):
            reset_password(ana, bo, PASSWORD)
        with pytest.raises(NotFound):
            changes.schedule_update(ana, "contact", bo, {"phone": "1"}, utcnow())
        assert not unit_of_work.has_changes()
        assert [c.id for c in contact_page(ana, "", "", "", FIRST, 50)[0].items] == [two["ana"]]
        assert [c.id for c in customer_page(ana, "", "", FIRST, 50).items] == [two["acme"]]


def test_a_plain_portal_contact_may_see_its_customer_but_not_change_it(app, two):
    with app.app_context():
        ana = actors.contact(db.session.get(Contact, two["ana"]))
        with pytest.raises(Forbidden):
            update_customer(ana, db.session.get(Contact, two["ana"]).customer, {"name": "Mine now"})


def test_read_only_staff_see_everything_and_change_nothing(app, two, staff_users):
    with app.app_context():
        reader = actors.staff(db.session.scalar(sa.select(StaffUser).where(StaffUser.role == "readonly")))
        bo = db.session.get(Contact, two["bo"])
        with pytest.raises(Forbidden):
            update_contact(reader, bo, {"name": "Bob"})
        with pytest.raises(Forbidden):
            create_customer(reader, {"name": "Nope"}, "USD")
        assert {c.id for c in contact_page(reader, "", "", "", FIRST, 50)[0].items} == {two["ana"], two["bo"]}


def test_a_read_only_user_gets_403_for_a_contacts_edit_form_and_404_for_another_customers(as_role, two):
    client = as_role("readonly")
    assert client.get(f"/customers/{two['other']}/contacts/{two['bo']}/edit", htmx=True).status_code == 403
    assert client.get(f"/customers/{two['acme']}/contacts/{two['bo']}/edit", htmx=True).status_code == 404
