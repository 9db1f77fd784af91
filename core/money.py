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
    list_currencies,
    parse_decimal,
)

from core.errors import InvalidInput
from core.wording.language import N_, _, babel_locale, current, ngettext

WHOLE = 10_000  # 100.00% in basis points
MAX_MAJOR_UNITS = 10_000_000  # no single job of a small trade business costs more

_SPACES = {"\u00a0": " ", "\u202f": " ", "\u2009": " "}

# Refusals, each said with _() where it is raised; {text} is what was typed, quoted.
NOT_MONEY = N_("{text} is not an amount of money.")
# Said after a refusal of an amount as a sentence of its own, with an amount of the job: _(EXAMPLE).format(amount=)
EXAMPLE = N_("Write it like {amount}.")


def minor_units(currency: str) -> int:
    """Digits after the decimal point for the currency (USD 2, JPY 0)."""
    return get_currency_precision(currency)


def to_minor(value: Decimal, currency: str) -> int:
    """An exact decimal amount to minor units.

    Refuses more decimals than the currency has, even zeros: ``500.2500`` on a
    dinar job is a slip, and ``500.000`` on a dollar job may be a German five
    hundred thousand; neither is read as a guess.
    """
    digits = minor_units(currency)
    if -value.as_tuple().exponent > digits:
        if digits == 0:
            wrong = _("{value} has more decimals than {currency} allows ({currency} has no decimals).")
        else:
            wrong = ngettext("{value} has more decimals than {currency} allows ({currency} has {n} decimal).",
                             "{value} has more decimals than {currency} allows ({currency} has {n} decimals).", digits)
        raise InvalidInput(wrong.format(value=value, currency=currency, n=digits))
    return int(value.scaleb(digits))


def to_major(cents: int, currency: str) -> Decimal:
    return Decimal(cents).scaleb(-minor_units(currency))


def format_money(cents: int, currency: str, locale: str) -> str:
    """``$4,850.00`` or ``1.212,50 €``, with plain spaces.

    babel puts a non-breaking space between number and symbol in many
    locales; in an SMS that single character forces UCS-2 and halves what fits
    in a segment, so every such space becomes a plain one.
    """
    text = format_currency(to_major(cents, currency), currency, locale=babel_locale(locale))
    for odd, plain in _SPACES.items():
        text = text.replace(odd, plain)
    return text


ISO_CODES = frozenset(code.lower() for code in list_currencies())
CURRENCY_WORDS = {  # by currency sign or code
    "$": ("dollar", "dollars", "bucks"), "€": ("euro", "euros"), "£": ("pound", "pounds"), "JPY": ("yen",),
}
MONEY_WORDS = frozenset(word for words in CURRENCY_WORDS.values() for word in words)
_LETTER = r"[^\W\d_]"


def currency_marks(currency: str, locale: str) -> set[str]:
    """How people write this currency: its ISO code, babel's symbol in the job's locale and in English, the
    narrow sign of a symbol ($ of CA$: to a Canadian, dollars are his own) and the words for it.

    In NFKC, lower case and without spaces, as parse_amount compares them: ja_JP's full-width ￥ is ¥.
    """
    symbols = {get_currency_symbol(currency, locale=locale), get_currency_symbol(currency, locale="en")}
    signs = {"".join(c for c in symbol if unicodedata.category(c) == "Sc") for symbol in symbols} - {""}
    words = {word for key in {currency, *signs} for word in CURRENCY_WORDS.get(key, ())}
    return {_plain(mark).lower() for mark in {currency, *symbols, *signs, *words}}


def _plain(text: str) -> str:
    """`text` without spaces (fr_FR groups thousands with U+202F) and full-width forms (￥５０ is ¥50)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _example(currency: str, locale: str) -> str:
    """How to write an amount of this job: a dollar example is no help on a yen or a dinar job.

    With its symbol, so that the example is good in a plan too, where a bare number could be a percentage.
    """
    return _(EXAMPLE).format(amount=format_money(4850 * 10 ** minor_units(currency), currency, locale))


def _foreign(text: str) -> bool:
    """Is `text` a number with a currency sign, an ISO code or a word for money (``€5``, ``500EUR``, ``5pounds``)?

    Without a digit it is no amount at all: "all" is not Albanian lek.
    """
    words = set(re.findall(rf"{_LETTER}+", text.lower()))
    mark = any(unicodedata.category(c) == "Sc" for c in text) or bool(words & (ISO_CODES | MONEY_WORDS))
    return mark and any(c.isdigit() for c in text)


def parse_amount(text: str, currency: str, locale: str) -> int:
    """What a person types for money, in minor units: ``$4,000``, ``4000``, ``1.212,50 €``, ``KWD 500.250``.

    Refuses anything that is not a positive amount below MAX_MAJOR_UNITS, and
    an amount in another currency (``€5`` on a dollar job) rather than
    silently reading it as dollars. A mark counts as the job's only when no
    letter is glued to it, so ``CA$5`` on a US dollar job is refused too.
    """
    raw = text.strip()
    typed = repr(raw)
    cleaned = _plain(raw)
    for mark in sorted(currency_marks(currency, locale), key=len, reverse=True):
        cleaned = re.sub(rf"(?<!{_LETTER}){re.escape(mark)}(?!{_LETTER})", "", cleaned, flags=re.IGNORECASE)
    example = _example(currency, locale)
    if _foreign(cleaned):
        name = get_currency_name(currency, count=2, locale=current())  # in the reader's language: "US dollars"
        wrong = _("{text} is not in {currency} ({name}), the currency of this job.")
        raise InvalidInput(" ".join((wrong.format(text=typed, currency=currency, name=name), example)))
    if cleaned.startswith("-") or cleaned.endswith("-"):
        wrong = _("An amount cannot be negative: {text}.").format(text=typed)
        raise InvalidInput(" ".join((wrong, example)))
    if not re.fullmatch(r"[0-9][0-9.,'’]*", cleaned):
        raise InvalidInput(" ".join((_(NOT_MONEY).format(text=typed), example)))
    try:
        value = parse_decimal(cleaned, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation):
        raise InvalidInput(" ".join((_(NOT_MONEY).format(text=typed), example))) from None
    if value <= 0:
        wrong = _("An amount must be more than zero, not {text}.").format(text=typed)
        raise InvalidInput(" ".join((wrong, example)))
    if value > MAX_MAJOR_UNITS:
        limit = format_money(MAX_MAJOR_UNITS * 10 ** minor_units(currency), currency, locale)
        raise InvalidInput(_("{text} is more than a job can cost here ({limit} at most).").format(
            text=typed, limit=limit))
    return to_minor(value, currency)


_PERCENT = re.compile(r"^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*%\s*$")


def parse_percent(text: str) -> int:
    """``25%`` → 2500, ``33.33%`` → 3333. At most two decimals, more than 0, at most 100."""
    match = _PERCENT.match(text)
    if not match:
        raise InvalidInput(_("{text} is not a percentage. Write it like 25% or 33.33% (two decimals at most).").format(
            text=repr(text.strip())))
    whole, fraction = match.group(1), (match.group(2) or "").ljust(2, "0")
    points = int(whole) * 100 + int(fraction)
    if not 0 < points <= WHOLE:
        raise InvalidInput(_("A percentage must be more than 0% and at most 100%, not {text}.").format(
            text=text.strip()))
    return points


def format_percent(points: int) -> str:
    """2500 → ``25%``, 3333 → ``33.33%``, 1250 → ``12.5%``."""
    whole, fraction = divmod(points, 100)
    if not fraction:
        return f"{whole}%"
    return f"{whole}.{fraction:02d}".rstrip("0") + "%"
