"""Cards: a customer's stored credit cards and the charges made on them, through a payment processor.

Card numbers never reach the panel: they are typed into the processor's card element (stripe.js) and the
panel keeps the processor's ids (never rendered, logged or audited), the brand, the last four digits and the
expiry. `processor` is the interface with its one implementation (Stripe, through the official library),
`cards` the domain (list, add from a confirmed SetupIntent, set default, remove, charge, refund, reconcile),
`routes` the staff customer record's Cards tab (the portal's is panel/portal/cards.py, the same template).
"""
from flask import Blueprint

bp = Blueprint("cards", __name__, url_prefix="/customers")
