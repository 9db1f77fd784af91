"""The job's calendar for the customer: an iCalendar file (RFC 5545) of its events and payment due dates.

The payment page offers it ("Add to calendar", sms/pages.py) behind the same signed link. One VEVENT per
scheduled event (at its time, or all day on a day with no time of day) and one per payment whose due date is
known, all day or at a time as the customer's texts say it (core.wording.words.due_when). Times are written
in UTC, days as the customer's days. Each entry's UID names the job and the event or payment, so a calendar
that imports the file again updates its entries instead of doubling them. Words are in the language being
spoken (the customer's). The file carries no link: a calendar may be shared or synced, and the link is the
key to the job.
"""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as Entry

from core.status import JobView, Status
from core.wording.language import _
from core.wording.words import falls_due_on_a_day, format_phone, label, money, trigger_words

PRODUCT_ID = "-//Paystage//Job calendar//EN"


def job_calendar(job: JobView, domain: str) -> bytes:
    """The .ics file of `job`; `domain` (the payment page's host) makes its entries' UIDs unique worldwide."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{job.title} ({job.ref})")
    business = "\n".join(part for part in (job.business_name, format_phone(job.business_phone, job)) if part)
    for event in job.events:
        if event.scheduled_at is None or event.state == "cancelled":
            continue
        entry = _entry(f"event-{event.id}.{job.ref}@{domain}", job)
        entry.add("summary", _("{event}: {title} ({ref})").format(event=event.name, title=job.title, ref=job.ref))
        _when(entry, event.scheduled_at, event.date_only, job)
        entry.add("description", business)
        calendar.add_component(entry)
    if job.plan_sent:  # before the customer has the plan, no payment of it is asked for
        for m in job.milestones:
            if m.due_at is None:
                continue
            entry = _entry(f"payment-{m.id}.{job.ref}@{domain}", job)
            words = {"title": job.title, "ref": job.ref}
            if m.status is Status.PAID:
                entry.add("summary", _("{amount} paid: {title} ({ref})").format(amount=money(job, m.amount), **words))
            else:
                entry.add("summary", _("Payment of {amount} due: {title} ({ref})").format(
                    amount=money(job, m.open_amount), **words))
            _when(entry, m.due_at, falls_due_on_a_day(m, job), job)
            entry.add("transp", "TRANSPARENT")  # a payment does not take up the customer's time
            named = " - ".join(part for part in (label(m), trigger_words(m, job)) if part)
            named = named[:1].upper() + named[1:]  # "On Sun, Dec 20", as the page writes a payment with no name
            entry.add("description", "\n".join(part for part in (named, business) if part))
            calendar.add_component(entry)
    return calendar.to_ical()


def has_dates(job: JobView) -> bool:
    """Whether the calendar would hold anything: an event scheduled, or a payment of a sent plan with a due date."""
    return any(e.scheduled_at is not None and e.state != "cancelled" for e in job.events) or (
        job.plan_sent and any(m.due_at is not None for m in job.milestones))


def _entry(uid: str, job: JobView) -> Entry:
    entry = Entry()
    entry.add("uid", uid)
    entry.add("dtstamp", job.now)
    return entry


def _when(entry: Entry, moment: datetime, all_day: bool, job: JobView) -> None:
    """At `moment` (UTC), or all day on its day where the customer is."""
    if all_day:
        day: date = moment.astimezone(ZoneInfo(job.timezone)).date()
        entry.add("dtstart", day)
        entry.add("dtend", day + timedelta(days=1))
    else:
        entry.add("dtstart", moment.astimezone(timezone.utc))
