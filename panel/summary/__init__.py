"""The Summary on a customer's Main tab: call figures per hour, day, week and month from the hourly roll-up.

`figures` turns the hourly table (call_hour) into rows for each time frame, `chart` draws them as SVG,
`export` writes selected rows as CSV or XLSX and streams a period's call records, and `routes` serves
the section, the downloads and the records.
"""
from flask import Blueprint

bp = Blueprint("summary", __name__, url_prefix="/customers")
