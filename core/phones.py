"""Phone numbers as typed by people, to E.164."""

import phonenumbers

from core.errors import InvalidInput
from core.wording.language import _


def to_e164(text: str, region: str) -> str:
    """``(415) 555-0134`` → ``+14155550134``; a number without a country code is read in `region`."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(_(
            "{phone} is not a phone number I can text. "
            "Write it like (415) 555-0134, or with the country code: +44 20 7946 0958."
        ).format(phone=repr(text.strip())))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
