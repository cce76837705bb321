"""Spreadsheet cells that a spreadsheet program will show, never run (CSV and XLSX downloads).

A text cell beginning with = + - @ (a formula), a tab or a carriage return is written with a leading
apostrophe, which spreadsheets take as "this is text"; so is one that already begins with an apostrophe,
so that `unescape` gives back exactly what was written. Plain numbers (-12.5, +4420…) are left as they
are: a spreadsheet reads them as numbers, not formulas. The call-record importer unescapes what it reads
(panel/calls/parsing.py), so an exported file imports to the same values."""
import re

RISKY = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def escape(value):
    """The value to write in a cell: text made safe; anything else (numbers, None) as it is."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] == "'" or (value[0] in RISKY and not _NUMBER.fullmatch(value)):
        return "'" + value
    return value


def unescape(text: str) -> str:
    """What `escape` was given, for the text it wrote (other text is returned as it is)."""
    if len(text) > 1 and text[0] == "'" and (text[1] == "'" or text[1] in RISKY):
        return text[1:]
    return text
