"""Routes of the onboarding area (staff side)."""
from panel.onboarding import bp  # noqa: F401
