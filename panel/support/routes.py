"""Routes of the support area (staff side)."""
from panel.support import bp  # noqa: F401
