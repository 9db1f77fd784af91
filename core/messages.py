"""Every text a customer gets, one function each.

Each returns GSM-7 of at most MAX_SEGMENTS segments: names, titles and labels
come from people and are made GSM-7 here ("Zoë's kitchen 🏠" → "Zoe's
kitchen"); amounts use the job's currency and locale; dates are in the
customer's timezone. Every text starts with the business name, so the
customer knows who is writing, and carries the job's reference.

When a text does not fit, it is squeezed in a fixed order (see `_squeezes`):
names and titles are cut with '...', then a list of milestones is cut to its
first few and "+N more". The link and the amounts are never cut.
"""

import logging
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.numbers import get_currency_symbol

from core.gsm import MAX_SEGMENTS, is_gsm7, segments, to_gsm7
from core.money import format_money
from core.plan import DEFAULT_LEAD, TriggerKind
from core.status import EventView, JobView, MilestoneView, PriceChangeView, Status

log = logging.getLogger(__name__)

HELP_LINE = "Reply BAL, NEXT, PLAN or HELP."
QUESTIONS_LINE = "Questions? Just reply to this text."


# --- Pieces the web page and the bot reuse -------------------------------------------------


def format_when(moment: datetime, job: JobView) -> str:
    """A moment as the customer reads it: "Tue, Dec 1, 9:00 AM" (en_US), "Di., 1. Dez., 09:00" (de_DE)."""
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


def describe_trigger(m: MilestoneView, job: JobView) -> str:
    """What a payment is tied to, to follow its amount: "before Measurement (Tue, Dec 1)"."""
    return _trigger_words(m, job, None)


# --- The texts -------------------------------------------------------------------------------


def plan_summary(job: JobView, link: str) -> str:
    """The plan was sent: what the job costs and every payment with what it is tied to."""
    milestones = job.milestones

    def render(s: "_Squeeze") -> str:
        lines = [
            f"{_business(job, s)}: {_hello(job, s)}your payment plan for {_job(job, s)}, "
            f"total {_money(job, job.total)}:"
        ]
        for m in milestones[: s.items]:
            paid = " - paid" if m.status is Status.PAID else ""
            lines.append(f"- {_labelled(m, job, s)}{_money(job, m.amount)} "
                         f"{_trigger_words(m, job, s.label)}{paid}")
        lines += _more(milestones, s, "at the link below")
        lines += [f"See it and pay: {link}", HELP_LINE]
        return "\n".join(lines)

    return _fit("plan_summary", render, len(milestones))


def payment_due(job: JobView, milestone: MilestoneView, link: str) -> str:
    """A payment has become due: how much, why now, where to pay."""

    def render(s: "_Squeeze") -> str:
        return (
            f"{_business(job, s)}: {_hello(job, s)}{_money(job, milestone.open_amount)} is now due "
            f"for {_job(job, s)}{_named(job, milestone, s)}. {_why(job, milestone, s)}\n"
            f"Pay here: {link}\nThank you!"
        )

    return _fit("payment_due", render)


_ORDINALS = {1: "a friendly", 2: "a second friendly", 3: "a third", 4: "a fourth", 5: "a fifth"}


def reminder(job: JobView, milestone: MilestoneView, link: str, number: int) -> str:
    """A payment is overdue: the `number`th gentle nudge."""
    kind = _ORDINALS.get(number, "another")

    def render(s: "_Squeeze") -> str:
        due = f" was due {format_day(milestone.due_at, job)} and" if milestone.due_at else ""
        return (
            f"{_business(job, s)}: {_hello(job, s)}{kind} reminder that "
            f"{_money(job, milestone.open_amount)} for {_job(job, s)}{due} is still open"
            f"{_named(job, milestone, s)}.\nPay here: {link}\n"
            f"Already paid, or a question? Just reply to this text."
        )

    return _fit("reminder", render)


