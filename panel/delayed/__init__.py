"""Delayed saves and the Delay Log."""
from flask import Blueprint

bp = Blueprint("delayed", __name__)

