"""The Deployments section's view helpers, shared by the staff routes (panel/deployments/routes.py) and
the portal's (panel/portal/deployments.py): one template, `SectionLinks` says where its links and forms go
and what the viewer may do there."""
from dataclasses import dataclass, field

from flask import flash, redirect, request, url_for

from panel import access, pages
from panel import actor as actors
from panel.deployments import records
from panel.deployments.forms import (
    DecommissionForm,
    DeploymentForm,
    LicenceForm,
    SupportPlanForm,
)
from panel.deployments.models import Deployment
from panel.types import utcnow
from panel.web import (
    render_fragment,
    render_page,
    search_text,
    wants_fragment,
)

SECTION_SIZE = 20
ADD_FORMS = {"deployment": DeploymentForm, "licence": LicenceForm, "plan": SupportPlanForm}


@dataclass
class SectionLinks:
    """Where the Deployments section's links and forms go: the panel and the portal share the template."""

    customer_id: int
    section_endpoint: str
    section_args: dict
    endpoints: dict  # create, licence, plan, decommission (None: not offered) → endpoint
    can_manage: bool
    can_decommission: bool
    template: str
    keep: dict = field(default_factory=dict)  # the page and search shown, kept by every action

    def section(self, **query) -> str:
        return url_for(self.section_endpoint, **self.section_args, **{**self.keep, **query})

    def action(self, name: str, **args) -> str:
        return url_for(self.endpoints[name], customer_id=self.customer_id, **args, **self.keep)


def get_deployment(customer_id: int, deployment_id: int) -> Deployment:
    """Fetch-or-abort: 404 unless the deployment is this customer's and within the actor's reach."""
    return access.fetch(actors.current(), Deployment, deployment_id, customer_id=customer_id,
                        message="This customer has no such deployment.")


def _kept_view() -> dict:
    keep = pages.kept_position()  # the page the reader was on
    if search_text("q"):
        keep["q"] = search_text("q")
    return keep


def render_section(customer, links: SectionLinks, *, code: int = 200, add: str | None = None,
                   deployment: Deployment | None = None, form=None, **extra):
    """The section (a block of the area's page): the customer's deployments, one add form open at most."""
    links.keep = _kept_view()
    query = search_text("q")
    page = records.customer_deployments(actors.current(), customer.id, pages.requested(), SECTION_SIZE, query)
    if add in ADD_FORMS and form is None and links.can_manage:
        form = ADD_FORMS[add](formdata=None)
    if add in ("licence", "plan") and deployment is None:
        add = None
    return render_page(links.template, block="section", code=code, customer=customer, links=links, page=page,
                       query=query, add=add if form is not None else None, open_deployment=deployment, form=form,
                       decommission_form=DecommissionForm(formdata=None) if links.can_decommission else None,
                       today=utcnow().date(), **extra)


def opened_form(customer_id: int) -> tuple[str | None, Deployment | None]:
    """?add=deployment, or ?add=licence|plan&deployment=<id>: the add form the section shows open."""
    add = request.args.get("add")
    if add not in ADD_FORMS:
        return None, None
    deployment = None
    if add != "deployment":
        text = request.args.get("deployment", "")
        if not (text.isascii() and text.isdigit() and len(text) < 12):
            return None, None
        deployment = get_deployment(customer_id, int(text))
    return add, deployment


def after_change(customer, links: SectionLinks, message: str, deployment: Deployment | None = None):
    """The section saying what was done (htmx), or back to the page (a plain form post)."""
    if wants_fragment():
        response = render_section(customer, links, notice=message)
        response.headers["HX-Trigger"] = "deployments-changed"
        return response
    flash(message)
    anchor = f"deployment-{deployment.id}" if deployment is not None else "deployments"
    return redirect(links.section(_anchor=anchor), 303)


def create_with(customer, links: SectionLinks):
    form = DeploymentForm()
    if not form.validate():
        return render_section(customer, links, code=422, add="deployment", form=form)
    try:
        deployment = records.create_deployment(actors.current(), customer.id, form.product.data, form.name.data)
    except records.DeploymentRefused as error:
        form.name.errors = [str(error)]
        return render_section(customer, links, code=422, add="deployment", form=form)
    return after_change(customer, links, f"{deployment.deployment_number} ({deployment.product}) "
                                         f"“{deployment.name}” added.", deployment)


def add_licence_with(customer, deployment: Deployment, links: SectionLinks):
    form = LicenceForm()
    if not form.validate():
        return render_section(customer, links, code=422, add="licence", deployment=deployment, form=form)
    try:
        records.add_licence(actors.current(), deployment, form.name.data, form.quantity.data, form.expires_on.data)
    except records.DeploymentRefused as error:
        return render_section(customer, links, code=409, problem=str(error))
    return after_change(customer, links, f"Licence “{form.name.data}” added to {deployment.deployment_number}.",
                        deployment)


def add_plan_with(customer, deployment: Deployment, links: SectionLinks):
    form = SupportPlanForm()
    if not form.validate():
        return render_section(customer, links, code=422, add="plan", deployment=deployment, form=form)
    try:
        records.add_support_plan(actors.current(), deployment, form.plan.data, form.starts_on.data, form.ends_on.data)
    except records.DeploymentRefused as error:
        return render_section(customer, links, code=409, problem=str(error))
    return after_change(customer, links, f"{form.plan.data} support plan added to {deployment.deployment_number}.",
                        deployment)


def render_results(page, query: str, *, show_customer: bool, hint: str | None = None):
    """The picker's list of matches (a fragment, never a page of its own)."""
    names = records.customer_names(page.items) if show_customer else {}
    return render_fragment("deployments/_results.html", page=page, query=query, names=names, hint=hint,
                           label=records.label)
