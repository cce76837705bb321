"""Two-factor sign-in: TOTP and recovery codes for staff and portal contacts, passkeys for staff."""
from flask import Blueprint

bp = Blueprint("twofactor", __name__)
