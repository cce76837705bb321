"""The audit log pages."""
from flask import Blueprint

bp = Blueprint("audit", __name__)

from panel.audit import routes  # noqa: E402,F401
