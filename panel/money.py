"""Money: each currency's minor unit, the one rounding rule for what is billed, and reading an amount as typed.

What is billed (invoice lines, and so invoice totals, paid and due) is rounded to the currency's
minor unit (ISO 4217) half up, the commercial rounding customers check on paper: 0.005 → 0.01,
0.0049 → 0.00. Usage figures (the Summary, call records) keep the four places they are stored with.

An amount typed by a person is read one way only: digits, at most one decimal point, and commas
only as thousands separators in their proper places (1,234.56 or 12,345). Anything that would have
to be guessed (50,00 · 1,5 · 1.234,56 · 1.2.3 · 1 234) is refused with a message saying how to
write it.
"""
import re
from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor units of the currencies a customer may hold.
MINOR_UNITS = {
    "USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "NZD": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2,
    "JPY": 0, "ZAR": 2, "INR": 2, "BRL": 2, "MXN": 2, "KWD": 3, "BHD": 3,
}
ROUNDING = ROUND_HALF_UP
LIMIT = Decimal(10) ** 14  # NUMERIC(18, 4) holds 14 digits before the point


def places(currency: str) -> int:
    """The currency's number of decimal places; a currency outside the table is an error, never a guess."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"{currency!r} is not a currency of the table (panel/money.py).") from None


def unit(currency: str) -> Decimal:
    """The currency's minor unit: 0.01, 1 or 0.001."""
    return Decimal(1).scaleb(-places(currency))


def billed(amount: Decimal, currency: str) -> Decimal:
    """An amount as it is billed: rounded half up to the currency's minor unit."""
    return Decimal(amount).quantize(unit(currency), rounding=ROUNDING)


def show(amount: Decimal, currency: str) -> str:
    """1,234.56 — with the currency's own number of places (rounded the billing way)."""
    return f"{billed(amount, currency):,.{places(currency)}f}"


def plain(amount: Decimal, currency: str) -> str:
    """1234.56 — as the API writes money: a string with the currency's own number of places."""
    return f"{billed(amount, currency):f}"


# --- reading an amount as typed -------------------------------------------------------------------

_PLAIN = r"[0-9]+"
_GROUPED = r"[0-9]{1,3}(?:,[0-9]{3})+"


def _fraction(decimals: int) -> str:
    return rf"(?:\.[0-9]{{1,{decimals}}})?" if decimals else ""


def pattern(decimals: int = 2, negative: bool = False) -> str:
    """The same rule as `parse_amount`, as an HTML `pattern` (anchored by the browser)."""
    return ("-?" if negative else "") + f"(?:{_PLAIN}|{_GROUPED}){_fraction(decimals)}"


def example(decimals: int = 2) -> str:
    return "1234" + ("." + "5678"[:decimals] if decimals else "")


def hint(decimals: int = 2) -> str:
    """What the input's title says: the rule in one line."""
    if not decimals:
        return "A whole number, such as 1234 or 1,234 (no decimal places)."
    return (f"Digits with a point for decimals (at most {decimals}), such as {example(decimals)}; "
            f"commas only between thousands, as in 1,{example(decimals)[1:]}.")


_AMOUNT = re.compile(rf"(-?)((?:{_PLAIN}|{_GROUPED})(?:\.[0-9]+)?)")
_DECIMAL_COMMA = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{3})*,[0-9]+|-?[0-9]+,[0-9]{1,2}")
_EXPONENT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]{1,4}")
_SPACED = re.compile(r"-?[0-9][0-9 \u00a0\u202f]*[0-9](?:\.[0-9]+)?")


def _such_as(decimals: int) -> str:
    return "250" if not decimals else f"250 or 250.{'0' * decimals}"


def parse_amount(text: str | None, decimals: int = 2) -> Decimal:
    """An amount as typed → Decimal, or ValueError with a message that says how to write it.

    Signs: a leading minus is read (so callers can say "more than zero"); nothing else is."""
    typed = (text or "").strip()
    if not typed:
        raise ValueError("Enter an amount.")
    match = _AMOUNT.fullmatch(typed)
    if match is None:
        raise ValueError(_refusal(typed, decimals))
    sign, digits = match.groups()
    value = Decimal(sign + digits.replace(",", ""))
    if abs(value) >= LIMIT:
        raise ValueError("That amount is too large.")
    if value.as_tuple().exponent < -decimals:
        if not decimals:
            raise ValueError("Enter a whole amount: this currency has no decimal places.")
        raise ValueError(f"Use at most {decimals} decimal places.")
    return value


def _refusal(typed: str, decimals: int) -> str:
    """Why a typed amount is refused, and how to write it instead."""
    if _DECIMAL_COMMA.fullmatch(typed):
        whole, _, fraction = typed.rpartition(",")
        written = f"{whole.replace('.', '')}.{fraction}"
        if not decimals:
            return f"Use a point for decimals, not a comma ({written}); this currency has no decimal places."
        return f"Use a point for decimals: {written}. A comma only separates thousands, as in 1,234.56."
    if "," in typed and re.fullmatch(r"-?[0-9,]+(?:\.[0-9]+)?", typed):
        return "Put commas only between groups of three digits, as in 1,234,567.89, or leave them out."
    if typed.count(".") > 1 and re.fullmatch(r"-?[0-9.]+", typed):
        return f"Use one decimal point at most, such as {example(decimals)}; commas separate thousands."
    if _EXPONENT.fullmatch(typed):
        value = Decimal(typed)
        if abs(value) >= LIMIT:
            return "That amount is too large."
        return f"Write the amount out in digits, such as {value:f}." if value == value.to_integral_value() \
            else "Write the amount out in digits, with a point for decimals."
    if _SPACED.fullmatch(typed):
        written = re.sub(r"[ \u00a0\u202f]", "", typed)
        return f"Leave out the spaces: {written}."
    return f"Enter an amount such as {_such_as(decimals)}."
