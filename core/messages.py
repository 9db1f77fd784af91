"""Every text a customer gets, one function each.

Each returns GSM-7 of at most MAX_SEGMENTS segments: names, titles and labels
come from people and are written as typed; core.sms_text.fit makes the whole
text GSM-7 last ("Zoë's kitchen 🏠" → "Zoe's kitchen", "Монтаж" → "Montazh"),
so `describe_trigger`, which the bot and the page reuse, keeps them as typed.
Amounts use the job's currency and locale; dates are in the customer's
timezone. Every text starts with the business name, so the customer knows who
is writing, and carries the job's reference.

When a text does not fit, it is squeezed in a fixed order (see core.sms_text):
names and titles are cut with '...', then a list of milestones is cut to its
first few and "+N more". The link and the amounts are never cut.
"""

from core.plan import TriggerKind
from core.sms_text import (
    Squeeze,
    business,
    clean,
    clip,
    find_event,
    fit,
    format_day,
    format_when,
    job_name,
    labelled,
    money,
    more,
    restates_trigger,
    same_name,
    scheduled_at,
    sentence,
    sms_name,
    trigger_words,
)
from core.status import EventView, JobView, MilestoneView, PriceChangeView, Status

HELP_LINE = "Reply BAL, NEXT, PLAN or HELP."
QUESTIONS_LINE = "Questions? Just reply to this text."


# --- Pieces the web page and the bot reuse -------------------------------------------------


def describe_trigger(m: MilestoneView, job: JobView) -> str:
    """What a payment is tied to, to follow its amount: "before Measurement (Tue, Dec 1)"."""
    return trigger_words(m, job, None)


# --- The texts -------------------------------------------------------------------------------


def plan_summary(job: JobView, link: str) -> str:
    """The plan was sent: what the job costs and every payment with what it is tied to."""
    milestones = job.milestones

    def render(s: Squeeze) -> str:
        lines = [
            f"{business(job, s)}: {_hello(job, s)}your payment plan for {job_name(job, s)}, "
            f"total {money(job, job.total)}:"
        ]
        for m in milestones[: s.items]:
            paid = " - paid" if m.status is Status.PAID else ""
            lines.append(f"- {labelled(m, job, s)}{money(job, m.amount)} "
                         f"{trigger_words(m, job, s.label)}{paid}")
        lines += more(milestones, s, "at the link below")
        lines += [f"See it and pay: {link}", HELP_LINE]
        return "\n".join(lines)

    return fit("plan_summary", render, len(milestones))


def payment_due(job: JobView, milestone: MilestoneView, link: str) -> str:
    """A payment has become due: how much, why now, where to pay."""

    def render(s: Squeeze) -> str:
        return (
            f"{business(job, s)}: {_hello(job, s)}{money(job, milestone.open_amount)} is now due "
            f"for {job_name(job, s)}{_named(job, milestone, s)}. {_why(job, milestone, s)}\n"
            f"Pay here: {link}\nThank you!"
        )

    return fit("payment_due", render)


_ORDINALS = {1: "a friendly", 2: "a second friendly", 3: "a third", 4: "a fourth", 5: "a fifth"}


def reminder(job: JobView, milestone: MilestoneView, link: str, number: int) -> str:
    """A payment is overdue: the `number`th gentle nudge."""
    kind = _ORDINALS.get(number, "another")

    def render(s: Squeeze) -> str:
        due = f" was due {format_day(milestone.due_at, job)} and" if milestone.due_at else ""
        return (
            f"{business(job, s)}: {_hello(job, s)}{kind} reminder that "
            f"{money(job, milestone.open_amount)} for {job_name(job, s)}{due} is still open"
            f"{_named(job, milestone, s)}.\nPay here: {link}\n"
            f"Already paid, or a question? Just reply to this text."
        )

    return fit("reminder", render)


