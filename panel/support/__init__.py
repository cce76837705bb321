"""Support for a customer: the support-credit ledger and the issue reports sent from the portal.

`models` holds credit transactions (never edited; a wrong one is reversed by another) and issue
reports; `credits` records purchases, deductions and reversals and sums the balance; `reports`
files an issue report and mails it to the customer's support contacts; `routes` serves the staff side.
"""
from flask import Blueprint

bp = Blueprint("support", __name__, url_prefix="/customers")
