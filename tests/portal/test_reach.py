"""The portal's reach, asked of the actor without HTTP: which customers a contact manages, and whose
onboarding drafts and sub-accounts the New customer pages work on."""
import pytest
from werkzeug.exceptions import NotFound

from panel import access
from panel import actor as actors
from panel.auth.models import StaffUser
from panel.contacts.models import Contact
from panel.customers.accounts import create_customer
from panel.extensions import db
from panel.onboarding.pages import view_of


@pytest.fixture
def people(app, world):
    """Ana becomes an Admin of A, with Alpha East below A; Ada stays a plain contact of A."""
    with app.app_context():
        east = create_customer(actors.SYSTEM, {"name": "Alpha East", "reseller_id": world.a, "status": "Active"}, "USD").id
        db.session.get(Contact, world.ana).contact_type = "Admin"
        db.session.commit()
    return {"east": east}


def test_an_admin_contact_manages_their_tree_and_nothing_outside_it(app, world, people):
    with app.app_context():
        ana = actors.contact(db.session.get(Contact, world.ana))
        assert access.managed_customer(ana, world.a).id == world.a
        assert access.managed_customer(ana, people["east"]).id == people["east"]
        with pytest.raises(NotFound):
            access.managed_customer(ana, world.b)  # a real customer, another's: not found, never "forbidden"


def test_a_contact_who_is_not_an_admin_manages_no_customer_not_even_their_own(app, world, people):
    with app.app_context():
        ada = db.session.scalar(db.select(Contact).where(Contact.email == "ada@alpha.example"))
        for customer_id in (world.a, people["east"], world.b):
            with pytest.raises(NotFound):
                access.managed_customer(actors.contact(ada), customer_id)


def test_the_new_customer_pages_follow_the_actor(app, world, staff_users, people):
    with app.app_context():
        staff = db.session.scalar(db.select(StaffUser).where(StaffUser.email == staff_users["staff"]))
        ana = db.session.get(Contact, world.ana)
        panel = view_of(actors.staff(staff))
        assert (panel.portal, panel.owner, panel.reseller_id, panel.with_currency) == (
            False, {"staff_user_id": staff.id}, None, True)
        for actor in (actors.contact(ana), actors.contact(ana, staff)):  # in Portal Login: the contact's drafts
            portal = view_of(actor)
            assert (portal.portal, portal.owner, portal.reseller_id, portal.with_currency) == (
                True, {"contact_id": ana.id}, world.a, False)
        ben = actors.contact(db.session.get(Contact, world.ben))
        with pytest.raises(NotFound):
            view_of(ben)  # not an Admin contact: no sub-accounts to add
        with pytest.raises(NotFound):
            view_of(actors.SYSTEM)
