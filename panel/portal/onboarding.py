"""Portal pages: onboarding (registered on the portal blueprint, behind its contact guard)."""
from panel.portal import bp  # noqa: F401
