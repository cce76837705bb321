"""Invoices made from the Summary, and the payments allocated to them.

`models` holds invoices, their lines, payments and allocations; `periods` names the billing periods of
a time frame; `billing` creates, voids and auto-generates invoices (never two for one period);
`payments` records payments and allocates them; `routes` serves the customer's Invoices and Payments.
"""
from flask import Blueprint

bp = Blueprint("invoices", __name__, url_prefix="/customers")
