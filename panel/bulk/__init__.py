"""Bulk changes on the customer list: Bulk Edit and Bulk mail of a selection, at once or in the worker."""
