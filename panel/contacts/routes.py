"""Routes for contacts: the Main tab section, inline add/edit/delete, password resets, Global Contacts."""
from flask import abort, current_app, redirect, request, url_for

from panel import access, pages, search
from panel import actor as actors
from panel.contacts import bp
from panel.contacts.directory import (
    contact_count,
    contact_page,
    customer_contacts,
    pending_by_contact,
    pending_creates,
)
from panel.contacts.forms import ContactForm, NewContactForm, PasswordForm
from panel.contacts import recipients
from panel.contacts.models import CONTACT_TYPES, Contact
from panel.contacts.records import (
    create_contact,
    reset_password,
    send_now,
    send_reset_now,
    update_contact,
)
from panel.delayed import changes
from panel.delayed.models import PendingChange
from panel.extensions import db
from panel.passwords import hash_password
from panel.portal.access import PortalLoginRefused, portal_login_refusal, start_portal_login
from panel.save_options import DELAY, STAY
from panel.web import (
    notify,
    render_fragment,
    render_page,
    search_text,
    wants_fragment,
)

SECTION_LIMIT = 200


def get_customer(customer_id: int, write: bool = False):
    return access.fetch_customer(actors.current(), customer_id, write=write)


def get_contact(customer_id: int, contact_id: int, write: bool = False) -> Contact:
    """Fetch-or-abort: 404 unless the contact exists and belongs to this customer; 403 for `write` by a
    read-only user."""
    return access.fetch(actors.current(), Contact, contact_id, customer_id=customer_id, write=write,
                        message="There is no such contact for this customer.")


def _global_view() -> bool:
    return request.values.get("view") == "global"


def _row(contact, code=200, **extra):
    return render_fragment(
        "contacts/_row.html", code=code, contact=contact, customer=contact.customer,
        show_customer=_global_view(), pending=pending_by_contact([contact.id]), **extra,
    )


def _section(customer, code=200, **extra):
    contacts, more = customer_contacts(actors.current(), customer.id, SECTION_LIMIT)
    return render_fragment(
        "contacts/_section.html", code=code, customer=customer, contacts=contacts, more=more,
        pending=pending_by_contact([c.id for c in contacts]), pending_creates=pending_creates(customer.id),
        show_customer=False, mail_plan=recipients.mail_plan(actors.current(), customer), **extra,
    )


@bp.get("/customers/<int:customer_id>/contacts")
def section(customer_id: int):
    """The Contacts section of the Main tab."""
    customer = get_customer(customer_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="contacts"))
    return _section(customer)


@bp.get("/customers/<int:customer_id>/contacts/new")
def new(customer_id: int):
    customer = get_customer(customer_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="contacts"))
    return _section(customer, form=NewContactForm(formdata=None))


@bp.post("/customers/<int:customer_id>/contacts")
def create(customer_id: int):
    customer = get_customer(customer_id)
    form = NewContactForm()
    if not form.validate():
        return _section(customer, code=422, form=form)
    values = form.values()
    if form.action == DELAY:
        typed = form.typed_password()
        change = changes.schedule_create(actors.current(), "contact", customer.id, {**values, "_auto_password": typed is None},
                                         form.run_at(), secret=hash_password(typed) if typed else None)
        response = _section(customer, notice=f"New contact {values['name']} will be added at {change.run_at:%Y-%m-%d %H:%M} UTC.")
        response.headers["HX-Trigger"] = "pendingChanged"
        return response
    contact, message = create_contact(actors.current(), customer.id, values, password=form.typed_password())
    notice = f"Contact {contact.name} added. " + send_now(message)
    if form.action == STAY:
        return _section(customer, form=NewContactForm(formdata=None), notice="Saved. " + notice)
    return _section(customer, notice=notice)


@bp.get("/customers/<int:customer_id>/contacts/<int:contact_id>")
def row(customer_id: int, contact_id: int):
    contact = get_contact(customer_id, contact_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor=f"contact-{contact_id}"))
    return _row(contact)


@bp.get("/customers/<int:customer_id>/contacts/<int:contact_id>/edit")
def edit(customer_id: int, contact_id: int):
    contact = get_contact(customer_id, contact_id, write=True)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor=f"contact-{contact_id}"))
    form = ContactForm(obj=contact, contact_id=contact.id)
    return render_fragment("contacts/_edit.html", contact=contact, form=form, show_customer=_global_view())


