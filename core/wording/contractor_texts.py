"""What the contractor is told in Telegram when no message of theirs is being answered: a payment received, a
customer's text, a bank transfer that failed. In the contractor's language; not bound by SMS limits, but just as
short. Each line opens with the job's reference and the customer's name, so a busy chat stays readable."""

from datetime import datetime
from functools import wraps

from babel.dates import format_time

from core.status import JobView
from core.wording.language import NAMES, _, localized, speaking
from core.wording.words import method_words, money, plain_spaces


def in_contractors_language(text):
    """`text(job, ...)` written in the language of the job's contractor."""

    @wraps(text)
    def written(job: JobView, *args, **kwargs) -> str:
        with speaking(job.business_language):
            return text(job, *args, **kwargs)

    return written


def paid_of_total(job: JobView) -> str:
    """"Paid $1,000.00 of $4,000.00; $3,000.00 to go." — where a job stands, for the contractor; with a credit,
    what was paid and the price, as the credit is said next."""
    if job.credit:
        return _("Paid {paid}; the price is {total}.").format(paid=money(job, job.paid), total=money(job, job.total))
    return _("Paid {paid} of {total}; {remaining} to go.").format(
        paid=money(job, job.paid), total=money(job, job.total), remaining=money(job, job.remaining))


@in_contractors_language
def payment_received(job: JobView, amount: int, method: str) -> str:
    lines = [_("{ref} {customer}: {amount} received ({method}).").format(
        ref=job.ref, customer=job.customer_name, amount=money(job, amount), method=method_words(method)),
        paid_of_total(job)]
    if job.credit:
        lines.append(_("That is {credit} more than the price: you owe {customer} a credit.").format(
            credit=money(job, job.credit), customer=job.customer_name))
    return "\n".join(lines)


@in_contractors_language
def credit_owed(job: JobView) -> str:
    return _("{ref} {customer}: the new price {total} is below what was paid ({paid}). You owe a credit of "
             "{credit}; the customer was told you will be in touch to settle it.").format(
        ref=job.ref, customer=job.customer_name, total=money(job, job.total), paid=money(job, job.paid),
        credit=money(job, job.credit))


@in_contractors_language
def relay(job: JobView, text: str, held: bool = False) -> str:
    """A customer's own words; `held`: sent before they picked this job among the jobs on their phone."""
    who = dict(customer=job.customer_name, ref=job.ref, title=job.title)
    said = (_("{customer} ({ref}, {title}) texted, before they picked {ref} among the jobs on their phone:")
            if held else _("{customer} ({ref}, {title}) texted:")).format(**who)
    return f"{said}\n\n{text}\n\n" + _("Reply to this message to answer by SMS.")


@in_contractors_language
def opted_out(job: JobView) -> str:
    return _("{ref} {customer} replied STOP: no more texts reach them until they text START. Payment reminders "
             "for this job are paused.").format(ref=job.ref, customer=job.customer_name)


@in_contractors_language
def opted_in(job: JobView) -> str:
    return _("{ref} {customer} texted START: they get texts again.").format(ref=job.ref, customer=job.customer_name)


@in_contractors_language
def language_set(job: JobView) -> str:
    return _("{ref} {customer} asked for texts in {language}: their texts and payment page are in it from now "
             "on.").format(ref=job.ref, customer=job.customer_name, language=_(NAMES[job.language]))


@in_contractors_language
def change_accepted(job: JobView) -> str:
    return _("{ref} {customer} replied YES to the new price {total}: the new amounts are accepted.").format(
        ref=job.ref, customer=job.customer_name, total=money(job, job.total))


@in_contractors_language
def bank_transfer_started(job: JobView, amount: int) -> str:
    return _("{ref} {customer} started a bank transfer of {amount}. It settles in a few business days; until "
             "then it shows as processing and no reminders go out for it.").format(
        ref=job.ref, customer=job.customer_name, amount=money(job, amount))


@in_contractors_language
def bank_transfer_failed(job: JobView, amount: int) -> str:
    return _("{ref} {customer}: the bank transfer of {amount} did not go through. Nothing was received; "
             "{customer} was texted to pay again. {remaining} is still to be paid.").format(
        ref=job.ref, customer=job.customer_name, amount=money(job, amount), remaining=money(job, job.remaining))


@in_contractors_language
def refunded(job: JobView, amount: int) -> str:
    return _("{ref} {customer}: {amount} was refunded.").format(
        ref=job.ref, customer=job.customer_name, amount=money(job, amount)) + " " + paid_of_total(job)


@in_contractors_language
def payment_disputed(job: JobView, amount: int, reason: str) -> str:
    words = dict(ref=job.ref, customer=job.customer_name, amount=money(job, amount), reason=reason.replace("_", " "))
    disputed = (_("{ref} {customer}'s bank disputes a payment of {amount} (reason: {reason}).") if reason
                else _("{ref} {customer}'s bank disputes a payment of {amount}.")).format(**words)
    return disputed + " " + _("Answer it in your Stripe dashboard soon: a dispute left unanswered is lost.")


@in_contractors_language
def unpaid_before_event(job: JobView, event: str, at: datetime | None, open_amount: int) -> str:
    """A day ahead: the payment due before an event is not paid; `at`: its time where the contractor is, or
    None for an event on a day with no time of day."""
    words = dict(ref=job.ref, customer=job.customer_name, event=event, amount=money(job, open_amount),
                 at=plain_spaces(format_time(at, "short", locale=localized(job.locale))) if at else "")
    warning = (_("{ref} {customer}: {event} is at {at} tomorrow, and the {amount} due before it is not paid yet.")
               if at else _("{ref} {customer}: {event} is tomorrow, and the {amount} due before it is not paid yet."))
    return f"{warning.format(**words)} /job {job.ref}"
