"""Timezones, currencies and locales as people name them: checked once, for settings and profiles alike."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_name

from core.errors import InvalidInput
from core.wording.language import _


def timezone_name(name: str) -> str:
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(_("{name} is not a timezone; use a name like America/New_York").format(
            name=repr(name))) from None
    return name.strip()


def currency_code(code: str) -> str:
    code = code.strip().upper()
    if get_currency_name(code, locale="en") == code:
        raise InvalidInput(_("{code} is not an ISO 4217 currency code; use one like USD or EUR").format(
            code=repr(code)))
    return code


def locale_name(name: str) -> str:
    try:
        return str(Locale.parse(name.strip()))
    except (UnknownLocaleError, ValueError):
        raise InvalidInput(_("{name} is not a locale; use one like en_US or de_DE").format(name=repr(name))) from None


def phone_region(code: str) -> str:
    code = code.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(_("{code} is not a phone region; use a country code like US or GB").format(code=repr(code)))
    return code
