"""Portal pages: deployments (registered on the portal blueprint, behind its contact guard).

Every contact sees their own customer's deployments (/portal/deployments). A contact of type Admin
manages them, and those of every customer below theirs (/portal/customers/<id>/deployments: any id
outside their tree is not found). Decommissioning stays with staff.
"""
from flask import g

from panel import actor as actors
from panel.customers.hierarchy import in_subtree, manageable_customer, portal_admin_root
from panel.customers.models import Customer
from panel.deployments import records
from panel.deployments.routes import (
    SectionLinks,
    add_licence_with,
    add_plan_with,
    create_with,
    get_deployment,
    opened_form,
    render_results,
    render_section,
)
from panel.extensions import db
from panel.portal import bp
from panel.web import search_text

ENDPOINTS = {"create": "portal.deployment_create", "licence": "portal.deployment_licence",
             "plan": "portal.deployment_plan", "decommission": None}


def _links(customer_id: int, own_page: bool) -> SectionLinks:
    root = portal_admin_root()
    manages = root is not None and in_subtree(root, customer_id)
    return SectionLinks(
        customer_id=customer_id,
        section_endpoint="portal.deployments" if own_page else "portal.customer_deployments",
        section_args={} if own_page else {"customer_id": customer_id}, endpoints=ENDPOINTS,
        can_manage=manages, can_decommission=False, template="deployments/portal.html")


@bp.get("/deployments")
def deployments():
    """The contact's own customer's deployments; the customer comes from the session, never the URL."""
    customer = db.session.get(Customer, g.portal.contact.customer_id)
    links = _links(customer.id, own_page=True)
    add, deployment = opened_form(customer.id) if links.can_manage else (None, None)
    return render_section(customer, links, add=add, deployment=deployment)


@bp.get("/customers/<int:customer_id>/deployments")
def customer_deployments(customer_id: int):
    """An Admin contact's view of the deployments of any customer in their tree."""
    customer = manageable_customer(customer_id)
    add, deployment = opened_form(customer.id)
    return render_section(customer, _links(customer.id, own_page=False), add=add, deployment=deployment)


@bp.post("/customers/<int:customer_id>/deployments")
def deployment_create(customer_id: int):
    customer = manageable_customer(customer_id)
    return create_with(customer, _links(customer.id, own_page=_own(customer.id)))


@bp.post("/customers/<int:customer_id>/deployments/<int:deployment_id>/licences")
def deployment_licence(customer_id: int, deployment_id: int):
    customer = manageable_customer(customer_id)
    return add_licence_with(customer, get_deployment(customer.id, deployment_id),
                            _links(customer.id, own_page=_own(customer.id)))


@bp.post("/customers/<int:customer_id>/deployments/<int:deployment_id>/support-plans")
def deployment_plan(customer_id: int, deployment_id: int):
    customer = manageable_customer(customer_id)
    return add_plan_with(customer, get_deployment(customer.id, deployment_id),
                         _links(customer.id, own_page=_own(customer.id)))


def _own(customer_id: int) -> bool:
    """An Admin managing their own customer stays on /portal/deployments after an action."""
    return customer_id == g.portal.contact.customer_id


@bp.get("/deployments/search")
def search_deployments():
    """The portal's deployment picker: the contact's own customer, or an Admin's whole tree."""
    query = search_text("q")
    root = portal_admin_root()
    if root is None:
        page = records.find(actors.current(), query, customer_id=g.portal.contact.customer_id)
    else:
        page = records.find(actors.current(), query, tree_root=root)
    return render_results(page, query, show_customer=root is not None)
