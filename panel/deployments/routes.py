"""Routes of the deployments area (staff side): a customer's Deployments section (add a deployment, a
licence, a support plan; decommission) and the deployment search behind every picker.

The section's template and view helpers are shared with the portal (panel/deployments/section.py):
`SectionLinks` says where its links and forms go and what the viewer may do there.
"""
from panel import access
from panel import actor as actors
from panel.deployments import bp, records
from panel.deployments.forms import DecommissionForm
from panel.deployments.section import (
    SectionLinks,
    add_licence_with,
    add_plan_with,
    after_change,
    create_with,
    get_deployment,
    opened_form,
    render_results,
    render_section,
)
from panel.web import search_text


def get_customer(customer_id: int):
    return access.fetch_customer(actors.current(), customer_id)


def staff_links(customer_id: int) -> SectionLinks:
    can_write = actors.current().can_write
    return SectionLinks(
        customer_id=customer_id, section_endpoint="deployments.section", section_args={"customer_id": customer_id},
        endpoints={"create": "deployments.create", "licence": "deployments.add_licence",
                   "plan": "deployments.add_plan", "decommission": "deployments.decommission"},
        can_manage=can_write, can_decommission=can_write, template="deployments/page.html")


@bp.get("/<int:customer_id>/deployments")
def section(customer_id: int):
    """The Deployments section of the Main tab (htmx), or the same list as a page of its own."""
    customer = get_customer(customer_id)
    add, deployment = opened_form(customer_id)
    return render_section(customer, staff_links(customer_id), add=add, deployment=deployment)


@bp.post("/<int:customer_id>/deployments")
def create(customer_id: int):
    customer = get_customer(customer_id)
    return create_with(customer, staff_links(customer_id))


@bp.post("/<int:customer_id>/deployments/<int:deployment_id>/licences")
def add_licence(customer_id: int, deployment_id: int):
    customer = get_customer(customer_id)
    return add_licence_with(customer, get_deployment(customer_id, deployment_id), staff_links(customer_id))


@bp.post("/<int:customer_id>/deployments/<int:deployment_id>/support-plans")
def add_plan(customer_id: int, deployment_id: int):
    customer = get_customer(customer_id)
    return add_plan_with(customer, get_deployment(customer_id, deployment_id), staff_links(customer_id))


@bp.post("/<int:customer_id>/deployments/<int:deployment_id>/decommission")
def decommission(customer_id: int, deployment_id: int):
    customer = get_customer(customer_id)
    deployment = get_deployment(customer_id, deployment_id)
    links = staff_links(customer_id)
    form = DecommissionForm()
    if not form.validate():
        problem = "; ".join(form.audit_comment.errors) or "The form has expired: reload the page and try again."
        return render_section(customer, links, code=422, problem=problem)
    try:
        records.decommission(actors.current(), deployment)
    except records.DeploymentRefused as error:
        return render_section(customer, links, code=409, problem=str(error))
    return after_change(customer, links, f"{deployment.deployment_number} is decommissioned; its Deployment ID "
                                         "stays with it and is never given to another deployment.", deployment)


@bp.get("/<int:customer_id>/deployments/search")
def search(customer_id: int):
    """Search-as-you-type within one customer's deployments, by Deployment ID or name."""
    get_customer(customer_id)
    query = search_text("q")
    return render_results(records.find(actors.current(), query, customer_id=customer_id), query, show_customer=False)


@bp.get("/deployments/search")
def search_all():
    """Search-as-you-type across every customer's deployments (at least three characters)."""
    query = search_text("q")
    page = records.find(actors.current(), query, everyone=True)
    hint = "Type at least three characters of a Deployment ID or name." if len(query) < 3 else None
    return render_results(page, query, show_customer=True, hint=hint)
