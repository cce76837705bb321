"""Internal number blocks and SIP users."""
from flask import Blueprint

bp = Blueprint("numbering", __name__)
