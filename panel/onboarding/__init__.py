"""Onboarding a new customer step by step: customer information, admin contacts, support contacts.

Nothing half-made becomes a customer: the steps live in a draft (kept by "Save and Back", thrown
away by Cancel) until the last step creates the customer and its contacts in one transaction.
"""
from flask import Blueprint

bp = Blueprint("onboarding", __name__, url_prefix="/onboarding")
