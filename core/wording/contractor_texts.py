"""Texts for the contractor's Telegram chat. Not bound by SMS limits, but just as short."""

from core.money import format_money
from core.status import JobView


def _money(job: JobView, cents: int) -> str:
    return format_money(cents, job.currency, job.locale)


def payment_received(job: JobView, amount: int, method: str) -> str:
    lines = [f"{job.ref} {job.customer_name}: {_money(job, amount)} received ({method}).",
             f"Paid {_money(job, job.paid)} of {_money(job, job.total)}; {_money(job, job.remaining)} to go."]
    if job.credit:
        lines.append(f"That is {_money(job, job.credit)} more than the price: you owe {job.customer_name} a credit.")
    return "\n".join(lines)


def credit_owed(job: JobView) -> str:
    return (f"{job.ref} {job.customer_name}: the new price {_money(job, job.total)} is below what was paid "
            f"({_money(job, job.paid)}). You owe a credit of {_money(job, job.credit)}; the customer was told "
            "you will be in touch to settle it.")


def relay(job: JobView, text: str, held: bool = False) -> str:
    """A customer's own words; `held`: sent before they picked this job among the jobs on their phone."""
    when = f", before they picked {job.ref} among the jobs on their phone" if held else ""
    return (f"{job.customer_name} ({job.ref}, {job.title}) texted{when}:\n\n{text}\n\n"
            "Reply to this message to answer by SMS.")


def opted_out(job: JobView) -> str:
    return (f"{job.ref} {job.customer_name} replied STOP: no more texts reach them until they text START. "
            "Payment reminders for this job are paused.")


def opted_in(job: JobView) -> str:
    return f"{job.ref} {job.customer_name} texted START: they get texts again."


def change_accepted(job: JobView) -> str:
    return (f"{job.ref} {job.customer_name} replied YES to the new price {_money(job, job.total)}: "
            "the new amounts are accepted.")


def bank_transfer_started(job: JobView, amount: int) -> str:
    return (f"{job.ref} {job.customer_name} started a bank transfer of {_money(job, amount)}. It settles in a few "
            "business days; until then it shows as processing and no reminders go out for it.")


def bank_transfer_failed(job: JobView, amount: int) -> str:
    return (f"{job.ref} {job.customer_name}: the bank transfer of {_money(job, amount)} did not go through. "
            f"Nothing was received; {job.customer_name} was texted to pay again. "
            f"{_money(job, job.remaining)} is still to be paid.")


def refunded(job: JobView, amount: int) -> str:
    return (f"{job.ref} {job.customer_name}: {_money(job, amount)} was refunded. "
            f"Paid {_money(job, job.paid)} of {_money(job, job.total)}; {_money(job, job.remaining)} to go.")


def payment_disputed(job: JobView, amount: int, reason: str) -> str:
    why = f" (reason: {reason.replace('_', ' ')})" if reason else ""
    return (f"{job.ref} {job.customer_name}'s bank disputes a payment of {_money(job, amount)}{why}. "
            "Answer it in your Stripe dashboard soon: a dispute left unanswered is lost.")
