"""Timezones, currencies and locales as people name them: checked once, for settings and profiles alike."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_name

from core.errors import InvalidInput


def timezone_name(name: str) -> str:
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{name!r} is not a timezone; use a name like America/New_York") from None
    return name.strip()


def currency_code(code: str) -> str:
    code = code.strip().upper()
    if get_currency_name(code, locale="en") == code:
        raise InvalidInput(f"{code!r} is not an ISO 4217 currency code; use one like USD or EUR")
    return code


def locale_name(name: str) -> str:
    try:
        return str(Locale.parse(name.strip()))
    except (UnknownLocaleError, ValueError):
        raise InvalidInput(f"{name!r} is not a locale; use one like en_US or de_DE") from None


def phone_region(code: str) -> str:
    code = code.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"{code!r} is not a phone region; use a country code like US or GB")
    return code
