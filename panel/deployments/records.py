"""Creating deployments (with Deployment IDs from a counter), their licences and support plans, and
finding them by Deployment ID or name within one customer, a reseller's tree, or everyone.

A Deployment ID is taken from a counter row, never from max(number) + 1: a decommissioned (or
somehow removed) deployment's ID is never given to another product.
"""
import re
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from flask import abort

from panel import access, search
from panel.actor import Actor
from panel.customers.hierarchy import subtree_ids
from panel.customers.models import Customer
from panel.deployments.models import (
    PRODUCTS,
    SUPPORT_PLANS,
    Deployment,
    Licence,
    SupportPlan,
)
from panel.extensions import db
from panel.sequences import next_value
from panel import pages
from panel.pages import FIRST, Page, PageRequest

SEQUENCE = "deployment"
FIRST_NUMBER = 100001  # D-100001 is the first Deployment ID
PICKER_SIZE = 10
NUMBER_TEXT = re.compile(r"[dD]-?\s*(\d+)")


class DeploymentRefused(Exception):
    """A change to a deployment that cannot be made; the message says why, for the user."""


def _next_number() -> str:
    """D-100001, D-100002, …: never given out twice (panel/sequences.py)."""
    return f"D-{next_value(SEQUENCE, FIRST_NUMBER)}"


def create_deployment(actor: Actor, customer_id: int, product: str, name: str) -> Deployment:
    access.fetch_customer(actor, customer_id, write=True)
    if product not in PRODUCTS:
        raise DeploymentRefused(f"A deployment is a {', '.join(PRODUCTS[:-1])} or {PRODUCTS[-1]}.")
    name = " ".join((name or "").split())
    if not name:
        raise DeploymentRefused("Give the deployment a name.")
    deployment = Deployment(deployment_number=_next_number(), customer_id=customer_id, product=product,
                            name=name[:200], status="Active")
    db.session.add(deployment)
    db.session.flush()
    return deployment


def _locked(deployment: Deployment) -> Deployment:
    return db.session.scalar(sa.select(Deployment).where(Deployment.id == deployment.id).with_for_update()
                             .execution_options(populate_existing=True))


def _active(actor: Actor, deployment: Deployment, doing: str) -> Deployment:
    access.require(actor, deployment, write=True)
    deployment = _locked(deployment)
    if deployment.status != "Active":
        raise DeploymentRefused(f"{deployment.deployment_number} is {deployment.status}: {doing} is not possible.")
    return deployment


def add_licence(actor: Actor, deployment: Deployment, name: str, quantity: int, expires_on: date | None) -> Licence:
    deployment = _active(actor, deployment, "adding a licence")
    licence = Licence(deployment_id=deployment.id, customer_id=deployment.customer_id, name=name,
                      quantity=quantity, expires_on=expires_on)
    db.session.add(licence)
    db.session.flush()
    return licence


def add_support_plan(actor: Actor, deployment: Deployment, plan: str, starts_on: date, ends_on: date) -> SupportPlan:
    if plan not in SUPPORT_PLANS:
        raise DeploymentRefused(f"Support plans are {', '.join(SUPPORT_PLANS)}.")
    if ends_on < starts_on:
        raise DeploymentRefused("A support plan ends on or after the day it starts.")
    deployment = _active(actor, deployment, "adding a support plan")
    support_plan = SupportPlan(deployment_id=deployment.id, customer_id=deployment.customer_id, plan=plan,
                               starts_on=starts_on, ends_on=ends_on)
    db.session.add(support_plan)
    db.session.flush()
    return support_plan


def decommission(actor: Actor, deployment: Deployment) -> Deployment:
    """The product is gone; the deployment stays (with its ID) for the history that names it."""
    deployment = _active(actor, deployment, "decommissioning it again")
    deployment.status = "Decommissioned"
    db.session.flush()
    return deployment


def customer_deployments(actor: Actor, customer_id: int, wanted: PageRequest, size: int, query: str = "") -> Page:
    """A page of the customer's deployments in name order (matching `query` if given), with their
    licences and support plans."""
    return find(actor, query, customer_id=customer_id, wanted=wanted, size=size, details=True)


def find(actor: Actor, query: str, *, customer_id: int | None = None, tree_root: int | None = None,
         everyone: bool = False, wanted: PageRequest = FIRST, size: int = PICKER_SIZE, details: bool = False,
         product: str | None = None) -> Page:
    """Deployments whose Deployment ID or name holds `query`, in name order, within one customer,
    the tree under `tree_root`, or (staff only) every customer. Without text: the first deployments
    of the customer or tree; across everyone nothing until at least three characters are typed (the
    trigram indexes need three). A customer or tree outside `actor`'s reach is not found (404)."""
    if customer_id is not None:
        scope = [Deployment.customer_id == customer_id]
    elif tree_root is not None:
        scope = [Deployment.customer_id.in_(subtree_ids(tree_root))]
    elif everyone:
        scope = []
    else:
        raise ValueError("find() needs a customer, a tree or everyone=True")
    if product:  # only deployments of one product (the Store's picker for a product line)
        scope.append(Deployment.product == product)
    if customer_id is not None:
        reach = access.can_see_customer(actor, customer_id)
    elif tree_root is not None:  # a whole tree: staff, or an Admin contact within theirs
        reach = access.can_see_customer(actor, tree_root) and (not actor.in_portal or actor.manages_tree)
    else:
        reach = access.customer_ids_within(actor) is None
    if not reach:
        abort(404, access.NOT_FOUND)
    statement = sa.select(Deployment)
    if details:
        statement = statement.options(selectinload(Deployment.licences), selectinload(Deployment.support_plans))
    query = " ".join((query or "").split())[:200]
    if everyone and len(query) < search.MIN_LENGTH:
        return Page(items=[], size=size, has_next=False)
    if not query:
        return pages.keyset(db.session, statement.where(*scope), [Deployment.name, Deployment.id], wanted, size)
    found = NUMBER_TEXT.fullmatch(query)
    number_text = f"D-{found.group(1)}" if found else query
    condition = sa.or_(Deployment.name.ilike(search.like(query), escape="\\"),
                       Deployment.deployment_number.ilike(search.like(number_text), escape="\\"))
    return search.page_of_matches(db.session, statement, Deployment.id, [Deployment.name], [*scope, condition],
                                  wanted, size)


def customer_names(deployments) -> dict[int, str]:
    """{customer id: name} for the customers of these deployments, in one query."""
    ids = {d.customer_id for d in deployments}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all())


def label(deployment: Deployment) -> str:
    """How a picked deployment is shown in its text box."""
    return f"{deployment.deployment_number} · {deployment.name}"