@bp.post("/customers/<int:customer_id>/contacts/<int:contact_id>")
def save(customer_id: int, contact_id: int):
    contact = get_contact(customer_id, contact_id)
    form = ContactForm(contact_id=contact.id)
    if not form.validate():
        return render_fragment("contacts/_edit.html", code=422, contact=contact, form=form, show_customer=_global_view())
    if form.action == DELAY:
        change = changes.schedule_update(actors.current(), "contact", contact, form.values(), form.run_at())
        notice = (f"Will apply at {change.run_at:%Y-%m-%d %H:%M} UTC." if change else "Nothing to delay: no field was changed.")
        response = _row(contact, row_notice=notice)
        response.headers["HX-Trigger"] = "pendingChanged"
        return response
    update_contact(actors.current(), contact, form.values())
    if form.action == STAY:
        return render_fragment("contacts/_edit.html", contact=contact, form=ContactForm(obj=contact, contact_id=contact.id),
                               show_customer=_global_view(), notice="Saved.")
    return _row(contact, row_notice="Saved.")


@bp.delete("/customers/<int:customer_id>/contacts/<int:contact_id>")
def delete(customer_id: int, contact_id: int):
    contact = get_contact(customer_id, contact_id, write=True)
    db.session.delete(contact)
    db.session.flush()
    count = contact_count(customer_id)
    response = render_fragment("contacts/_deleted.html", count=count, show_customer=_global_view())
    return notify(response, f"Contact {contact.name} deleted.")


@bp.route("/customers/<int:customer_id>/contacts/<int:contact_id>/password", methods=["GET", "POST"])
def password(customer_id: int, contact_id: int):
    contact = get_contact(customer_id, contact_id)
    if request.method == "GET":
        access.require(actors.current(), contact, write=True)
        if not wants_fragment():
            return redirect(url_for("customers.show", customer_id=customer_id, _anchor=f"contact-{contact_id}"))
        return render_fragment("contacts/_password.html", contact=contact, form=PasswordForm(formdata=None),
                               show_customer=_global_view())
    form = PasswordForm()
    if not form.validate():
        return render_fragment("contacts/_password.html", code=422, contact=contact, form=form, show_customer=_global_view())
    message = reset_password(actors.current(), contact, form.typed_password())
    return _row(contact, row_notice=send_reset_now(message))


@bp.get("/customers/<int:customer_id>/contacts/pending/<int:change_id>")
def pending_create(customer_id: int, change_id: int):
    """A delayed new contact's placeholder row: polls until the contact exists."""
    change = access.fetch(actors.current(), PendingChange, change_id, customer_id=customer_id,
                          message="There is no such delayed contact.")
    if change.kind != "create":
        abort(404, "There is no such delayed contact.")
    if change.status == "applied" and change.row_id:
        contact = db.session.get(Contact, change.row_id)
        if contact is not None:
            return _row(contact)
    if change.status == "cancelled":
        return render_fragment("contacts/_pending_create.html", change=None)
    return render_fragment("contacts/_pending_create.html", change=change, customer_id=customer_id)


# The row menu shows Portal Login disabled, with the reason, for a contact it would refuse.
bp.add_app_template_global(portal_login_refusal, "portal_login_refusal")


@bp.post("/customers/<int:customer_id>/contacts/<int:contact_id>/portal-login")
def portal_login(customer_id: int, contact_id: int):
    """Open the customer portal as this contact (staff and admins; audited; 30 minutes at most)."""
    contact = get_contact(customer_id, contact_id)
    try:
        start_portal_login(actors.current(), contact)
    except PortalLoginRefused as refused:
        abort(409, str(refused))
    target = url_for("portal.home")
    if getattr(request, "htmx", None):
        response = current_app.response_class(status=204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


@bp.get("/contacts")
def directory():
    """Global Contacts: every contact of every customer."""
    query = search_text("q")
    customer = search_text("customer")
    contact_type = request.args.get("type", "")
    if contact_type not in CONTACT_TYPES:
        contact_type = ""
    emails = request.args.get("in") == "emails"
    page, searched = contact_page(actors.current(), query, customer, contact_type, pages.requested(),
                                  current_app.config["PAGE_SIZE"], emails=emails)
    return render_page(
        "contacts/list.html", block="results", page=page, q=query, customer_filter=customer, searched=searched,
        in_emails=emails, contact_type=contact_type, types=CONTACT_TYPES, cap=search.SEARCH_CAP,
        pending=pending_by_contact([c.id for c in page.items]),
        show_customer=True, short=search.too_short(query) or (search.too_short(customer) and not customer.isdigit()),
    )
