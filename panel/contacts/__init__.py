"""Contacts of customers."""
from flask import Blueprint

bp = Blueprint("contacts", __name__)

from panel.contacts import routes  # noqa: E402,F401
