"""GSM-7, the alphabet an SMS carries at full length, and what a text costs in it.

One character outside GSM 03.38 (an emoji, a phone keyboard's curly quote, a
non-breaking space from babel) makes the carrier send the whole message as
UCS-2: 70 characters a segment instead of 160, so the same words cost two to
three times as much. Customer texts are therefore made GSM-7 on purpose with
`to_gsm7` before they are sent, and measured with `segments`.
"""

import unicodedata

MAX_SEGMENTS = 3  # the longest text a customer gets (DESIGN.md, Standards)

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

# What phones and libraries type that GSM-7 lacks, and the nearest thing it has.
_REPLACE = {
    **dict.fromkeys("‘’‚‛′‵‹›`´", "'"),
    **dict.fromkeys("“”„‟″‶«»", '"'),
    **dict.fromkeys("‐‑‒–—―−⁃•", "-"),
    **dict.fromkeys("\t\v\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                    "\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "),
    "\u2028": "\n",
    "\u2029": "\n",
    "…": "...",
    "⁄": "/",
    "×": "x",
    "©": "(c)",
    "®": "(R)",
    # Letters that carry no accent to strip, so NFKD leaves them alone.
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th",
    "œ": "oe", "Œ": "OE", "ı": "i", "ŋ": "n", "Ŋ": "N", "ĸ": "k", "ſ": "s",
}


def to_gsm7(text: str) -> str:
    """The text in GSM-7: accents stripped where GSM-7 lacks the letter, emoji dropped.

    Letters GSM-7 has keep their accent (é, ñ, ü, Ä, Ø, å, ß ...); others lose it
    (á → a, ç → c, Ł → L); typography becomes plain (’ → ', – → -, … → ...,
    non-breaking spaces → space). Symbols and emoji are decoration and are
    dropped. A run of letters or digits from a script GSM-7 cannot spell (李, Иван)
    becomes one '?': dropping it would lose a word without a trace, or merge
    the words on either side.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    out: list[str] = []
    unknown_run = False
    for char in text:
        spelled = _spell(char)
        if spelled:
            out.append(spelled)
            unknown_run = False
        elif unicodedata.category(char)[0] in "LN" and not unknown_run:
            out.append("?")
            unknown_run = True
    return "".join(out)


def _spell(char: str) -> str:
    """The GSM-7 spelling of one character, or "" if it has none."""
    if char in BASIC or char in EXTENSION:
        return char
    if char in _REPLACE:
        return _REPLACE[char]
    parts = [c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)]
    spelled = "".join(c if c in BASIC or c in EXTENSION else _REPLACE.get(c, "") for c in parts)
    if spelled:
        return spelled
    digit = unicodedata.digit(char, None)  # ٣ (Arabic-Indic three) → 3
    return "" if digit is None else str(digit)


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