def receipt(job: JobView, amount: int, method: str, link: str) -> str:
    """A payment was received; `job` is as it stands after it."""
    method = clean(method)
    how = f" ({method})" if method else ""

    def render(s: Squeeze) -> str:
        name = _first_name(job, s)
        lines = [
            f"{business(job, s)}: Thank you{', ' + name if name else ''}! "
            f"We received {money(job, amount)}{how} for {job_name(job, s)}."
        ]
        if job.credit:
            lines.append(
                f"Paid so far: {money(job, job.paid)} of {money(job, job.total)}. You have a credit of "
                f"{money(job, job.credit)}; we will be in touch to settle it."
            )
        elif not job.remaining:
            lines.append(f"Paid so far: {money(job, job.paid)} - the job is paid in full.")
        else:
            lines.append(
                f"Paid so far: {money(job, job.paid)} of {money(job, job.total)}. "
                f"Remaining: {money(job, job.remaining)}."
            )
            if job.next:
                lines.append(_next_line(job, job.next, s))
        lines.append(f"Details: {link}")
        return "\n".join(lines)

    return fit("receipt", render)


def plan_changed(job: JobView, change: PriceChangeView, link: str) -> str:
    """The price changed: old and new price, why, what is paid, the new open payments; asks for YES."""
    # The milestones still open before the change: those are the ones the customer will pay.
    open_changes = tuple(c for c in change.changes if c.paid < c.old or c.paid < c.new)

    def render(s: Squeeze) -> str:
        reason = clip(change.reason, s.title)
        lines = [
            f"{business(job, s)}: {_hello(job, s)}the price for {job_name(job, s)} changed from "
            f"{money(job, change.old_total)} to {money(job, change.new_total)}"
            + (f": {sentence(reason)}" if reason else "."),
            f"Already paid: {money(job, change.paid)}.",
        ]
        if open_changes[: s.items]:
            lines.append("Your payments now:")
        for c in open_changes[: s.items]:
            amount = money(job, c.new) if c.new == c.old else f"{money(job, c.old)} -> {money(job, c.new)}"
            if c.paid and c.paid >= c.new:
                amount += " (paid)"
            elif c.paid:
                amount += f" ({money(job, c.paid)} paid)"
            lines.append(f"- {clip(c.label, s.label)}: {amount}")
        lines += more(open_changes, s, "at the link below")
        if change.credit:
            lines.append(f"Your credit: {money(job, change.credit)}; we will be in touch to settle it.")
        lines += [f"Reply YES to accept. Details: {link}"]
        return "\n".join(lines)

    return fit("plan_changed", render, len(open_changes))


def credit_owed(job: JobView) -> str:
    """More was paid than the job now costs: the credit, and that the contractor will settle it."""

    def render(s: Squeeze) -> str:
        return (
            f"{business(job, s)}: {_hello(job, s)}the price for {job_name(job, s)} is now "
            f"{money(job, job.total)} and you have paid {money(job, job.paid)}, so you have a credit of "
            f"{money(job, job.credit)}. We will be in touch to settle it.\n{QUESTIONS_LINE}"
        )

    return fit("credit_owed", render)


def bank_transfer_failed(job: JobView, amount: int, link: str) -> str:
    """A bank transfer the customer started did not go through: nothing was taken, and how to pay again."""

    def render(s: Squeeze) -> str:
        return (
            f"{business(job, s)}: {_hello(job, s)}your bank transfer of {money(job, amount)} for {job_name(job, s)} "
            f"did not go through, so nothing was taken. Please pay again here: {link}\n{QUESTIONS_LINE}"
        )

    return fit("bank_transfer_failed", render)


def refunded(job: JobView, amount: int, link: str) -> str:
    """Money went back to the customer; `job` is as it stands after it: what they owe again, if anything."""

    def render(s: Squeeze) -> str:
        lines = [f"{business(job, s)}: {_hello(job, s)}we refunded {money(job, amount)} for {job_name(job, s)}."]
        if job.remaining:
            lines.append(f"Paid so far: {money(job, job.paid)} of {money(job, job.total)}. "
                         f"Remaining: {money(job, job.remaining)}.")
            if job.due_now:
                lines.append(f"Due now: {money(job, job.due_now_amount)}.")
        lines.append(f"Details: {link}")
        return "\n".join(lines)

    return fit("refunded", render)


