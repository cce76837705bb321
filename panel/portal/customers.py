"""Portal pages for customers: List All, a customer's record, its edit page, and its contacts.

Every contact sees their own customer. A contact of type Admin also sees and manages every customer
below their own (sub-accounts, at any depth): their information (never the reseller owner, customer
type, payment terms, debit limit or support credits), and their contacts. Any other id is not found,
and so are the management pages for a contact who is not an Admin (panel/access.py says who reaches what).
"""
import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for

from panel import access, pages, search
from panel import actor as actors
from panel.actor import Actor
from panel.cards import cards as card_rules
from panel.contacts.models import Contact
from panel.contacts.records import create_contact, update_contact
from panel.customers import accounts
from panel.customers.forms import PortalCustomerForm
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices import balance
from panel.portal import bp
from panel.portal.forms import SubAccountContactForm
from panel.support import credits
from panel.portal.sections import shown_for
from panel.contacts.verification import SendLimited
from panel.web import search_text



def _owner_endpoint(actor: Actor, customer: Customer) -> str | None:
    """Link the reseller owner only when the viewer may open it."""
    if customer.reseller_id is None or not access.can_see_customer(actor, customer.reseller_id):
        return None
    return "portal.customer"


@bp.get("/customers")
def customers():
    """Customers → List All: your customer and, for Admin contacts, every sub-account below it."""
    actor = actors.current()
    query = search_text("q")
    page = accounts.customer_page(actor, query, "", pages.requested(), current_app.config["PAGE_SIZE"])
    # Status, balance and support credits at a glance (reference 000), for the page's rows in a few grouped sums.
    ids = [c.id for c in page.items]
    return render_template("portal/customers.html", page=page, q=query, short=search.too_short(query),
                           own_id=actor.customer_id, is_admin=actor.manages_tree,
                           balances=balance.balances_of(ids), support_credits=credits.balances(ids))


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int):
    actor = actors.current()
    found = access.fetch_customer(actor, customer_id, message=access.NOT_YOURS)
    return render_template("portal/customer.html", customer=found, reseller=accounts.reseller_of(found),
                           owner_endpoint=_owner_endpoint(actor, found), can_manage=actor.manages_tree,
                           show_cards=card_rules.may_view(actor, found) and "cards" in shown_for(actor, found),
                           shown_sections=shown_for(actor, found))


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
def edit_customer(customer_id: int):
    """The edit page: restricted fields are shown read-only; the form has no field for them, so a
    hand-made request that sends them changes nothing."""
    found = access.managed_customer(actors.current(), customer_id)
    form = PortalCustomerForm(obj=found) if request.method == "GET" else PortalCustomerForm()
    if form.validate_on_submit():
        changed = accounts.update_customer(actors.current(), found, form.values(), fields=accounts.PORTAL_EDITABLE)
        flash("Saved." if changed else "Nothing was changed.")
        return redirect(url_for(".customer", customer_id=found.id), 303)
    code = 422 if request.method == "POST" else 200
    return render_template("portal/customer_edit.html", customer=found, form=form,
                           reseller=accounts.reseller_of(found)), code


@bp.get("/customers/<int:customer_id>/contacts")
def customer_contacts(customer_id: int):
    found = access.managed_customer(actors.current(), customer_id)
    contacts = db.session.scalars(sa.select(Contact).where(Contact.customer_id == found.id)
                                  .order_by(Contact.name, Contact.id).limit(500)).all()
    return render_template("portal/customer_contacts.html", customer=found, contacts=contacts)


@bp.route("/customers/<int:customer_id>/contacts/new", methods=["GET", "POST"])
def new_customer_contact(customer_id: int):
    found = access.managed_customer(actors.current(), customer_id)
    form = SubAccountContactForm()
    if form.validate_on_submit():
        contact, message = create_contact(actors.current(), found.id, form.values())  # mailed after the commit
        flash(f"{contact.name} added; a first password was e-mailed to {contact.email}." if message
              else f"{contact.name} added.")
        return redirect(url_for(".customer_contacts", customer_id=found.id), 303)
    code = 422 if request.method == "POST" else 200
    return render_template("portal/customer_contact_form.html", customer=found, form=form, contact=None), code


@bp.route("/customers/<int:customer_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
def edit_customer_contact(customer_id: int, contact_id: int):
    actor = actors.current()
    found = access.managed_customer(actor, customer_id)
    contact = access.fetch(actor, Contact, contact_id, customer_id=found.id, write=True,
                           message="There is no such contact in your account.")
    form = (SubAccountContactForm(obj=contact, contact_id=contact.id) if request.method == "GET"
            else SubAccountContactForm(contact_id=contact.id))
    code = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            note = update_contact(actors.current(), contact, form.values())
        except SendLimited as limited:
            form.email.errors = [str(limited)]
            code = 429
        else:
            flash(f"{contact.name} saved." + (f" {note}" if note else ""))
            return redirect(url_for(".customer_contacts", customer_id=found.id), 303)
    return render_template("portal/customer_contact_form.html", customer=found, form=form, contact=contact), code
