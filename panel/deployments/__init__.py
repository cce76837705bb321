"""Deployments: the products (PBX, SBC, Gateway) a customer has installed, each with a Deployment ID
that is never reused, its licences and its support plans.

`models` holds them, `records` creates and finds them (search by Deployment ID or name), `routes`
serves the customer's Deployments section and the search used wherever a deployment is picked.
"""
from flask import Blueprint

bp = Blueprint("deployments", __name__, url_prefix="/customers")
