"""Routes of the deployments area (staff side)."""
from panel.deployments import bp  # noqa: F401
