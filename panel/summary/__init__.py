"""The Summary on a customer's Main tab: call figures per hour, day, week and month from the hourly roll-up.

`periods` turns the hourly table into rows for each time frame, `chart` draws them as SVG, `export`
writes selected rows as CSV or XLSX, and `routes` serves the grid, the downloads and the chart.
"""
from flask import Blueprint

bp = Blueprint("summary", __name__, url_prefix="/customers")
