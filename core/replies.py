"""The answers to what a customer texts us, one function each (the webhook sends them back as TwiML).

Held to the same rules as the texts we send (core.messages): GSM-7, at most
MAX_SEGMENTS segments, amounts in the job's currency and locale, dates in the
customer's timezone, squeezed the same way when names are long (core.sms_text).
A reply answers the customer's own text, so it need not open with the
business name, but it always names the job it is about: "Kitchen countertops
(J-7K2Q)".

A plan the contractor has not sent yet is a draft: until it is sent, every
reply says there is no plan yet, as the customer has not seen it.
"""

from dataclasses import replace

from core.plan import DEFAULT_LEAD, TriggerKind
from core.sms_text import (
    Squeeze,
    business,
    clean,
    clip,
    count,
    duration,
    find_event,
    fit,
    format_day,
    format_phone,
    job_name,
    labelled,
    money,
    more,
    scheduled_at,
    sentence,
    sms_name,
    trigger_words,
)
from core.status import JobView, MilestoneView, Status, milestone_status

MAX_CHOICES = 9  # a customer picks a job with one digit
COMMANDS = "Reply BAL, NEXT, PLAN or PAY."
COMMANDS_EXPLAINED = (
    "Text BAL for your balance, NEXT for the next payment, PLAN for all payments, "
    "PAY for the payment link, STOP to stop texts."
)
UNKNOWN_NUMBER = (
    "Sorry, this number is not linked to a job with us. "
    "If you expected a text from a contractor, please contact them directly."
)


def balance(job: JobView, link: str) -> str:
    """BAL: paid so far, what remains of the total, what is due now, any credit; and the link."""
    job = _as_sent(job)
    due = job.due_now

    def render(s: Squeeze) -> str:
        lines = [f"Balance for {job_name(job, s)}:"]
        if job.credit:
            lines.append(f"Paid so far: {money(job, job.paid)} of {money(job, job.total)}. You have a credit of "
                         f"{money(job, job.credit)}; we will be in touch to settle it.")
        elif job.paid and not job.remaining:
            lines.append(f"Paid so far: {money(job, job.paid)} - the job is paid in full. Thank you!")
        else:
            lines.append(f"Paid so far: {money(job, job.paid)} of {money(job, job.total)}. "
                         f"Remaining: {money(job, job.remaining)}.")
            if due:
                lines.append(f"Due now: {money(job, job.due_now_amount)}{_due_now(job, s)}.")
            else:
                lines.append("Nothing is due right now.")
            if job.processing:
                on_its_way = sum(m.open_amount for m in job.processing)
                lines.append(f"On its way: {money(job, on_its_way)} by bank transfer (processing).")
        lines.append(f"Pay here: {link}" if due else f"Details: {link}")
        return "\n".join(lines)

    return fit("balance", render)


def next_payment(job: JobView) -> str:
    """NEXT: the next payment, its amount and the event or date it is tied to; or that all is paid."""
    job = _as_sent(job)
    m = job.next

    def render(s: Squeeze) -> str:
        if not job.milestones:
            return _no_plan_yet(job, s)
        if m is None:
            return f"{job_name(job, s)} is all paid - nothing more to pay. Thank you!{_credit(job)}"
        start = f"Next payment for {job_name(job, s)}: {money(job, m.open_amount)}"
        if m.is_due(job.now):
            return f"{start}{_bracketed(_name(m, s))}, due now. Reply PAY for the link."
        return sentence(f"{start}{_named(m, job, s)} {_when(m, job, s)}")

    return fit("next_payment", render)


def plan(job: JobView, link: str) -> str:
    """PLAN: every milestone with its amount, what it is tied to, and its state."""
    job = _as_sent(job)
    milestones = job.milestones

    def render(s: Squeeze) -> str:
        if not milestones:
            return f"{_no_plan_yet(job, s)}\nDetails: {link}"
        lines = [f"Payment plan for {job_name(job, s)}, total {money(job, job.total)}:"]
        for m in milestones[: s.items]:
            lines.append(f"- {labelled(m, job, s)}{money(job, m.amount)} {trigger_words(m, job, s.label)} "
                         f"- {_state(m, job)}")
        lines += more(milestones, s, "at the link")
        lines.append(f"See it and pay: {link}")
        return "\n".join(lines)

    return fit("plan", render, len(milestones))


