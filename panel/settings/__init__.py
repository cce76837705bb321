"""Settings: account-wide options, API tokens, staff users and permission groups, the staff IP allow-list.
Admins only, except Options for staff whose permission groups grant the Settings area."""
from flask import Blueprint, request

from panel.access import require_admin

bp = Blueprint("settings", __name__, url_prefix="/settings")
# What the Settings area of a permission group opens (the guard in panel/access.py has checked the grant);
# staff users, groups, the allow-list and API tokens stay with admins.
GROUP_ENDPOINTS = frozenset({"settings.options"})


@bp.before_request
def _guard():
    if request.endpoint in GROUP_ENDPOINTS:
        return None
    return require_admin()

