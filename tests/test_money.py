"""Reading and writing money and percentages the way people type and read them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.money import format_money, format_percent, parse_amount, parse_percent

# -- parse_amount ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, currency, locale, cents",
    [
        ("$4,000", "USD", "en_US", 400_000),
        ("4000", "USD", "en_US", 400_000),
        ("4,850.00", "USD", "en_US", 485_000),
        ("$1,283.33", "USD", "en_US", 128_333),
        ("1.5", "USD", "en_US", 150),
        ("0.01", "USD", "en_US", 1),
        ("  $ 4,000  ", "USD", "en_US", 400_000),
        ("500 USD", "USD", "en_US", 50_000),
        ("USD 500", "USD", "en_US", 50_000),
        ("1.212,50 €", "EUR", "de_DE", 121_250),
        ("1.212,50\u00a0€", "EUR", "de_DE", 121_250),
        ("4850,00", "EUR", "de_DE", 485_000),
        ("4.850", "EUR", "de_DE", 485_000),  # a German "." groups thousands
        ("5000", "JPY", "ja_JP", 5_000),  # no minor units in yen
        ("10,000,000", "USD", "en_US", 1_000_000_000),  # the largest amount allowed
    ],
)
def test_parse_amount_reads_what_people_type(text, currency, locale, cents):
    assert parse_amount(text, currency, locale) == cents


@pytest.mark.parametrize(
    "text, says",
    [
        ("abc", "'abc' is not an amount of money"),
        ("", "is not an amount of money"),
        ("   ", "is not an amount of money"),
        ("-5", "cannot be negative"),
        ("$-5", "cannot be negative"),
        ("0", "must be more than zero"),
        ("0.00", "must be more than zero"),
        ("4.001", "more decimals than USD allows"),
        ("99999999999", "more than a job can cost here ($10,000,000.00 at most)"),
        ("10,000,000.01", "more than a job can cost here"),
        ("4,85", "is not an amount of money"),  # a misplaced US thousands separator is not a guess
        ("5e3", "is not an amount of money"),
        ("NaN", "is not an amount of money"),
        ("all", "'all' is not an amount of money"),  # not Albanian lek: there is no number
    ],
)
def test_parse_amount_refuses_with_a_message_that_says_why(text, says):
    with pytest.raises(InvalidInput) as caught:
        parse_amount(text, "USD", "en_US")
    assert says in str(caught.value)


@pytest.mark.parametrize("text", ["abc", "", "-5", "0"])
def test_a_refused_amount_shows_how_to_write_one(text):
    with pytest.raises(InvalidInput) as caught:
        parse_amount(text, "USD", "en_US")
    assert "Write it like $4,850.00." in str(caught.value)


def test_parse_amount_refuses_sub_cent_precision_in_euros():
    with pytest.raises(InvalidInput, match="more decimals than EUR allows"):
        parse_amount("1.212,505 €", "EUR", "de_DE")


def test_parse_amount_refuses_fractional_yen():
    with pytest.raises(InvalidInput, match="more decimals than JPY allows"):
        parse_amount("5000.5", "JPY", "ja_JP")


@pytest.mark.parametrize("text", ["€5", "£5"])
def test_an_amount_in_another_currency_is_refused(text):
    with pytest.raises(InvalidInput):
        parse_amount(text, "USD", "en_US")


def test_parse_amount_reads_a_french_amount_grouped_with_narrow_no_break_spaces():
    assert parse_amount("4\u202f850,00\u00a0€", "EUR", "fr_FR") == 485_000


def test_parse_amount_reads_yen_typed_with_the_ordinary_yen_sign():
    assert parse_amount("¥5,000", "JPY", "ja_JP") == 5_000


@pytest.mark.parametrize(
    "text, currency, locale, minor",
    [
        ("KWD 500.250", "KWD", "en_US", 500_250),  # a dinar has 1000 fils
        ("500.25 KWD", "KWD", "en_US", 500_250),
        ("BHD 1,200.5", "BHD", "en_US", 1_200_500),
        ("50000 JPY", "JPY", "en_US", 50_000),
        ("￥５０，０００", "JPY", "en_US", 50_000),  # typed on a Japanese keyboard
        ("50,000 yen", "JPY", "ja_JP", 50_000),
        ("$500", "CAD", "en_US", 50_000),  # CA$ to babel, $ to a Canadian
        ("500 dollars", "USD", "en_US", 50_000),
        ("1.000,50 Euro", "EUR", "de_DE", 100_050),
    ],
)
def test_parse_amount_reads_every_currency_with_its_own_decimals(text, currency, locale, minor):
    assert parse_amount(text, currency, locale) == minor


@pytest.mark.parametrize(
    "text, currency, says",
    [
        ("KWD 500.2500", "KWD", "more decimals than KWD allows (KWD has 3 decimals)"),  # even a zero
        ("¥5,000.00", "JPY", "more decimals than JPY allows (JPY has no decimals)"),
        ("$500.000", "USD", "more decimals than USD allows"),  # maybe a German 500 thousand: no guess
    ],
)
def test_parse_amount_refuses_more_decimals_than_the_currency_has(text, currency, says):
    with pytest.raises(InvalidInput) as caught:
        parse_amount(text, currency, "en_US")
    assert says in str(caught.value)


@pytest.mark.parametrize("text", ["CA$5", "5 EUR", "5 euros", "¥5"])
def test_an_amount_in_another_currency_names_the_jobs_and_shows_how_to_write_it(text):
    with pytest.raises(InvalidInput) as caught:
        parse_amount(text, "USD", "en_US")
    assert f"{text!r} is not in USD (US dollars), the currency of this job. Write it like $4,850.00." == str(
        caught.value)


@pytest.mark.parametrize(
    "currency, locale, example", [("JPY", "ja_JP", "￥4,850"), ("KWD", "en_US", "KWD4,850.000"),
                                  ("EUR", "de_DE", "4.850,00 €")],
)
def test_a_refusal_shows_an_amount_in_the_jobs_currency(currency, locale, example):
    with pytest.raises(InvalidInput) as caught:
        parse_amount("abc", currency, locale)
    assert f"Write it like {example}." in str(caught.value)


def test_a_swiss_amount_reads_back_as_it_was_written():
    assert parse_amount(format_money(123_456, "CHF", "de_CH"), "CHF", "de_CH") == 123_456


# -- format_money ------------------------------------------------------------------------------------


def test_format_money_writes_dollars_the_american_way():
    assert format_money(485_000, "USD", "en_US") == "$4,850.00"


def test_format_money_writes_euros_the_german_way_with_a_plain_space():
    text = format_money(121_250, "EUR", "de_DE")
    assert text == "1.212,50 €"
    assert "\u00a0" not in text and "\u202f" not in text


def test_format_money_replaces_every_odd_space_with_a_plain_one():
    """Any non-breaking space forces UCS-2 and halves what fits in one SMS segment."""
    text = format_money(123_456, "EUR", "fr_FR")
    assert text == "1 234,56 €"


@pytest.mark.parametrize("locale, text", [("en_US", "¥5,000"), ("ja_JP", "￥5,000")])
def test_format_money_writes_yen_without_decimals(locale, text):
    assert format_money(5_000, "JPY", locale) == text


def test_format_money_keeps_a_cent():
    assert format_money(1, "USD", "en_US") == "$0.01"


@given(st.integers(min_value=1, max_value=10**9))
def test_dollars_read_back_as_they_were_written(cents):
    assert parse_amount(format_money(cents, "USD", "en_US"), "USD", "en_US") == cents


@given(st.integers(min_value=1, max_value=10**9))
def test_euros_read_back_as_they_were_written(cents):
    assert parse_amount(format_money(cents, "EUR", "de_DE"), "EUR", "de_DE") == cents


# -- percentages -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "points, text",
    [(2500, "25%"), (3333, "33.33%"), (1250, "12.5%"), (1, "0.01%"), (50, "0.5%"), (10_000, "100%")],
)
def test_percentages_format_and_parse_both_ways(points, text):
    assert format_percent(points) == text
    assert parse_percent(text) == points


@pytest.mark.parametrize("text, points", [(" 25 % ", 2500), ("100.00%", 10_000), ("12.50%", 1250)])
def test_parse_percent_accepts_spacing_and_trailing_zeros(text, points):
    assert parse_percent(text) == points


@pytest.mark.parametrize(
    "text, says",
    [
        ("101%", "at most 100%"),
        ("100.01%", "at most 100%"),
        ("0%", "more than 0%"),
        ("0.00%", "more than 0%"),
        ("12.345%", "two decimals at most"),
        ("twenty", "'twenty' is not a percentage"),
        ("25", "is not a percentage"),
        ("-5%", "is not a percentage"),
    ],
)
def test_parse_percent_refuses_with_a_message_that_says_why(text, says):
    with pytest.raises(InvalidInput) as caught:
        parse_percent(text)
    assert says in str(caught.value)


@given(st.integers(min_value=1, max_value=10_000))
def test_every_percentage_reads_back_as_it_was_written(points):
    assert parse_percent(format_percent(points)) == points
