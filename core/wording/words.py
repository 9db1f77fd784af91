"""The sentence kinds every text is made of, each written once, in the language being spoken (core.wording.language).

The customer's texts (customer_texts, customer_replies), their page and the
contractor's chat (contractor_texts) all say a trigger, an amount, a date, a
state, a credit and what is paid so far with these functions, so a sentence
reads the same in every channel and is translated in one place. Names are as
typed; an SMS is made GSM-7 at its last step (core.wording.fitting.fit). Every
`limit` is how many characters a squeezed SMS leaves a name (None: all of it).
"""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import format_skeleton, format_time
from babel.numbers import get_currency_symbol
from phonenumbers import NumberParseException, PhoneNumberFormat

from core.gsm import is_gsm7
from core.money import format_money, format_percent
from core.plan import DEFAULT_LEAD, TriggerKind
from core.plan_parser import default_label
from core.status import AmountChange, EventView, JobView, MilestoneView, Status, milestone_status
from core.wording.fitting import Squeeze, clean, clip, sms_name
from core.wording.language import ENGLISH, N_, _, babel_locale, localized, ngettext, speaking

# Payment names Paystage gives (plan_parser.LABELS, and what core/pricing.py adds), stored in English: ours, so
# said in the reader's language.
OUR_LABELS = {"deposit": N_("Deposit"), "down payment": N_("Down payment"), "final payment": N_("Final payment"),
              "retainer": N_("Retainer"), "balance after price change": N_("Balance after price change"),
              "price adjustment": N_("Price adjustment"), "retainage": N_("Retainage")}
# How core/pricing.py words the reason of a price change it makes, stored in English: said in the reader's.
REASONS = {"Added: ": N_("Added: {what}"), "Removed: ": N_("Removed: {what}"), "Changed: ": N_("Changed: {what}")}
STATES = {Status.PAID: N_("paid"), Status.DUE: N_("due now"), Status.OVERDUE: N_("overdue"),
          Status.UPCOMING: N_("upcoming"), Status.PARTIALLY_PAID: N_("partly paid"),
          Status.PROCESSING: N_("bank transfer processing")}
METHODS = {"cash": N_("cash"), "check": N_("check"), "transfer": N_("transfer"), "card": N_("card"),
           "other": N_("other"), "bank transfer": N_("bank transfer")}


# --- Dates -------------------------------------------------------------------------------------


def format_when(moment: datetime, job: JobView, date_only: bool = False) -> str:
    """A moment as the reader reads it: "Tue, Dec 1, 9:00 AM" (en_US), "Di., 1. Dez., 09:00" (de_DE); the
    day alone, "Tue, Dec 1", for a day with no time of day (a date-only event), never a made-up "12:00 AM"."""
    if date_only:
        return format_day(moment, job)
    locale = babel_locale(localized(job.locale))
    local = moment.astimezone(ZoneInfo(job.timezone))
    time = format_time(local, "short", locale=locale)
    pattern = locale.datetime_formats["short"]
    text = pattern.replace("'", "").replace("{0}", time).replace("{1}", _day(local.date(), job))
    return plain_spaces(text)


def format_day(moment: datetime | date, job: JobView) -> str:
    """A day as the reader reads it: "Tue, Dec 1"; the year only when it is not this year."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(ZoneInfo(job.timezone)).date()
    return plain_spaces(_day(moment, job))


def due_when(m: MilestoneView, job: JobView) -> str:
    """When a payment falls due: the day alone when it falls due at the start of a day, else the day and the
    time."""
    return format_when(m.due_at, job, date_only=falls_due_on_a_day(m, job))


def falls_due_on_a_day(m: MilestoneView, job: JobView) -> bool:
    """Whether a payment falls due at the start of a day, not at a time of day: on a date, or whole days before
    a date-only event (core/events.py). The texts then say the day alone, and a calendar makes it all day."""
    trigger, event = m.trigger, find_event(job, m.trigger.event)
    return trigger.kind is TriggerKind.DATE or (
        trigger.kind is TriggerKind.BEFORE and event is not None and event.date_only
        and event.scheduled_at is not None and trigger.lead % timedelta(days=1) == timedelta(0)
        and m.due_at == event.scheduled_at - trigger.lead)


def capitalized(words: str) -> str:
    """"After Removal" from "after Removal": the first letter up, the rest as it is (str.capitalize lowers it)."""
    return words[:1].upper() + words[1:]


def duration(lead: timedelta) -> str:
    if lead % timedelta(days=1) == timedelta(0):
        return days(lead // timedelta(days=1))
    if lead % timedelta(hours=1) == timedelta(0):
        n = lead // timedelta(hours=1)
        return ngettext("{n} hour", "{n} hours", n).format(n=n)
    n = lead // timedelta(minutes=1)
    return ngettext("{n} minute", "{n} minutes", n).format(n=n)


def days(n: int) -> str:
    return ngettext("{n} day", "{n} days", n).format(n=n)


# --- Amounts -----------------------------------------------------------------------------------


def money(job: JobView, cents: int) -> str:
    """An amount in the job's currency, written as the reader's language writes it in the job's region."""
    return format_money(cents, job.currency, localized(job.locale))


