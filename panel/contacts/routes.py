"""Routes for a customer's contacts."""
import sqlalchemy as sa
from flask import redirect, url_for

from panel.contacts import bp
from panel.contacts.models import Contact
from panel.customers.routes import get_customer
from panel.extensions import db
from panel.web import render_fragment, wants_fragment


@bp.get("/customers/<int:customer_id>/contacts")
def section(customer_id: int):
    """The Contacts section of the Main tab."""
    customer = get_customer(customer_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="contacts"))
    contacts = db.session.scalars(
        sa.select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.name, Contact.id)
    ).all()
    return render_fragment("contacts/_section.html", customer=customer, contacts=contacts)
