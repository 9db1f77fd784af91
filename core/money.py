"""Money in integer minor units (cents), percentages in basis points.

Nothing here uses floats: amounts are ``int`` minor units of the job's
currency, shares are ``int`` basis points (25% == 2500, 100% == 10000).
"""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_name,
    get_currency_precision,
    get_currency_symbol,
    parse_decimal,
)

from core.errors import InvalidInput

WHOLE = 10_000  # 100.00% in basis points
MAX_MAJOR_UNITS = 10_000_000  # no single job of a small trade business costs more

_SPACES = {"\u00a0": " ", "\u202f": " ", "\u2009": " "}


def minor_units(currency: str) -> int:
    """Digits after the decimal point for the currency (USD 2, JPY 0)."""
    return get_currency_precision(currency)


def to_minor(value: Decimal, currency: str) -> int:
    """An exact decimal amount to minor units; refuses sub-cent precision."""
    scaled = value.scaleb(minor_units(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidInput(f"{value} has more decimals than {currency} allows.")
    return int(scaled)


def to_major(cents: int, currency: str) -> Decimal:
    return Decimal(cents).scaleb(-minor_units(currency))


def format_money(cents: int, currency: str, locale: str) -> str:
    """``$4,850.00`` or ``1.212,50 €``, with plain spaces.

    babel puts a non-breaking space between number and symbol in many
    locales; in an SMS that single character forces UCS-2 and halves what fits
    in a segment, so every such space becomes a plain one.
    """
    text = format_currency(to_major(cents, currency), currency, locale=locale)
    for odd, plain in _SPACES.items():
        text = text.replace(odd, plain)
    return text


_AMOUNT_EXAMPLE = "Write it like 4850, 4,850.00 or $4,850."


def _symbols(currency: str, locale: str) -> set[str]:
    """How people write this currency: its code, its symbol here and in English (¥ beside ja_JP's ￥)."""
    return {currency, get_currency_symbol(currency, locale=locale), get_currency_symbol(currency, locale="en")}


def _other_code(text: str) -> bool:
    """Does `text` name a currency by its ISO code (``500 EUR``)?"""
    return any(get_currency_name(code, locale="en") != code for code in re.findall(r"[A-Za-z]{3}", text.upper()))


def parse_amount(text: str, currency: str, locale: str) -> int:
    """What a person types for money, in minor units: ``$4,000``, ``4000``, ``1.212,50 €``.

    Refuses anything that is not a positive amount below MAX_MAJOR_UNITS, and
    an amount in another currency (``€5`` on a dollar job) rather than
    silently reading it as dollars.
    """
    raw = text.strip()
    cleaned = re.sub(r"\s+", "", raw)  # every kind of space: fr_FR groups thousands with U+202F
    for symbol in sorted(_symbols(currency, locale), key=len, reverse=True):
        cleaned = re.sub(re.escape(symbol.replace(" ", "")), "", cleaned, flags=re.IGNORECASE)
    if any(unicodedata.category(c) == "Sc" for c in cleaned) or _other_code(cleaned):
        raise InvalidInput(f"{raw!r} is not in {currency}, the currency of this job. {_AMOUNT_EXAMPLE}")
    if cleaned.startswith("-") or cleaned.endswith("-"):
        raise InvalidInput(f"An amount cannot be negative: {raw!r}. {_AMOUNT_EXAMPLE}")
    if not re.fullmatch(r"[0-9][0-9.,'’]*", cleaned):
        raise InvalidInput(f"{raw!r} is not an amount of money. {_AMOUNT_EXAMPLE}")
    try:
        value = parse_decimal(cleaned, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation):
        raise InvalidInput(f"{raw!r} is not an amount of money. {_AMOUNT_EXAMPLE}") from None
    if value <= 0:
        raise InvalidInput(f"An amount must be more than zero, not {raw!r}. {_AMOUNT_EXAMPLE}")
    if value > MAX_MAJOR_UNITS:
        limit = format_money(MAX_MAJOR_UNITS * 10 ** minor_units(currency), currency, locale)
        raise InvalidInput(f"{raw!r} is more than a job can cost here ({limit} at most).")
    return to_minor(value, currency)


_PERCENT = re.compile(r"^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*%\s*$")


def parse_percent(text: str) -> int:
    """``25%`` → 2500, ``33.33%`` → 3333. At most two decimals, more than 0, at most 100."""
    match = _PERCENT.match(text)
    if not match:
        raise InvalidInput(
            f"{text.strip()!r} is not a percentage. Write it like 25% or 33.33% (two decimals at most)."
        )
    whole, fraction = match.group(1), (match.group(2) or "").ljust(2, "0")
    points = int(whole) * 100 + int(fraction)
    if not 0 < points <= WHOLE:
        raise InvalidInput(f"A percentage must be more than 0% and at most 100%, not {text.strip()}.")
    return points


def format_percent(points: int) -> str:
    """2500 → ``25%``, 3333 → ``33.33%``, 1250 → ``12.5%``."""
    whole, fraction = divmod(points, 100)
    if not fraction:
        return f"{whole}%"
    return f"{whole}.{fraction:02d}".rstrip("0") + "%"
