"""Customers: the list, the customer form and the Main tab."""
from flask import Blueprint

bp = Blueprint("customers", __name__, url_prefix="/customers")

