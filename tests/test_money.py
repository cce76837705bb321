"""The one amount rule (panel/money.py): what is accepted, what is refused and the message that says how to
write it; the currency table and the rounding of what is billed; the input's hints agree with the parser."""
import re
from decimal import Decimal

import pytest

from panel import money
from panel.customers.models import CURRENCIES

ACCEPTED = [
    ("50", 2, Decimal("50")),
    ("50.00", 2, Decimal("50.00")),
    ("50.5", 2, Decimal("50.5")),
    ("  7  ", 2, Decimal("7")),
    ("0.01", 2, Decimal("0.01")),
    ("1,234.56", 2, Decimal("1234.56")),
    ("12,345", 2, Decimal("12345")),
    ("1,234,567.89", 2, Decimal("1234567.89")),
    ("1234567.89", 2, Decimal("1234567.89")),
    ("-5", 2, Decimal("-5")),  # read, so a form can say "more than zero"
    ("1,500", 0, Decimal("1500")),
    ("1.125", 3, Decimal("1.125")),
    ("0.1234", 4, Decimal("0.1234")),
]

POINT = "A comma only separates thousands, as in 1,234.56."
REFUSED = [
    ("", 2, "Enter an amount."),
    ("   ", 2, "Enter an amount."),
    ("50,00", 2, f"Use a point for decimals: 50.00. {POINT}"),
    ("1,5", 2, f"Use a point for decimals: 1.5. {POINT}"),
    ("0,99", 2, f"Use a point for decimals: 0.99. {POINT}"),
    ("1.234,56", 2, f"Use a point for decimals: 1234.56. {POINT}"),
    ("1.234.567,5", 2, f"Use a point for decimals: 1234567.5. {POINT}"),
    ("50,5", 0, "Use a point for decimals, not a comma (50.5); this currency has no decimal places."),
    ("1,23,456", 2, "Put commas only between groups of three digits, as in 1,234,567.89, or leave them out."),
    ("1234,567", 2, "Put commas only between groups of three digits, as in 1,234,567.89, or leave them out."),
    ("1,234,56", 2, "Put commas only between groups of three digits, as in 1,234,567.89, or leave them out."),
    (",5", 2, "Put commas only between groups of three digits, as in 1,234,567.89, or leave them out."),
    ("1.2.3", 2, "Use one decimal point at most, such as 1234.56; commas separate thousands."),
    ("1.234.567", 2, "Use one decimal point at most, such as 1234.56; commas separate thousands."),
    ("1 234", 2, "Leave out the spaces: 1234."),
    ("1 234.50", 2, "Leave out the spaces: 1234.50."),
    ("1\u00a0234", 2, "Leave out the spaces: 1234."),
    ("1.005", 2, "Use at most 2 decimal places."),
    ("0.0001", 3, "Use at most 3 decimal places."),
    ("10.5", 0, "Enter a whole amount: this currency has no decimal places."),
    ("1e3", 2, "Write the amount out in digits, such as 1000."),
    ("1.5e-2", 2, "Write the amount out in digits, with a point for decimals."),
    ("1e20", 2, "That amount is too large."),
    ("100,000,000,000,000", 2, "That amount is too large."),
    ("abc", 2, "Enter an amount such as 250 or 250.00."),
    ("abc", 0, "Enter an amount such as 250."),
    ("abc", 3, "Enter an amount such as 250 or 250.000."),
    ("NaN", 2, "Enter an amount such as 250 or 250.00."),
    ("Infinity", 2, "Enter an amount such as 250 or 250.00."),
    ("0x1F", 2, "Enter an amount such as 250 or 250.00."),
    ("1_000", 2, "Enter an amount such as 250 or 250.00."),
    (".5", 2, "Enter an amount such as 250 or 250.00."),
    ("5.", 2, "Enter an amount such as 250 or 250.00."),
    ("+5", 2, "Enter an amount such as 250 or 250.00."),
    ("$5", 2, "Enter an amount such as 250 or 250.00."),
    ("5 USD", 2, "Enter an amount such as 250 or 250.00."),
    ("١٢٣", 2, "Enter an amount such as 250 or 250.00."),  # Arabic-Indic digits: Decimal would read them
    ("１２", 2, "Enter an amount such as 250 or 250.00."),  # full-width digits
    ("½", 2, "Enter an amount such as 250 or 250.00."),
]


@pytest.mark.parametrize("typed, decimals, value", ACCEPTED)
def test_an_amount_written_one_way_only_is_read(typed, decimals, value):
    parsed = money.parse_amount(typed, decimals)
    assert parsed == value and str(parsed) == str(value)


@pytest.mark.parametrize("typed, decimals, message", REFUSED)
def test_an_amount_that_would_have_to_be_guessed_is_refused_with_how_to_write_it(typed, decimals, message):
    with pytest.raises(ValueError) as refused:
        money.parse_amount(typed, decimals)
    assert str(refused.value) == message


@pytest.mark.parametrize("decimals", [0, 2, 3])
def test_the_input_pattern_accepts_exactly_what_the_parser_accepts(decimals):
    pattern = re.compile(money.pattern(decimals))
    # The size limit is the server's alone: a pattern only says how an amount is written.
    for typed, _, _ in ACCEPTED + [r for r in REFUSED if r[2] != "That amount is too large."]:
        typed = typed.strip()
        try:
            ok = money.parse_amount(typed, decimals) >= 0
        except ValueError:
            ok = False
        assert bool(pattern.fullmatch(typed)) == ok, (typed, decimals)
    assert pattern.fullmatch(money.example(decimals))


def test_the_currency_table_is_iso_4217_and_the_one_list_customers_choose_from():
    assert CURRENCIES == tuple(money.MINOR_UNITS)
    assert {c: money.places(c) for c in ("USD", "EUR", "GBP", "CAD", "JPY", "KWD", "BHD")} == {
        "USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "JPY": 0, "KWD": 3, "BHD": 3}
    with pytest.raises(ValueError, match="not a currency of the table"):
        money.places("XYZ")


@pytest.mark.parametrize("amount, currency, billed, shown, plain", [
    ("25.824", "USD", "25.82", "25.82", "25.82"),
    ("25.825", "USD", "25.83", "25.83", "25.83"),  # half up, not half even
    ("0.0050", "EUR", "0.01", "0.01", "0.01"),
    ("0.0049", "EUR", "0.00", "0.00", "0.00"),
    ("1234.5", "JPY", "1235", "1,235", "1235"),
    ("1234.4999", "JPY", "1234", "1,234", "1234"),
    ("0.0005", "KWD", "0.001", "0.001", "0.001"),
    ("1234.5675", "BHD", "1234.568", "1,234.568", "1234.568"),
    ("0", "JPY", "0", "0", "0"),
])
def test_what_is_billed_is_rounded_half_up_to_the_minor_unit(amount, currency, billed, shown, plain):
    assert str(money.billed(Decimal(amount), currency)) == billed
    assert money.show(Decimal(amount), currency) == shown
    assert money.plain(Decimal(amount), currency) == plain


def test_the_money_filter_shows_each_currency_with_its_own_places(app):
    with app.app_context():
        show = app.jinja_env.filters["money"]
        assert show(Decimal("1234.5"), "USD") == "1,234.50 USD"
        assert show(Decimal("1234.5"), "JPY") == "1,235 JPY"
        assert show(Decimal("2.5"), "KWD", code=False) == "2.500"
        assert show(Decimal("10"), "") == "10.00"  # no currency (support credits): two places
