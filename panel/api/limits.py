"""The API's limits, shared by its views and its OpenAPI document (panel/api/openapi.py)."""

DEFAULT_LIMIT = 100  # invoices a page, unless `limit` says otherwise
MAX_LIMIT = 500
MAX_ID = 2**31 - 1  # ids are INTEGER: a larger one from a client is refused, not sent to overflow the database
MAX_CDRS = 10_000  # call records a request
