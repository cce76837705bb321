"""Fetch-or-abort for a customer, shared by the routes of every area that works under /customers/<id>."""
from flask import abort

from panel.customers.models import Customer
from panel.extensions import db


def get_customer(customer_id: int) -> Customer:
    """Fetch-or-abort: 404 for a customer that does not exist."""
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404, "There is no customer with that id.")
    return customer