def sms_money(job: JobView, cents: int) -> str:
    """`money` for an SMS: a symbol GSM-7 lacks (₹, ₩, zł) becomes the ISO code, which `fit` keeps."""
    text = money(job, cents)
    if is_gsm7(text):
        return text
    symbol = get_currency_symbol(job.currency, locale=babel_locale(localized(job.locale)))
    return re.sub(r"\s+", " ", text.replace(symbol, f" {job.currency} ").strip())


def payments(n: int) -> str:
    return ngettext("{n} payment", "{n} payments", n).format(n=n)


def method_words(method: str) -> str:
    """How a payment was made, in the reader's language when it is one of ours; as typed otherwise."""
    method = clean(method)
    return _(METHODS[method.lower()]) if method.lower() in METHODS else method


def credit(job: JobView, amount: int | None = None, *, sms: bool = True) -> str:
    """The customer's credit (more paid than the job costs), and that the contractor will settle it."""
    say = sms_money if sms else money
    return _("Your credit: {credit}; we will be in touch to settle it.").format(
        credit=say(job, job.credit if amount is None else amount))


def paid_so_far(job: JobView) -> str:
    """What the customer paid of the total, and what remains, their credit, or that the job is paid in full."""
    paid, total = sms_money(job, job.paid), sms_money(job, job.total)
    if job.credit:
        return _("Paid so far: {paid}; the price is {total}.").format(paid=paid, total=total) + " " + credit(job)
    if not job.remaining:
        return _("Paid so far: {paid} - the job is paid in full.").format(paid=paid)
    return _("Paid so far: {paid} of {total}. Remaining: {remaining}.").format(
        paid=paid, total=total, remaining=sms_money(job, job.remaining))


# --- Names -------------------------------------------------------------------------------------


def business(job: JobView, s: Squeeze) -> str:
    """The business that writes, to open a text."""
    return sms_name(job.business_name, s.business) or _("Your contractor")


def who(job: JobView, s: Squeeze) -> str:
    """The business, inside a sentence."""
    return sms_name(job.business_name, s.business) or _("your contractor")


def job_name(job: JobView, s: Squeeze) -> str:
    """"Kitchen countertops (J-7K2Q)": the title, always with the reference."""
    title = sms_name(job.title, s.title)
    return _("{title} ({ref})").format(title=title, ref=job.ref) if title else _("job {ref}").format(ref=job.ref)


def first_name(job: JobView, s: Squeeze) -> str:
    name = next(iter(clean(job.customer_name).split()), "")
    return sms_name(name, s.customer) if any(c.isalpha() for c in name) else ""


def hello(job: JobView, s: Squeeze) -> str:
    """"Hi Dana, " to open a sentence; nothing in the tightest squeeze."""
    if s.customer == 0:
        return ""
    name = first_name(job, s)
    return _("Hi {name}, ").format(name=name) if name else _("Hi, ")


# --- Payments and what they are tied to ---------------------------------------------------------


def label(m: MilestoneView | AmountChange, limit: int | None = None) -> str:
    """A payment's name in the reader's language: a name of ours translated ("Deposit" → "Anticipo"), retainage
    with what it holds back ("Retainage (10%)"); "" when it only restates the trigger, as the plan parser names a
    payment given none ("After Removal"), so `trigger_words` says it in the reader's language; otherwise as the
    contractor typed it."""
    typed = clean(m.label)
    if isinstance(m, MilestoneView) and m.retainage:
        return clip(_("Retainage ({percent})").format(percent=format_percent(m.percent)), limit)
    if typed.casefold() in OUR_LABELS:
        return clip(_(OUR_LABELS[typed.casefold()]), limit)
    with speaking(ENGLISH):
        restated = typed.casefold() == default_label(m.trigger).casefold() or typed.casefold() in _tied_to(m).casefold()
    return "" if restated else clip(typed, limit)


def change_name(change: AmountChange, limit: int | None = None) -> str:
    """A payment's name in a price change, in the reader's language: `label`'s, or what its trigger says when the
    name only restated it ("After Removal" → "Después de Removal"); a name of ours translated even with no trigger."""
    typed = clean(change.label)
    if change.trigger is None:
        return clip(_(OUR_LABELS[typed.casefold()]) if typed.casefold() in OUR_LABELS else typed, limit)
    name = label(change, limit)
    if name:
        return name
    return capitalized(_tied_to(change, limit))


