"""Deployments: Deployment IDs from a counter that never gives one out twice, licences and support
plans, decommissioning, and search by Deployment ID or name within a customer, a tree or everyone."""
from datetime import date

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.customers.accounts import create_customer
from panel.deployments import records
from panel.deployments.models import Deployment
from panel.extensions import db
from panel.pages import FIRST


def make_customer(name, reseller_id=None):
    values = {"name": name, "status": "Active"}
    if reseller_id is not None:
        values["reseller_id"] = reseller_id
    made = create_customer(SYSTEM, values, "USD").id
    unit_of_work.commit()
    return made


def numbers(page):
    return [d.deployment_number for d in page.items]


def test_deployment_ids_follow_each_other_and_are_never_given_out_again(app, customer):
    with app.app_context():
        first = records.create_deployment(SYSTEM, customer, "PBX", "  Head   office PBX ")
        second = records.create_deployment(SYSTEM, customer, "SBC", "Edge SBC")
        assert (first.deployment_number, second.deployment_number) == ("D-100001", "D-100002")
        assert first.name == "Head office PBX" and first.status == "Active"
        records.decommission(SYSTEM, second)
        assert db.session.get(Deployment, second.id).status == "Decommissioned"
        assert records.create_deployment(SYSTEM, customer, "Gateway", "FXO gateway").deployment_number == "D-100003"
        # Even a row that is gone (it never is, through the panel) leaves its number behind.
        db.session.delete(db.session.get(Deployment, 3))
        db.session.commit()
        assert records.create_deployment(SYSTEM, customer, "PBX", "Branch PBX").deployment_number == "D-100004"


def test_a_refused_deployment_leaves_the_counter_alone(app, customer):
    with app.app_context():
        for product, name in [("Phone", "X"), ("PBX", "   ")]:
            with pytest.raises(records.DeploymentRefused):
                records.create_deployment(SYSTEM, customer, product, name)
        assert records.create_deployment(SYSTEM, customer, "PBX", "Main").deployment_number == "D-100001"


def test_licences_and_plans_belong_to_active_deployments(app, customer):
    with app.app_context():
        deployment = records.create_deployment(SYSTEM, customer, "PBX", "Main")
        licence = records.add_licence(SYSTEM, deployment, "Extensions", 25, date(2027, 1, 31))
        plan = records.add_support_plan(SYSTEM, deployment, "Premium", date(2026, 1, 1), date(2026, 12, 31))
        assert (licence.customer_id, plan.customer_id) == (customer, customer)
        with pytest.raises(records.DeploymentRefused, match="ends on or after"):
            records.add_support_plan(SYSTEM, deployment, "Basic", date(2026, 2, 1), date(2026, 1, 31))
        with pytest.raises(records.DeploymentRefused, match="Support plans are"):
            records.add_support_plan(SYSTEM, deployment, "Gold", date(2026, 2, 1), date(2026, 3, 1))
        records.decommission(SYSTEM, deployment)
        with pytest.raises(records.DeploymentRefused, match="is Decommissioned"):
            records.add_licence(SYSTEM, deployment, "More", 1, None)
        with pytest.raises(records.DeploymentRefused, match="is Decommissioned"):
            records.decommission(SYSTEM, deployment)
        shown = records.customer_deployments(SYSTEM, customer, FIRST, 20).items[0]
        assert [x.name for x in shown.licences] == ["Extensions"] and [p.plan for p in shown.support_plans] == ["Premium"]


def test_search_by_number_or_name_stays_within_the_tree(app):
    with app.app_context():
        top = make_customer("Top Reseller")
        child = make_customer("Child", top)
        grandchild = make_customer("Grandchild", child)
        stranger = make_customer("Stranger")
        for customer_id, name in [(top, "Top PBX"), (child, "Child PBX"), (grandchild, "Deep PBX"),
                                  (stranger, "Stranger PBX"), (child, "Child gateway")]:
            records.create_deployment(SYSTEM, customer_id, "PBX", name)
        # D-100001 Top, D-100002 Child, D-100003 Deep, D-100004 Stranger, D-100005 Child gateway
        assert numbers(records.find(SYSTEM, "pbx", tree_root=top)) == ["D-100002", "D-100003", "D-100001"]
        assert numbers(records.find(SYSTEM, "pbx", tree_root=child)) == ["D-100002", "D-100003"]
        assert numbers(records.find(SYSTEM, "pbx", customer_id=child)) == ["D-100002"]
        assert numbers(records.find(SYSTEM, "Stranger", tree_root=top)) == []
        assert numbers(records.find(SYSTEM, "100004", tree_root=top)) == []
        assert numbers(records.find(SYSTEM, "100004", everyone=True)) == ["D-100004"]
        # The ID as people write it: with or without the dash, any case.
        for typed in ("D-100003", "d100003", "100003", "0003"):
            assert numbers(records.find(SYSTEM, typed, tree_root=top)) == ["D-100003"], typed
        # Without text: the customer's or the tree's first deployments; across everyone nothing.
        assert numbers(records.find(SYSTEM, "", customer_id=child)) == ["D-100002", "D-100005"]
        assert len(records.find(SYSTEM, "", tree_root=top).items) == 4
        assert records.find(SYSTEM, "", everyone=True).items == [] and records.find(SYSTEM, "pb", everyone=True).items == []
        # Wildcards are text, not patterns.
        assert records.find(SYSTEM, "%", customer_id=child).items == [] and records.find(SYSTEM, "_", tree_root=top).items == []


def test_search_pages_are_capped_at_their_size(app, customer):
    with app.app_context():
        for n in range(records.PICKER_SIZE + 2):
            records.create_deployment(SYSTEM, customer, "SBC", f"Site {n:02d} SBC")
        page = records.find(SYSTEM, "sbc", customer_id=customer)
        assert len(page.items) == records.PICKER_SIZE and page.has_next
        assert [d.name for d in page.items][:2] == ["Site 00 SBC", "Site 01 SBC"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Deployment)) == records.PICKER_SIZE + 2


def _contact_actor(email):
    from panel import actor as actors
    from panel.contacts.models import Contact

    return actors.contact(db.session.scalar(sa.select(Contact).where(Contact.email == email)))


def test_a_contact_reaches_only_the_deployments_within_their_reach(app, tree):
    """The domain functions check the actor themselves: outside the reach is not found (404), within it
    but not theirs to change is forbidden (403), whichever route (or none) called them."""
    from werkzeug.exceptions import Forbidden, NotFound

    with app.app_context():
        admin, billing = _contact_actor("admin@top.example"), _contact_actor("billing@top.example")
        with pytest.raises(NotFound):
            records.create_deployment(_contact_actor("admin@child.example"), tree.top, "PBX", "Above me")
        with pytest.raises(NotFound):
            records.add_licence(admin, db.session.get(Deployment, tree.deployments[tree.stranger]), "L", 1, None)
        with pytest.raises(Forbidden):  # a Billing contact sees their customer but does not manage it
            records.create_deployment(billing, tree.top, "PBX", "Not mine to add")
        with pytest.raises(NotFound):
            records.find(billing, "", tree_root=tree.top)  # the whole tree is an Admin's
        with pytest.raises(NotFound):
            records.find(admin, "secret", everyone=True)
        with pytest.raises(NotFound):
            records.find(admin, "", customer_id=tree.stranger)
        made = records.create_deployment(admin, tree.grandchild, "SBC", "Down the tree")
        assert made.customer_id == tree.grandchild
        assert [d.name for d in records.find(admin, "", tree_root=tree.child).items] == [
            "Child edge SBC", "Down the tree", "Grandchild PBX"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Deployment)) == 5
