"""Finding contacts: Global Contacts search and the pending changes shown beside them."""
import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from panel.contacts.models import Contact
from panel.customers.accounts import escape_like
from panel.customers.models import Customer
from panel.delayed.models import PendingChange
from panel.extensions import db
from panel.web import paginate


def contact_page(query: str, customer: str, contact_type: str, number: int, size: int):
    statement = sa.select(Contact).join(Contact.customer).options(contains_eager(Contact.customer))
    query = " ".join(query.split())
    if query:
        like = f"%{escape_like(query)}%"
        statement = statement.where(sa.or_(
            Contact.name.ilike(like, escape="\\"), Contact.email.ilike(like, escape="\\"),
            Contact.phone.ilike(like, escape="\\"), Contact.mobile.ilike(like, escape="\\"),
        ))
    customer = " ".join(customer.split())
    if customer:
        if customer.isdigit() and len(customer) < 12:
            statement = statement.where(Contact.customer_id == int(customer))
        else:
            statement = statement.where(Customer.name.ilike(f"%{escape_like(customer)}%", escape="\\"))
    if contact_type:
        statement = statement.where(Contact.contact_type == contact_type)
    return paginate(db.session, statement.order_by(Contact.name, Contact.id), number, size)


def pending_by_contact(contact_ids: list[int]) -> dict[int, list[PendingChange]]:
    """Pending and conflicting delayed saves of these contacts, in one query."""
    if not contact_ids:
        return {}
    rows = db.session.scalars(
        sa.select(PendingChange).where(
            PendingChange.table_name == "contact", PendingChange.row_id.in_(contact_ids),
            PendingChange.status.in_(("pending", "conflict")),
        ).order_by(PendingChange.run_at)
    ).all()
    found: dict[int, list[PendingChange]] = {}
    for change in rows:
        found.setdefault(change.row_id, []).append(change)
    return found
