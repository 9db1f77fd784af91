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