def receipt(job: JobView, amount: int, method: str, link: str) -> str:
    """A payment was received; `job` is as it stands after it."""
    method = _clean(method)
    how = f" ({method})" if method else ""

    def render(s: "_Squeeze") -> str:
        name = _first_name(job, s)
        lines = [
            f"{_business(job, s)}: Thank you{', ' + name if name else ''}! "
            f"We received {_money(job, amount)}{how} for {_job(job, s)}."
        ]
        if job.credit:
            lines.append(
                f"Paid so far: {_money(job, job.paid)} of {_money(job, job.total)}. You have a credit of "
                f"{_money(job, job.credit)}; we will be in touch to settle it."
            )
        elif not job.remaining:
            lines.append(f"Paid so far: {_money(job, job.paid)} - the job is paid in full.")
        else:
            lines.append(
                f"Paid so far: {_money(job, job.paid)} of {_money(job, job.total)}. "
                f"Remaining: {_money(job, job.remaining)}."
            )
            if job.next:
                lines.append(_next_line(job, job.next, s))
        lines.append(f"Details: {link}")
        return "\n".join(lines)

    return _fit("receipt", render)


def plan_changed(job: JobView, change: PriceChangeView, link: str) -> str:
    """The price changed: old and new price, why, what is paid, the new open payments; asks for YES."""
    # The milestones still open before the change: those are the ones the customer will pay.
    open_changes = tuple(c for c in change.changes if c.paid < c.old or c.paid < c.new)

    def render(s: "_Squeeze") -> str:
        reason = _clip(change.reason, s.title)
        lines = [
            f"{_business(job, s)}: {_hello(job, s)}the price for {_job(job, s)} changed from "
            f"{_money(job, change.old_total)} to {_money(job, change.new_total)}"
            + (f": {_sentence(reason)}" if reason else "."),
            f"Already paid: {_money(job, change.paid)}.",
        ]
        if open_changes[: s.items]:
            lines.append("Your payments now:")
        for c in open_changes[: s.items]:
            amount = _money(job, c.new) if c.new == c.old else f"{_money(job, c.old)} -> {_money(job, c.new)}"
            if c.paid and c.paid >= c.new:
                amount += " (paid)"
            elif c.paid:
                amount += f" ({_money(job, c.paid)} paid)"
            lines.append(f"- {_clip(c.label, s.label)}: {amount}")
        lines += _more(open_changes, s, "at the link below")
        if change.credit:
            lines.append(f"Your credit: {_money(job, change.credit)}; we will be in touch to settle it.")
        lines += [f"Reply YES to accept. Details: {link}"]
        return "\n".join(lines)

    return _fit("plan_changed", render, len(open_changes))


def credit_owed(job: JobView) -> str:
    """More was paid than the job now costs: the credit, and that the contractor will settle it."""

    def render(s: "_Squeeze") -> str:
        return (
            f"{_business(job, s)}: {_hello(job, s)}the price for {_job(job, s)} is now "
            f"{_money(job, job.total)} and you have paid {_money(job, job.paid)}, so you have a credit of "
            f"{_money(job, job.credit)}. We will be in touch to settle it.\n{QUESTIONS_LINE}"
        )

    return _fit("credit_owed", render)


def event_moved(job: JobView, event: EventView) -> str:
    """An event was rescheduled: its new date, and the new due date of each payment due before it."""
    tied = tuple(
        m for m in job.milestones
        if m.trigger.kind is TriggerKind.BEFORE and _same(m.trigger.event, event.name) and m.open_amount
    )

    def render(s: "_Squeeze") -> str:
        when = f"has moved to {format_when(event.scheduled_at, job)}" if event.scheduled_at else "has moved"
        name = _clip(event.name, s.label)
        lines = [_sentence(f"{_business(job, s)}: {_hello(job, s)}{name} for {_job(job, s)} {when}")]
        if tied:
            lines.append("New due date for the payment before it:" if len(tied) == 1
                         else "New due dates for the payments before it:")
        for m in tied[: s.items]:
            due_at = m.due_at or (event.scheduled_at - m.trigger.lead if event.scheduled_at else None)
            due = f", due {format_day(due_at, job)}" if due_at else ""
            lines.append(f"- {_clip(m.label, s.label)}: {_money(job, m.open_amount)}{due}")
        lines += _more(tied, s, "(reply PLAN to see them)")
        lines.append(QUESTIONS_LINE)
        return "\n".join(lines)

    return _fit("event_moved", render, len(tied))