def pay(job: JobView, link: str) -> str:
    """PAY: the link and what is due now; or that nothing is due, and when the next payment comes."""
    job = _as_sent(job)
    due, m = job.due_now, job.next

    def render(s: Squeeze) -> str:
        if due:
            return (f"{job_name(job, s)}: {money(job, job.due_now_amount)} is due now{_due_now(job, s)}.\n"
                    f"Pay here: {link}\nThank you!")
        if not job.milestones:
            return f"Nothing is due right now. {_no_plan_yet(job, s)}\nDetails: {link}"
        if m is None:
            return f"{job_name(job, s)} is paid in full - nothing to pay. Thank you!{_credit(job)}\nDetails: {link}"
        upcoming = sentence(f"The next payment is {money(job, m.open_amount)}{_named(m, job, s)} {_when(m, job, s)}")
        return f"{job_name(job, s)}: Nothing is due right now. {upcoming}\nThe plan and how to pay: {link}"

    return fit("pay", render)


def help(job: JobView | None) -> str:
    """HELP: the commands; with a job, who the contractor is and how to reach them."""
    if job is None:
        return fit("help", lambda s: COMMANDS_EXPLAINED)

    def render(s: Squeeze) -> str:
        contact = ", ".join(part for part in (sms_name(job.business_name, s.business), _phone(job)) if part)
        if not contact:
            return f"{COMMANDS_EXPLAINED}\nAnything else you text about {job_name(job, s)} goes to your contractor."
        return (f"{COMMANDS_EXPLAINED}\nYour contractor for {job_name(job, s)}: {contact}.\n"
                f"Anything else you text is passed on to them.")

    return fit("help", render)


def choose_job(jobs: list[JobView], *, businesses: int, held: bool = False) -> str:
    """A phone with several jobs: which one is the text about? Numbered, at most MAX_CHOICES.

    `businesses`: how many businesses (contractors, not names: two may share one) the jobs are with.
    With one, the list names it once and shows each job's title and reference. With several, a line
    is the name of a business and the reference of its job, never a title: a title is words its
    business chose, and here they would sit in one text among other businesses' names, answering a
    question the customer asked someone else. The reference is ours, in every text they had.
    `held`: the customer's own message is kept, and passed on once they pick.
    """
    listed = jobs[:MAX_CHOICES]
    several = businesses > 1

    def render(s: Squeeze) -> str:
        text = "your message" if held else "your text"
        if several:
            which = f"Which business is {text} for?"
            if s.business is None or s.business > _SHORT_HEADER:
                which = f"Your number has jobs with {businesses} businesses. {which}"
            lines = [which] + [f"{n}. {_business_job(j, s)}" for n, j in enumerate(listed, start=1)]
        else:
            lines = [f"Which job with {_who(jobs[0], s)} is {text} about?"]
            lines += [f"{n}. {job_name(j, s)}" for n, j in enumerate(listed, start=1)]
        if len(jobs) > len(listed):
            lines.append(f"+{len(jobs) - len(listed)} more not listed here.")
        lines.append("Reply with the number and we will pass your message on." if held
                     else "Reply with the number, then BAL, NEXT, PLAN or PAY.")
        return "\n".join(lines)

    # Every job stays listed, so the numbers mean the same whatever the squeeze: names are cut instead.
    return fit("choose_job", render, squeezes=_BUSINESS_SQUEEZES if several else _TITLE_SQUEEZES)


_TITLE_SQUEEZES = (  # one business: its name once, then a title per line
    Squeeze(),
    Squeeze(title=40, business=32),
    Squeeze(title=24, business=24),
    Squeeze(title=16, business=16),
    Squeeze(title=12, business=12),  # titles of '€' or '{', which cost two septets each
    Squeeze(title=8, business=12),
)
_BUSINESS_SQUEEZES = (  # several businesses: a business name per line, cut early (it must not carry a message)
    Squeeze(business=32),
    Squeeze(business=24),
    Squeeze(business=16),
    Squeeze(business=12),
    Squeeze(business=10),  # from here the header says only what to do
    Squeeze(business=8),
)
_SHORT_HEADER = 10


def _business_job(job: JobView, s: Squeeze) -> str:
    """"Granite & Co, job J-7K2Q": whose job it is, and its reference."""
    name = sms_name(job.business_name, s.business)
    return f"{name}, job {job.ref}" if name else f"job {job.ref}"


def chosen(job: JobView, passed_on: int = 0) -> str:
    """The customer picked a job by its number; `passed_on` messages they sent before picking went to its business."""

    def render(s: Squeeze) -> str:
        if not passed_on:
            return f"OK: {job_name(job, s)} with {_who(job, s)}. {COMMANDS}"
        what = "your message" if passed_on == 1 else f"your {passed_on} messages"
        return f"OK: {job_name(job, s)}. We passed {what} on to {_who(job, s)}. {COMMANDS}"

    return fit("chosen", render)


def unknown_number() -> str:
    """A phone that belongs to no job: it learns nothing about any job, customer or contractor."""
    return UNKNOWN_NUMBER


def relayed(job: JobView) -> str:
    """Free text was passed on to the contractor."""
    return fit("relayed", lambda s: f"Thanks, we passed your message about {job_name(job, s)} to "
                                    f"{_who(job, s)}. They will reply soon.")


