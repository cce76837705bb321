"""The store: a catalogue of products priced per currency, a contact's cart, checkout into orders and quotes,
and the fulfilment that runs once per line when an order is paid.

`models` holds products, prices, shipping rates, carts, orders, their lines and shipments. The portal's
Store pages are views in `panel/portal/`; staff manage the catalogue under Settings → Store and follow
orders on the Orders page (`routes`).
"""
from flask import Blueprint

bp = Blueprint("store", __name__)
