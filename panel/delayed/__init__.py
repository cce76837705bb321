"""Delayed saves and the Delay Log."""
from flask import Blueprint

bp = Blueprint("delayed", __name__)

from panel.delayed import routes  # noqa: E402,F401
