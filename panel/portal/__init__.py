"""The customer portal: contacts see their own customer; staff see it as a contact through Portal Login."""
from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")
