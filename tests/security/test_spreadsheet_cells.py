"""Exports never hand a spreadsheet a formula, and the importer reads an exported cell back as it was."""
import csv
import io

import openpyxl
import pytest

from panel import cells
from panel.calls.importer import FIELDS, parse_row
from panel.calls.parsing import fast_row, plain_row
from panel.summary.export import rows_csv, rows_xlsx
from panel.summary.figures import Column

RISKY = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tlead", "\rlead", "'=already", "'plain", "-", "@"]


@pytest.mark.parametrize("value", RISKY)
def test_a_risky_cell_is_written_as_text_and_reads_back_the_same(value):
    written = cells.escape(value)
    assert written[0] == "'"
    assert cells.unescape(written) == value


@pytest.mark.parametrize("value", ["4420", "-12.5", "+4420", "plain", "a=b", "", None, 12])
def test_numbers_and_plain_text_are_left_alone(value):
    assert cells.escape(value) == value


@pytest.mark.parametrize("value", ["=1+1", "+44 20 7946", "-cmd|' /C calc'!A0", "@x", "\tx", "'quoted", "'=x"])
def test_the_importer_reads_an_exported_call_record_back_to_the_same_values(value):
    out = io.StringIO()
    csv.writer(out).writerow([1, cells.escape(value), "2026-11-18T00:00:00Z", cells.escape(value), "true", 1, 1,
                              "0.01", "0.01", "0.01"])
    line = out.getvalue().rstrip("\r\n")
    assert not plain_row(line)  # PostgreSQL's COPY never takes such a line as it is: parse_row unescapes it
    texts = next(csv.reader(io.StringIO(line)))
    assert fast_row(*texts) is None
    row = parse_row(dict(zip(FIELDS, texts)))
    assert row["call_id"] == value and row["destination"] == value


class _Row:
    def __init__(self, values):
        self.values = values

    def value(self, key):
        return self.values[key]


def test_summary_exports_write_formulas_as_text():
    columns = [Column("period", "=cmd", "text"), Column("charge", "Charge", "money")]
    rows = [_Row({"period": "=HYPERLINK(1)", "charge": "-1.5000"})]
    lines = list(csv.reader(io.StringIO(rows_csv(columns, rows, "USD").decode("utf-8-sig"))))
    assert lines == [["'=cmd", "Charge (USD)"], ["'=HYPERLINK(1)", "-1.5000"]]
    sheet = openpyxl.load_workbook(io.BytesIO(rows_xlsx(columns, rows, "USD", "S"))).active
    values = list(sheet.values)
    assert values[0][0] == "'=cmd" and values[1][0] == "'=HYPERLINK(1)"
    assert sheet["A2"].data_type == "s"  # a string, not a formula