# --- Fitting into MAX_SEGMENTS -----------------------------------------------------------------


@dataclass(frozen=True)
class _Squeeze:
    """How far a text is squeezed: the most characters each kind of name keeps (None: all of it)."""

    business: int | None = None
    customer: int | None = None
    title: int | None = None  # the job's title; also a price change's reason
    label: int | None = None  # milestone labels and event names
    items: int | None = None  # how many milestones a list shows; None: every one


_LOOSE = _Squeeze()
_TRIMMED = _Squeeze(business=32, customer=16, title=40, label=24)
_TIGHT = _Squeeze(business=24, customer=12, title=24, label=24)
_TIGHTEST = _Squeeze(business=20, customer=0, title=20, label=16)  # customer=0: no greeting


def _fit(name: str, render: Callable[[_Squeeze], str], items: int = 0) -> str:
    """The first rendering of `render` that fits MAX_SEGMENTS, in the order of `_squeezes`."""
    text = ""
    for squeeze in _squeezes(items):
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


def _more(listed: tuple, s: _Squeeze, where: str) -> list[str]:
    """The line standing for the milestones a squeezed list leaves out."""
    shown = len(listed[: s.items])
    left = len(listed) - shown
    if not left:
        return []
    return [f"+{left} more {where}." if shown else f"{_count(left, 'payment')} {where}."]


# --- Words -------------------------------------------------------------------------------------


def _clean(text: str | None) -> str:
    """Text a person typed, as one GSM-7 line."""
    return " ".join(to_gsm7(text or "").split())


def _clip(text: str | None, limit: int | None) -> str:
    """`text` cleaned and, past `limit` characters, cut at a word where it can be, with '...'."""
    text = _clean(text)
    if limit is None or len(text) <= limit:
        return text
    cut = text[: limit - 3]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "..."


def _business(job: JobView, s: _Squeeze) -> str:
    return _clip(job.business_name, s.business) or "Your contractor"


def _first_name(job: JobView, s: _Squeeze) -> str:
    name = next(iter(_clean(job.customer_name).split()), "")
    return _clip(name, s.customer) if any(c.isalpha() for c in name) else ""


def _hello(job: JobView, s: _Squeeze) -> str:
    if s.customer == 0:
        return ""
    name = _first_name(job, s)
    return f"Hi {name}, " if name else "Hi, "


def _job(job: JobView, s: _Squeeze) -> str:
    """"Kitchen countertops (J-7K2Q)": the title, always with the reference."""
    title = _clip(job.title, s.title)
    return f"{title} ({job.ref})" if title else f"job {job.ref}"


def _what(job: JobView, m: MilestoneView, s: _Squeeze) -> str:
    """The milestone's label, and what was already paid on it."""
    label = _clip(m.label, s.label) or "payment"
    return f"{label} ({_money(job, m.paid)} already paid)" if m.paid else label


def _why(job: JobView, m: MilestoneView, s: _Squeeze) -> str:
    """Why a payment is due now, as a sentence."""
    trigger = m.trigger
    if trigger.kind is TriggerKind.NOW:
        return "It is the deposit that gets the job started."
    if trigger.kind is TriggerKind.DATE:
        return _sentence(f"It was agreed for {format_day(trigger.on, job)}")
    event = _clip(trigger.event, s.label)
    if trigger.kind is TriggerKind.BEFORE:
        scheduled = m.event_at or _scheduled(job, trigger.event)
        on = f" on {format_day(scheduled, job)}" if scheduled else ""
        return _sentence(f"{event} is coming up{on}")
    done = _event(job, trigger.event)
    if trigger.net_days and done and done.done_at:
        return _sentence(f"{event} was done on {format_day(done.done_at, job)}")
    return f"{event} is done."


