"""GSM-7 at the SMS boundary: how a customer text is made to fit MAX_SEGMENTS, and the last step that makes it GSM-7.

Names reach a text as they were typed (Telegram and the page show them so); `fit`
renders a text, makes it GSM-7 (core.gsm.to_gsm7: transliterated, never "?") and
measures it as it will be sent. When it does not fit, it is squeezed in a fixed
order (see `_squeezes`): names and titles are cut with '...', then a list of
milestones is cut to its first few and "+N more". The link and the amounts are
never cut.
"""

import logging
from dataclasses import dataclass, replace
from typing import Callable, Iterable

from core.gsm import MAX_SEGMENTS, segments, spells, to_gsm7

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Squeeze:
    """How far a text is squeezed: the most characters each kind of name keeps (None: all of it)."""

    business: int | None = None
    customer: int | None = None
    title: int | None = None  # the job's title; also a price change's reason
    label: int | None = None  # milestone labels and event names
    items: int | None = None  # how many milestones a list shows; None: every one


_LOOSE = Squeeze()
_TRIMMED = Squeeze(business=32, customer=16, title=40, label=24)
_TIGHT = Squeeze(business=24, customer=12, title=24, label=24)
_TIGHTEST = Squeeze(business=20, customer=0, title=20, label=16)  # customer=0: no greeting


def fit(name: str, render: Callable[[Squeeze], str], items: int = 0,
        squeezes: Iterable[Squeeze] | None = None) -> str:
    """The first rendering of `render` that fits MAX_SEGMENTS, in the order of `_squeezes` (or `squeezes`).

    The one place an SMS is made GSM-7 (core.gsm.to_gsm7): names reach `render` as they were typed, so
    what Telegram and the page show is never folded, and each rendering is measured as it will be sent.
    """
    text = ""
    for squeeze in _squeezes(items) if squeezes is None else squeezes:
        text = to_gsm7(render(squeeze)).replace("....", "...")  # a sentence's full stop after a name cut with '...'

        if segments(text) <= MAX_SEGMENTS:
            return text
    # Only an absurd link gets here; a text that costs more beats one that loses the link.
    log.warning("%s text is %d segments even squeezed", name, segments(text))
    return text


def _squeezes(items: int):
    """Ever harder squeezes of a text that lists `items` milestones, in the order they are tried.

    1. names as they are; then trimmed (business 32, title 40, labels 24);
    2. the business, customer and title tight (24, 12, 24): they repeat what the
       customer knows, the labels are what they learn, so labels stay at 24;
    3. one milestone fewer at a time, down to one, the rest as "+N more";
    4. the tightest names (20, no greeting, 20, labels 16) with one milestone,
       then none listed: only "N payments" and where to see them.
    The link and the amounts are in every rendering.
    """
    yield _LOOSE
    yield _TRIMMED
    yield _TIGHT
    for shown in range(items - 1, 0, -1):
        yield replace(_TIGHT, items=shown)
    if not items:
        yield _TIGHTEST
        return
    yield replace(_TIGHTEST, items=1)
    yield replace(_TIGHT, items=0)
    yield replace(_TIGHTEST, items=0)


def clean(text: str | None) -> str:
    """Text a person typed, as one line, every character as typed: `fit` makes an SMS GSM-7, last."""
    return " ".join((text or "").split())


def clip(text: str | None, limit: int | None) -> str:
    """`text` cleaned and, past `limit` characters, cut at a word where it can be, with '...'.

    Still as typed, but measured as an SMS spells it: 王小明 costs "WangXiaoMing", 12 characters, not 3.
    """
    text = clean(text)
    if limit is None or _sent_length(text) <= limit:
        return text
    if limit <= 3:  # no room for a word and '...': customer=0 is no name at all
        return ""
    low, high = 0, len(text)  # the longest start of the text whose spelling leaves room for '...'
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _sent_length(text[:middle]) <= limit - 3 else (low, middle - 1)
    cut = text[:low]
    space = cut.rfind(" ")
    if space >= 0 and _sent_length(cut[:space]) >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "..."


def _sent_length(text: str) -> int:
    return len(to_gsm7(text))


def sms_name(text: str | None, limit: int | None) -> str:
    """`clip` for a name an SMS stands on alone (a business, a title): "" when an SMS can spell none of it."""
    text = clip(text, limit)
    return text if spells(text) else ""
