"""Portal pages for customers: List All, a customer's record, its edit page, and its contacts.

Every contact sees their own customer. A contact of type Admin also sees and manages every customer
below their own (sub-accounts, at any depth): their information (never the reseller owner, customer
type, payment terms, debit limit or support credits), and their contacts. Any other id is not found.
"""
import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from panel import actor as actors
from panel import search
from panel.contacts.models import Contact
from panel.contacts.records import create_contact, send_now, update_contact
from panel.customers import accounts
from panel.customers.forms import PortalCustomerForm
from panel.customers.hierarchy import (
    manageable_customer,
    portal_admin_root,
)
from panel.customers.models import Customer
from panel.extensions import db
from panel.portal import bp
from panel.portal.forms import SubAccountContactForm
from panel.web import page_number, search_text


def viewable_customer(customer_id: int) -> Customer:
    """The contact's own customer, or (for an Admin contact) one of their tree; else 404."""
    if customer_id == g.portal.contact.customer_id:
        return db.session.get(Customer, customer_id)
    return manageable_customer(customer_id)


def _owner_endpoint(customer: Customer) -> str | None:
    """Link the reseller owner only when the viewer may open it."""
    root = portal_admin_root()
    if customer.reseller_id is None or root is None or customer.id == root:
        return None
    return "portal.customer"


@bp.get("/customers")
def customers():
    """Customers → List All: your customer and, for Admin contacts, every sub-account below it."""
    root = portal_admin_root()
    query = search_text("q")
    page = accounts.customer_page(actors.current(), query, "", page_number(), current_app.config["PAGE_SIZE"])
    return render_template("portal/customers.html", page=page, q=query, short=search.too_short(query),
                           own_id=g.portal.contact.customer_id, is_admin=root is not None)


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int):
    found = viewable_customer(customer_id)
    return render_template("portal/customer.html", customer=found, reseller=accounts.reseller_of(found),
                           owner_endpoint=_owner_endpoint(found), can_manage=portal_admin_root() is not None)


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
def edit_customer(customer_id: int):
    """The edit page: restricted fields are shown read-only; the form has no field for them, so a
    hand-made request that sends them changes nothing."""
    found = manageable_customer(customer_id)
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
    found = manageable_customer(customer_id)
    contacts = db.session.scalars(sa.select(Contact).where(Contact.customer_id == found.id)
                                  .order_by(Contact.name, Contact.id).limit(500)).all()
    return render_template("portal/customer_contacts.html", customer=found, contacts=contacts)


def _contact_of(found: Customer, contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.customer_id != found.id:
        abort(404, "There is no such contact in your account.")
    return contact


@bp.route("/customers/<int:customer_id>/contacts/new", methods=["GET", "POST"])
def new_customer_contact(customer_id: int):
    found = manageable_customer(customer_id)
    form = SubAccountContactForm()
    if form.validate_on_submit():
        contact, message = create_contact(actors.current(), found.id, form.values())
        db.session.commit()
        flash(f"{contact.name} added; a first password was e-mailed to {contact.email}." if message
              else f"{contact.name} added.")
        if message:
            send_now(message)
        return redirect(url_for(".customer_contacts", customer_id=found.id), 303)
    code = 422 if request.method == "POST" else 200
    return render_template("portal/customer_contact_form.html", customer=found, form=form, contact=None), code


@bp.route("/customers/<int:customer_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
def edit_customer_contact(customer_id: int, contact_id: int):
    found = manageable_customer(customer_id)
    contact = _contact_of(found, contact_id)
    form = (SubAccountContactForm(obj=contact, contact_id=contact.id) if request.method == "GET"
            else SubAccountContactForm(contact_id=contact.id))
    if form.validate_on_submit():
        update_contact(actors.current(), contact, form.values())
        db.session.commit()
        flash(f"{contact.name} saved.")
        return redirect(url_for(".customer_contacts", customer_id=found.id), 303)
    code = 422 if request.method == "POST" else 200
    return render_template("portal/customer_contact_form.html", customer=found, form=form, contact=contact), code
