"""Settings → Options: account-wide options, admin only."""
from flask import Blueprint

from panel.access import require_admin

bp = Blueprint("settings", __name__, url_prefix="/settings")
bp.before_request(require_admin)

