"""Staff routes of the store: Settings → Store (the catalogue, shipping rates, terms, payment instructions)
and the Orders pages."""
from panel.store import bp  # noqa: F401