def _trigger_words(m: MilestoneView, job: JobView, event_limit: int | None) -> str:
    trigger = m.trigger
    if trigger.kind is TriggerKind.NOW:
        return "up front"
    if trigger.kind is TriggerKind.DATE:
        return f"on {format_day(trigger.on, job)}"
    event = _clip(trigger.event, event_limit)
    if trigger.kind is TriggerKind.BEFORE:
        lead = "" if trigger.lead == DEFAULT_LEAD else f"{_duration(trigger.lead)} "
        scheduled = m.event_at or _scheduled(job, trigger.event)
        when = f" ({format_day(scheduled, job)})" if scheduled else ""
        return f"{lead}before {event}{when}"
    net = f"{_count(trigger.net_days, 'day')} " if trigger.net_days else ""
    return f"{net}after {event}"


def _next_line(job: JobView, m: MilestoneView, s: _Squeeze) -> str:
    if m.is_due(job.now):
        return f"Now due: {_clip(m.label, s.label)}, {_money(job, m.open_amount)}."
    return f"Next: {_labelled(m, job, s, ', ')}{_money(job, m.open_amount)} {_trigger_words(m, job, s.label)}."


def _labelled(m: MilestoneView, job: JobView, s: _Squeeze, separator: str = ": ") -> str:
    """"Deposit: " before the amount, or nothing when the label only repeats the trigger ("After Removal")."""
    return "" if _restates_trigger(m, job, s) else f"{_clip(m.label, s.label)}{separator}"


def _named(job: JobView, m: MilestoneView, s: _Squeeze) -> str:
    """": Deposit" after a sentence about the payment, or only what was paid when the label adds nothing."""
    if not _restates_trigger(m, job, s):
        return f": {_what(job, m, s)}"
    return f" ({_money(job, m.paid)} already paid)" if m.paid else ""


def _restates_trigger(m: MilestoneView, job: JobView, s: _Squeeze) -> bool:
    return _trigger_words(m, job, s.label).lower().startswith(_clip(m.label, s.label).lower())


def _sentence(text: str) -> str:
    """Ends `text` with a full stop, unless a date already did ("Di., 8. Dez.")."""
    return text if text.endswith(".") else text + "."


def _money(job: JobView, cents: int) -> str:
    """format_money, spelled in GSM-7: a symbol GSM-7 lacks (₹, ₩, zł) becomes the ISO code."""
    text = format_money(cents, job.currency, job.locale)
    if is_gsm7(text):
        return text
    symbol = get_currency_symbol(job.currency, locale=job.locale)
    text = text.replace(symbol, f" {job.currency} ").strip()
    return to_gsm7(re.sub(r"\s+", " ", text))


def _duration(lead: timedelta) -> str:
    if lead % timedelta(days=1) == timedelta(0):
        return _count(lead // timedelta(days=1), "day")
    if lead % timedelta(hours=1) == timedelta(0):
        return _count(lead // timedelta(hours=1), "hour")
    return _count(lead // timedelta(minutes=1), "minute")


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _day(day: date, job: JobView) -> str:
    this_year = job.now.astimezone(ZoneInfo(job.timezone)).year
    return format_skeleton("MMMEd" if day.year == this_year else "yMMMEd", day, locale=job.locale)


def _plain_spaces(text: str) -> str:
    # babel puts narrow and non-breaking spaces in dates ("9:00\u202fAM"); in an SMS one forces UCS-2.
    return text.replace("\u202f", " ").replace("\u00a0", " ").replace("\u2009", " ")


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").casefold() == (b or "").casefold()


def _event(job: JobView, name: str | None) -> EventView | None:
    return next((e for e in job.events if _same(e.name, name)), None)


def _scheduled(job: JobView, name: str | None) -> datetime | None:
    event = _event(job, name)
    return event.scheduled_at if event and event.state != "cancelled" else None
