"""The words every customer text is made of, and how a text is squeezed into MAX_SEGMENTS.

Shared by the texts we send (core.messages) and the answers to what a customer
texts us (core.replies), so both cut names, spell amounts and dates, and say
what a payment is tied to the same way.

When a text does not fit, it is squeezed in a fixed order (see `_squeezes`):
names and titles are cut with '...', then a list of milestones is cut to its
first few and "+N more". The link and the amounts are never cut.
"""

import logging
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

import phonenumbers
from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.numbers import get_currency_symbol
from phonenumbers import NumberParseException, PhoneNumberFormat

from core.gsm import MAX_SEGMENTS, is_gsm7, segments, spells, to_gsm7
from core.money import format_money
from core.plan import DEFAULT_LEAD, TriggerKind
from core.status import EventView, JobView, MilestoneView

log = logging.getLogger(__name__)


# --- Dates -------------------------------------------------------------------------------------


def format_when(moment: datetime, job: JobView, date_only: bool = False) -> str:
    """A moment as the customer reads it: "Tue, Dec 1, 9:00 AM" (en_US), "Di., 1. Dez., 09:00" (de_DE); the
    day alone, "Tue, Dec 1", for a day with no time of day (a date-only event), never a made-up "12:00 AM"."""
    if date_only:
        return format_day(moment, job)
    local = moment.astimezone(ZoneInfo(job.timezone))
    time = format_time(local, "short", locale=job.locale)
    pattern = Locale.parse(job.locale).datetime_formats["short"]
    text = pattern.replace("'", "").replace("{0}", time).replace("{1}", _day(local.date(), job))
    return _plain_spaces(text)


def format_day(moment: datetime | date, job: JobView) -> str:
    """A day as the customer reads it: "Tue, Dec 1"; the year only when it is not this year."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(ZoneInfo(job.timezone)).date()
    return _plain_spaces(_day(moment, job))


def due_when(m: MilestoneView, job: JobView) -> str:
    """When a payment falls due: the day alone when it falls due at the start of a day (on a date, or whole
    days before a date-only event: core/events.py), else the day and the time."""
    trigger, event = m.trigger, find_event(job, m.trigger.event)
    on_a_day = trigger.kind is TriggerKind.DATE or (
        trigger.kind is TriggerKind.BEFORE and event is not None and event.date_only
        and trigger.lead % timedelta(days=1) == timedelta(0) and m.due_at == event.scheduled_at - trigger.lead)
    return format_when(m.due_at, job, date_only=on_a_day)


# --- Fitting into MAX_SEGMENTS -----------------------------------------------------------------


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
        text = to_gsm7(render(squeeze))
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


def more(listed: tuple, s: Squeeze, where: str) -> list[str]:
    """The line standing for the milestones a squeezed list leaves out."""
    shown = len(listed[: s.items])
    left = len(listed) - shown
    if not left:
        return []
    return [f"+{left} more {where}." if shown else f"{count(left, 'payment')} {where}."]


# --- Words -------------------------------------------------------------------------------------


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


def business(job: JobView, s: Squeeze) -> str:
    return sms_name(job.business_name, s.business) or "Your contractor"


def job_name(job: JobView, s: Squeeze) -> str:
    """"Kitchen countertops (J-7K2Q)": the title, always with the reference."""
    title = sms_name(job.title, s.title)
    return f"{title} ({job.ref})" if title else f"job {job.ref}"


def trigger_words(m: MilestoneView, job: JobView, event_limit: int | None) -> str:
    """What a payment is tied to: "up front", "3 days before Measurement (Tue, Dec 1)", "after Removal"."""
    trigger = m.trigger
    if trigger.kind is TriggerKind.NOW:
        return "up front"
    if trigger.kind is TriggerKind.DATE:
        return f"on {format_day(trigger.on, job)}"
    event = clip(trigger.event, event_limit)
    if trigger.kind is TriggerKind.BEFORE:
        lead = "" if trigger.lead == DEFAULT_LEAD else f"{duration(trigger.lead)} "
        scheduled = m.event_at or scheduled_at(job, trigger.event)
        when = f" ({format_day(scheduled, job)})" if scheduled else ""
        return f"{lead}before {event}{when}"
    net = f"{count(trigger.net_days, 'day')} " if trigger.net_days else ""
    return f"{net}after {event}"


def labelled(m: MilestoneView, job: JobView, s: Squeeze, separator: str = ": ") -> str:
    """"Deposit: " before the amount, or nothing when the label only repeats the trigger ("After Removal")."""
    return "" if restates_trigger(m, job, s) else f"{clip(m.label, s.label)}{separator}"


def restates_trigger(m: MilestoneView, job: JobView, s: Squeeze) -> bool:
    return trigger_words(m, job, s.label).lower().startswith(clip(m.label, s.label).lower())


def format_phone(number: str, job: JobView) -> str:
    """A phone number stored as E.164, as the customer dials it: "(415) 555-0100" from a phone of the same
    country, "+44 20 7946 0958" from another; as it is stored when it is not a number."""
    try:
        phone = phonenumbers.parse(number, None)
    except NumberParseException:
        return number
    try:
        home = phonenumbers.parse(job.customer_phone, None).country_code
    except NumberParseException:
        home = None
    style = PhoneNumberFormat.NATIONAL if phone.country_code == home else PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(phone, style)


def sentence(text: str) -> str:
    """Ends `text` with a full stop, unless a date already did ("Di., 8. Dez.")."""
    return text if text.endswith(".") else text + "."


def money(job: JobView, cents: int) -> str:
    """format_money for an SMS: a symbol GSM-7 lacks (₹, ₩, zł) becomes the ISO code, which `fit` keeps."""
    text = format_money(cents, job.currency, job.locale)
    if is_gsm7(text):
        return text
    symbol = get_currency_symbol(job.currency, locale=job.locale)
    text = text.replace(symbol, f" {job.currency} ").strip()
    return re.sub(r"\s+", " ", text)


def duration(lead: timedelta) -> str:
    if lead % timedelta(days=1) == timedelta(0):
        return count(lead // timedelta(days=1), "day")
    if lead % timedelta(hours=1) == timedelta(0):
        return count(lead // timedelta(hours=1), "hour")
    return count(lead // timedelta(minutes=1), "minute")


def count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def same_name(a: str | None, b: str | None) -> bool:
    return (a or "").casefold() == (b or "").casefold()


def find_event(job: JobView, name: str | None) -> EventView | None:
    return next((e for e in job.events if same_name(e.name, name)), None)


def scheduled_at(job: JobView, name: str | None) -> datetime | None:
    """When the event `name` is scheduled; None when it is not, or was cancelled."""
    event = find_event(job, name)
    return event.scheduled_at if event and event.state != "cancelled" else None


def _day(day: date, job: JobView) -> str:
    this_year = job.now.astimezone(ZoneInfo(job.timezone)).year
    return format_skeleton("MMMEd" if day.year == this_year else "yMMMEd", day, locale=job.locale)


def _plain_spaces(text: str) -> str:
    # babel puts narrow and non-breaking spaces in dates ("9:00\u202fAM"); in an SMS one forces UCS-2.
    return text.replace("\u202f", " ").replace("\u00a0", " ").replace("\u2009", " ")
