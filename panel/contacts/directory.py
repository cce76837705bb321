"""Finding contacts: Global Contacts search and the pending changes shown beside them."""
import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from panel.contacts.models import Contact
from panel import search
from panel.customers.models import Customer
from panel.delayed.models import PendingChange
from panel.extensions import db
from panel.web import paginate


def contact_page(query: str, customer: str, contact_type: str, number: int, size: int):
    """One page of Global Contacts in name order; the page's `capped` says the search found too many."""
    statement = sa.select(Contact).join(Contact.customer).options(contains_eager(Contact.customer))
    capped = False
    if query and not search.too_short(query):
        pattern = search.like(query)
        condition = sa.or_(*(column.ilike(pattern, escape="\\")
                             for column in (Contact.name, Contact.email, Contact.phone, Contact.mobile)))
        statement = statement.where(Contact.id.in_(search.matching_ids(Contact.id, condition)))
        capped = number == 1 and search.is_capped(db.session, Contact.id, condition)
    if customer:
        if customer.isdigit() and len(customer) < 12:
            statement = statement.where(Contact.customer_id == int(customer))
        elif not search.too_short(customer):
            condition = Customer.name.ilike(search.like(customer), escape="\\")
            statement = statement.where(Contact.customer_id.in_(search.matching_ids(Customer.id, condition)))
    if contact_type:
        statement = statement.where(Contact.contact_type == contact_type)
    page = paginate(db.session, statement.order_by(Contact.name, Contact.id), number, size)
    page.capped = capped
    return page


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
