"""What the bot shows a contractor: job cards, plan and price previews, lists. Plain text, short lines."""

from core.money import format_money
from core.status import JobView, PriceChangeView, Status
from core.wording.words import due_when, format_when, trigger_words

STATE_WORDS = {Status.PAID: "paid", Status.DUE: "DUE NOW", Status.OVERDUE: "OVERDUE",
               Status.PARTIALLY_PAID: "partly paid", Status.UPCOMING: "upcoming",
               Status.PROCESSING: "bank transfer processing"}


def money(job: JobView, cents: int) -> str:
    return format_money(cents, job.currency, job.locale)


def job_line(job: JobView) -> str:
    """One line per job in /jobs: who, what, paid and remaining, what is next."""
    upcoming = job.next
    nxt = f"; next {money(job, upcoming.open_amount)} {trigger_words(upcoming, job)}" if upcoming else ""
    return (f"{job.ref} {job.customer_name} - {job.title}: paid {money(job, job.paid)} of "
            f"{money(job, job.total)}{nxt}")


def job_card(job: JobView) -> str:
    lines = [f"{job.ref} - {job.title}", f"{job.customer_name} {job.customer_phone}",
             f"Total {money(job, job.total)} - paid {money(job, job.paid)} - remaining {money(job, job.remaining)}"]
    if job.credit:
        lines.append(f"Credit owed to the customer: {money(job, job.credit)}")
    if job.state != "active":
        lines.append(f"This job is {job.state}.")
    if job.events:
        lines.append("")
        lines.append("Events:")
        for e in job.events:
            when = format_when(e.scheduled_at, job, e.date_only) if e.scheduled_at else "not scheduled"
            lines.append(f"  {e.name}: {when}" + ("" if e.state == "scheduled" else f" ({e.state})"))
    lines.append("")
    lines.append(plan_lines(job) if job.milestones else "No plan yet. Example: /plan "
                 f"{job.ref} 25% before measurement, 25% after removal, 50% after installation")
    return "\n".join(lines)


def plan_lines(job: JobView) -> str:
    sent = "Plan (sent to the customer):" if job.plan_sent else "Plan (not sent yet):"
    lines = [sent]
    for m in job.milestones:
        paid = f", {money(job, m.paid)} paid" if 0 < m.paid < m.amount else ""
        when = f", due {due_when(m, job)}" if m.due_at and m.status is Status.UPCOMING else ""
        lines.append(f"  {m.position + 1}. {money(job, m.amount)} {trigger_words(m, job)} - "
                     f"{STATE_WORDS[m.status]}{paid}{when}")
    return "\n".join(lines)


def plan_preview(job: JobView) -> str:
    return f"{job.ref} {job.customer_name}, total {money(job, job.total)}\n{plan_lines(job)}\n\nSend it to " \
           f"{job.customer_name} by SMS?"


def price_preview(job: JobView, change: PriceChangeView) -> str:
    lines = [f"{job.ref} {job.customer_name}: price {money(job, change.old_total)} -> {money(job, change.new_total)}"]
    if change.reason:
        lines.append(change.reason)
    for c in change.changes:
        paid = " (paid)" if c.paid and c.paid >= c.new else ""
        lines.append(f"  {c.label}: {money(job, c.old)} -> {money(job, c.new)}{paid}")
    if change.credit:
        lines.append(f"More was paid than the new price: you would owe a credit of {money(job, change.credit)}.")
    lines.append("")
    lines.append("Apply it and text the customer the new amounts?" if job.plan_sent else "Apply it?")
    return "\n".join(lines)
