"""Balance alerts and penalties, and the credit check the switch asks before a call.

`models` holds the alerts (per customer, or global: customer_id NULL), their state per customer, the firings,
the penalties and the balance cache; `rules` is the pure crossing/reset/repeat rule; `figures` reads the
figures an alert compares (cached balance, channels, the hourly roll-up: never raw call records);
`evaluate` is the worker's step; `records` adds, edits and deletes alerts; `credit` answers authorize;
`recipients` says who receives an alert's mail; `routes` the staff pages.
"""
from flask import Blueprint

bp = Blueprint("alerts", __name__)