def opted_in(job: JobView | None) -> str:
    """START after a STOP: texts resume."""
    if job is None:
        return fit("opted_in", lambda s: "You are subscribed again: texts about your jobs will resume. "
                                         "Reply STOP to stop them again, HELP for help.")
    return fit("opted_in", lambda s: f"You are subscribed again: texts about {job_name(job, s)} from "
                                     f"{_who(job, s)} will resume. Reply STOP to stop them again, "
                                     f"HELP for help.")


def change_accepted(job: JobView) -> str:
    """YES after a plan-change text: the new amounts are noted and the contractor was told."""

    def render(s: Squeeze) -> str:
        if job.credit:
            where = f"total {money(job, job.total)}, paid {money(job, job.paid)}.{_credit(job)}"
        else:
            where = f"total {money(job, job.total)}, remaining {money(job, job.remaining)}."
        return (f"Thank you! We noted that you accept the new amounts for {job_name(job, s)}: {where}\n"
                f"{business(job, s)} has been told. Reply PLAN to see every payment.")

    return fit("change_accepted", render)


def nothing_to_accept(job: JobView) -> str:
    """YES when no plan change is waiting for one."""
    return fit("nothing_to_accept", lambda s: f"Thanks! There is nothing to accept for {job_name(job, s)}: no plan "
                                              f"change is waiting for your OK. {COMMANDS} Or HELP for more.")


# --- Words -------------------------------------------------------------------------------------


def _as_sent(job: JobView) -> JobView:
    """The job as the customer knows it: a plan not sent yet is the contractor's draft, not shown."""
    return job if job.plan_sent else replace(job, milestones=())


def _who(job: JobView, s: Squeeze) -> str:
    """The business, inside a sentence."""
    return sms_name(job.business_name, s.business) or "your contractor"


def _no_plan_yet(job: JobView, s: Squeeze) -> str:
    return f"No plan yet for {job_name(job, s)}. {business(job, s)} will text it to you when it is ready."


def _credit(job: JobView) -> str:
    return f" You have a credit of {money(job, job.credit)}; we will be in touch to settle it." if job.credit else ""


def _name(m: MilestoneView, s: Squeeze) -> str:
    return clip(m.label, s.label)


def _bracketed(words: str) -> str:
    return f" ({words})" if words else ""


def _due_now(job: JobView, s: Squeeze) -> str:
    """" (Removal)" after the amount due now, or " (2 payments)" when it is more than one."""
    due = job.due_now
    return _bracketed(_name(due[0], s) if len(due) == 1 else count(len(due), "payment"))


def _named(m: MilestoneView, job: JobView, s: Squeeze) -> str:
    """" (Deposit)" after an amount and before what it is tied to; nothing when the label only repeats that."""
    label = _name(m, s)
    return "" if label.casefold() in _when(m, job, s).casefold() else _bracketed(label)


def _when(m: MilestoneView, job: JobView, s: Squeeze) -> str:
    """What a payment is tied to, with the event's day when it is known: "before Measurement on Thu, Dec 3"."""
    trigger = m.trigger
    if trigger.kind is TriggerKind.NOW:
        return "up front"
    if trigger.kind is TriggerKind.DATE:
        return f"on {format_day(trigger.on, job)}"
    event = clip(trigger.event, s.label)
    if trigger.kind is TriggerKind.BEFORE:
        lead = "" if trigger.lead == DEFAULT_LEAD else f"{duration(trigger.lead)} "
        words = f"{lead}before {event}"
    else:
        words = f"{count(trigger.net_days, 'day')} after {event}" if trigger.net_days else f"after {event}"
    done = find_event(job, trigger.event)
    day = done.done_at if done and done.state == "done" and done.done_at else (
        m.event_at or scheduled_at(job, trigger.event))
    return f"{words} on {format_day(day, job)}" if day else words


def _state(m: MilestoneView, job: JobView) -> str:
    """Where a milestone stands: paid, due now, overdue, upcoming, or partly paid and what is left."""
    if m.status is Status.PARTIALLY_PAID:
        rest = milestone_status(m.open_amount, 0, m.due_at, job.now)
        left = "" if rest is Status.UPCOMING else f", {money(job, m.open_amount)} {_STATES[rest]}"
        return f"partly paid ({money(job, m.paid)}){left}"
    return _STATES[m.status]


_STATES = {Status.PAID: "paid", Status.DUE: "due now", Status.OVERDUE: "overdue", Status.UPCOMING: "upcoming",
           Status.PROCESSING: "bank transfer processing"}


def _phone(job: JobView) -> str:
    """"(202) 555-0199": the contractor's phone as the customer dials it, written as their page writes it."""
    return clean(format_phone(clean(job.business_phone), job))

