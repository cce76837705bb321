"""Portal pages: deployments (registered on the portal blueprint, behind its contact guard).

Every contact sees their own customer's deployments (/portal/deployments). A contact of type Admin
manages them, and those of every customer below theirs (/portal/customers/<id>/deployments: any id
outside their tree is not found). Decommissioning stays with staff.
"""
from panel import access
from panel import actor as actors
from panel.actor import Actor
from panel.deployments import records
from panel.deployments.models import Deployment
from panel.deployments.section import (
    SectionLinks,
    add_licence_with,
    add_plan_with,
    create_with,
    opened_form,
    render_results,
    render_section,
)
from panel.portal import bp
from panel.portal.sections import section_required
from panel.web import search_text

ENDPOINTS = {"create": "portal.deployment_create", "licence": "portal.deployment_licence",
             "plan": "portal.deployment_plan", "decommission": None}


def _links(actor: Actor, customer_id: int, own_page: bool) -> SectionLinks:
    return SectionLinks(
        customer_id=customer_id,
        section_endpoint="portal.deployments" if own_page else "portal.customer_deployments",
        section_args={} if own_page else {"customer_id": customer_id}, endpoints=ENDPOINTS,
        can_manage=access.can_change_customer(actor, customer_id), can_decommission=False,
        template="deployments/portal.html")


def _own(actor: Actor, customer_id: int) -> bool:
    """An Admin managing their own customer stays on /portal/deployments after an action."""
    return customer_id == actor.customer_id


def _deployment(actor: Actor, customer_id: int, deployment_id: int) -> Deployment:
    return access.fetch(actor, Deployment, deployment_id, customer_id=customer_id, write=True,
                        message="This customer has no such deployment.")


@bp.get("/deployments")
@section_required("deployments")
def deployments():
    """The contact's own customer's deployments; the customer comes from the session, never the URL."""
    actor = actors.current()
    customer = access.fetch_customer(actor, actor.customer_id)
    links = _links(actor, customer.id, own_page=True)
    add, deployment = opened_form(customer.id) if links.can_manage else (None, None)
    return render_section(customer, links, add=add, deployment=deployment)


@bp.get("/customers/<int:customer_id>/deployments")
@section_required("deployments")
def customer_deployments(customer_id: int):
    """An Admin contact's view of the deployments of any customer in their tree."""
    actor = actors.current()
    customer = access.managed_customer(actor, customer_id)
    add, deployment = opened_form(customer.id)
    return render_section(customer, _links(actor, customer.id, own_page=False), add=add, deployment=deployment)


@bp.post("/customers/<int:customer_id>/deployments")
@section_required("deployments")
def deployment_create(customer_id: int):
    actor = actors.current()
    customer = access.managed_customer(actor, customer_id)
    return create_with(customer, _links(actor, customer.id, own_page=_own(actor, customer.id)))


@bp.post("/customers/<int:customer_id>/deployments/<int:deployment_id>/licences")
@section_required("deployments")
def deployment_licence(customer_id: int, deployment_id: int):
    actor = actors.current()
    customer = access.managed_customer(actor, customer_id)
    return add_licence_with(customer, _deployment(actor, customer.id, deployment_id),
                            _links(actor, customer.id, own_page=_own(actor, customer.id)))


@bp.post("/customers/<int:customer_id>/deployments/<int:deployment_id>/support-plans")
@section_required("deployments")
def deployment_plan(customer_id: int, deployment_id: int):
    actor = actors.current()
    customer = access.managed_customer(actor, customer_id)
    return add_plan_with(customer, _deployment(actor, customer.id, deployment_id),
                         _links(actor, customer.id, own_page=_own(actor, customer.id)))


@bp.get("/deployments/search")
@section_required("deployments")
def search_deployments():
    """The portal's deployment picker: the contact's own customer, or an Admin's whole tree."""
    actor = actors.current()
    query = search_text("q")
    if actor.manages_tree:
        page = records.find(actor, query, tree_root=actor.customer_id)
    else:
        page = records.find(actor, query, customer_id=actor.customer_id)
    return render_results(page, query, show_customer=actor.manages_tree)