def short_name(m: MilestoneView, limit: int | None = None) -> str:
    """A payment in a word or two, where a sentence has no room for its trigger: its name, else its event's."""
    return label(m, limit) or clip(m.trigger.event, limit) or _tied_to(m, limit)


def reason_words(reason: str | None) -> str:
    """A price change's reason in the reader's language when it is one Paystage wrote ("Added: Sink $350.00"),
    else as the contractor typed it."""
    reason = clean(reason)
    for prefix, words in REASONS.items():
        if reason.startswith(prefix):
            return _(words).format(what=reason[len(prefix):])
    return reason


def trigger_words(m: MilestoneView, job: JobView, limit: int | None = None) -> str:
    """What a payment is tied to, with its event's day when it is known: "up front", "on Thu, Dec 10",
    "3 days before Measurement (Thu, Dec 3)", "after Removal (Mon, Dec 7)" (the day it was done, or is to be)."""
    trigger = m.trigger
    if trigger.kind is TriggerKind.DATE:
        return _("on {day}").format(day=format_day(trigger.on, job))
    words = _tied_to(m, limit)
    if trigger.kind is TriggerKind.NOW:
        return words
    done = find_event(job, trigger.event)
    if trigger.kind is TriggerKind.AFTER and done and done.state == "done" and done.done_at:
        day = done.done_at
    else:
        day = m.event_at or scheduled_at(job, trigger.event)
    return f"{words} ({format_day(day, job)})" if day else words


def _tied_to(m: MilestoneView, limit: int | None = None) -> str:
    """What a payment is tied to, without a day: "up front", "3 days before Measurement", "after Removal"."""
    trigger = m.trigger
    if trigger.kind is TriggerKind.NOW:
        return _("up front")
    if trigger.kind is TriggerKind.DATE:
        return _("on a date")
    event = clip(trigger.event, limit)
    if trigger.kind is TriggerKind.BEFORE:
        return (_("before {event}").format(event=event) if trigger.lead == DEFAULT_LEAD
                else _("{duration} before {event}").format(duration=duration(trigger.lead), event=event))
    return (_("{days} after {event}").format(days=days(trigger.net_days), event=event) if trigger.net_days
            else _("after {event}").format(event=event))


def labelled(m: MilestoneView, s: Squeeze = Squeeze()) -> str:
    """"Deposit: " before an amount; nothing when the payment has no name of its own."""
    name = label(m, s.label)
    return _("{label}: ").format(label=name) if name else ""


def held_until(job: JobView, limit: int | None = None) -> str:
    """"Held back until after Final walkthrough": what retainage holds back and when it is paid; "" when nothing
    is held back (no retainage, or it has fallen due)."""
    m = job.held_back
    return _("Held back until {when}").format(when=_tied_to(m, limit)) if m else ""


def held_back(job: JobView, limit: int | None = None, *, sms: bool = True) -> str:
    """"Held back until after Final walkthrough: $1,850.00", beside a job's totals; "" when nothing is held back."""
    if job.held_back is None:
        return ""
    say = sms_money if sms else money
    return f"{held_until(job, limit)}: {say(job, job.held_back.open_amount)}"


def state_words(m: MilestoneView, job: JobView, *, sms: bool = True) -> str:
    """Where a payment stands: "paid", "due now", "overdue", "upcoming", "partly paid ($500.00), $500.00 due now"."""
    if m.status is not Status.PARTIALLY_PAID:
        return _(STATES[m.status])
    say = sms_money if sms else money
    rest = milestone_status(m.open_amount, 0, m.due_at, job.now)
    if rest is Status.UPCOMING:
        return _("partly paid ({paid})").format(paid=say(job, m.paid))
    return _("partly paid ({paid}), {left} {state}").format(paid=say(job, m.paid), left=say(job, m.open_amount),
                                                             state=_(STATES[rest]))


def more(listed: tuple, s: Squeeze, where: str) -> list[str]:
    """The line standing for the milestones a squeezed list leaves out; `where` says where to see them."""
    shown = len(listed[: s.items])
    left = len(listed) - shown
    if not left:
        return []
    if shown:
        return [_("+{n} more {where}.").format(n=left, where=where)]
    return [_("{payments} {where}.").format(payments=payments(left), where=where)]


# --- Everything else ---------------------------------------------------------------------------


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
    skeleton = "MMMEd" if day.year == this_year else "yMMMEd"
    return format_skeleton(skeleton, day, locale=babel_locale(localized(job.locale)))


def plain_spaces(text: str) -> str:
    # babel puts narrow and non-breaking spaces in dates ("9:00\u202fAM"); in an SMS one forces UCS-2.
    return text.replace("\u202f", " ").replace("\u00a0", " ").replace("\u2009", " ")
