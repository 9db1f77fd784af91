"""GSM-7, the alphabet an SMS carries at full length, and what a text costs in it.

One character outside GSM 03.38 (an emoji, a phone keyboard's curly quote, a
non-breaking space from babel) makes the carrier send the whole message as
UCS-2: 70 characters a segment instead of 160, so the same words cost two to
three times as much. An SMS is therefore made GSM-7 with `to_gsm7` at the last
step, when core.wording.fitting.fit fits it, and measured with `segments`. Only the
SMS: Telegram and the payment page show names exactly as they were typed.
"""

import re
import unicodedata

from anyascii import anyascii

MAX_SEGMENTS = 3  # the longest text a customer gets (docs/design.md, "Customer SMS")

# The basic character set, in table order (ESC, 0x1B, is left out: it is not a character).
BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each of these is sent as ESC + code, so it costs two septets.
EXTENSION = frozenset("\f^{}\\[~]|€")

_SINGLE, _PART = 160, 153  # GSM-7 septets: one segment alone; each part of a concatenated text
_SINGLE_UCS2, _PART_UCS2 = 70, 67  # UTF-16 code units, when one character is not GSM-7
_GREEK_CAPITALS = frozenset("ΔΦΓΛΩΠΨΣΘΞ")  # the Greek GSM-7 has: capitals only
_DROPPED = "\x00"  # where an emoji or an unspellable letter was, until the spaces around it are tidied
_ALL_GSM7 = re.compile("[" + "".join(re.escape(c) for c in sorted(BASIC | EXTENSION)) + "]*")


def to_gsm7(text: str) -> str:
    """The text in GSM-7: what GSM-7 has kept as it is, the rest transliterated, emoji dropped.

    Letters GSM-7 has keep their accent (é, ñ, ü, Ä, Ø, å, ß ...). Everything
    else goes to its nearest ASCII with anyascii, a maintained transliteration
    table for every script: á → a, Đặng → Dang, Монтаж → Montazh, 王小明 →
    WangXiaoMing, ’ → ', – → -, … → ..., non-breaking spaces → space. A
    customer reads their own name romanised rather than as "?", and the text
    stays at 160 characters a segment (romanising, not UCS-2: an English text
    with a link rarely fits 3 UCS-2 segments, 201 characters). Emoji (which
    anyascii spells as ":house:") are decoration and are dropped; so is a
    letter no table can spell, and the spaces before either go with it.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if _ALL_GSM7.fullmatch(text):  # the usual text: nothing to spell (a character at a time costs a Python call)
        return text
    spelled = "".join(_spell(char, text[i + 1:i + 2]) for i, char in enumerate(text))
    # What is dropped goes with the spaces before it, so "kitchen 🏠 (J-7K2Q)" reads "kitchen (J-7K2Q)".
    spelled = re.sub(f"(^|\n)[ {_DROPPED}]*{_DROPPED} *", r"\1", spelled)
    return re.sub(f"[ {_DROPPED}]*{_DROPPED}", "", spelled)


def _spell(char: str, after: str = "") -> str:
    """The GSM-7 spelling of one character (`after`: the next one), or "" if it has none."""
    if char in _GREEK_CAPITALS and after and unicodedata.name(after, "").startswith("GREEK SMALL"):
        return anyascii(char)  # GSM-7 has Σ but not ο: "Σοφία" reads "Sofia", not "Σofia"
    if char in BASIC or char in EXTENSION:
        return char
    if char in "\u2028\u2029":  # line and paragraph separators: anyascii makes them spaces
        return "\n"
    ascii_ = anyascii(char)
    category = unicodedata.category(char)
    if category == "So" and ascii_.startswith(":") and ascii_.endswith(":"):
        return _DROPPED  # an emoji's ":shortcode:"
    if not ascii_ and category[0] in "LNS":
        return _DROPPED  # a letter no table spells (a rare Han character, 𠀂): left out, like an emoji
    # anyascii's ASCII is GSM-7 but for the backtick and control characters (a tab, a vertical tab).
    return "".join(c if c in BASIC or c in EXTENSION else " " if c.isspace() else "'" if c == "`" else ""
                   for c in ascii_)


def spells(text: str) -> bool:
    """Whether an SMS can spell anything of `text`: a name of emoji alone says nothing once sent."""
    return bool(to_gsm7(text).strip())


def is_gsm7(text: str) -> bool:
    return all(char in BASIC or char in EXTENSION for char in text)


def segments(text: str) -> int:
    """How many SMS segments the text is sent as (what the carrier bills).

    GSM-7: 160 septets in a single segment, 153 a part once concatenated (the
    rest of each part is the header joining them); an extension character
    costs two septets and is never split across parts. Any other text goes as
    UCS-2: 70 UTF-16 code units, 67 a part.
    """
    if is_gsm7(text):
        units = [2 if char in EXTENSION else 1 for char in text]
        single, part = _SINGLE, _PART
    else:
        units = [2 if ord(char) > 0xFFFF else 1 for char in text]  # a surrogate pair stays whole
        single, part = _SINGLE_UCS2, _PART_UCS2
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for unit in units:
        if used + unit > part:
            count, used = count + 1, 0
        used += unit
    return count