def event_moved(job: JobView, event: EventView) -> str:
    """An event was rescheduled: its new date, and the new due date of each payment due before it."""
    tied = tuple(
        m for m in job.milestones
        if m.trigger.kind is TriggerKind.BEFORE and same_name(m.trigger.event, event.name) and m.open_amount
    )

    def render(s: Squeeze) -> str:
        at = event.scheduled_at and format_when(event.scheduled_at, job, event.date_only)  # a day: the day alone
        when = f"has moved to {at}" if at else "has moved"
        name = clip(event.name, s.label)
        lines = [sentence(f"{business(job, s)}: {_hello(job, s)}{name} for {job_name(job, s)} {when}")]
        if tied:
            lines.append("New due date for the payment before it:" if len(tied) == 1
                         else "New due dates for the payments before it:")
        for m in tied[: s.items]:
            due_at = m.due_at or (event.scheduled_at - m.trigger.lead if event.scheduled_at else None)
            due = f", due {format_day(due_at, job)}" if due_at else ""
            lines.append(f"- {clip(m.label, s.label)}: {money(job, m.open_amount)}{due}")
        lines += more(tied, s, "(reply PLAN to see them)")
        lines.append(QUESTIONS_LINE)
        return "\n".join(lines)

    return fit("event_moved", render, len(tied))


# --- Words -------------------------------------------------------------------------------------


def _first_name(job: JobView, s: Squeeze) -> str:
    name = next(iter(clean(job.customer_name).split()), "")
    return sms_name(name, s.customer) if any(c.isalpha() for c in name) else ""


def _hello(job: JobView, s: Squeeze) -> str:
    if s.customer == 0:
        return ""
    name = _first_name(job, s)
    return f"Hi {name}, " if name else "Hi, "


def _what(job: JobView, m: MilestoneView, s: Squeeze) -> str:
    """The milestone's label, and what was already paid on it."""
    label = clip(m.label, s.label) or "payment"
    return f"{label} ({money(job, m.paid)} already paid)" if m.paid else label


def _why(job: JobView, m: MilestoneView, s: Squeeze) -> str:
    """Why a payment is due now, as a sentence."""
    trigger = m.trigger
    if trigger.kind is TriggerKind.NOW:
        return "It is the deposit that gets the job started."
    if trigger.kind is TriggerKind.DATE:
        return sentence(f"It was agreed for {format_day(trigger.on, job)}")
    event = clip(trigger.event, s.label)
    if trigger.kind is TriggerKind.BEFORE:
        scheduled = m.event_at or scheduled_at(job, trigger.event)
        on = f" on {format_day(scheduled, job)}" if scheduled else ""
        return sentence(f"{event} is coming up{on}")
    done = find_event(job, trigger.event)
    if trigger.net_days and done and done.done_at:
        return sentence(f"{event} was done on {format_day(done.done_at, job)}")
    return f"{event} is done."


def _next_line(job: JobView, m: MilestoneView, s: Squeeze) -> str:
    if m.is_due(job.now):
        return f"Now due: {clip(m.label, s.label)}, {money(job, m.open_amount)}."
    return f"Next: {labelled(m, job, s, ', ')}{money(job, m.open_amount)} {trigger_words(m, job, s.label)}."


def _named(job: JobView, m: MilestoneView, s: Squeeze) -> str:
    """": Deposit" after a sentence about the payment, or only what was paid when the label adds nothing."""
    if not restates_trigger(m, job, s):
        return f": {_what(job, m, s)}"
    return f" ({money(job, m.paid)} already paid)" if m.paid else ""
