"""The answers to what a customer texts us, one function each, in the customer's language (the webhook sends them
back as TwiML).

Held to the same rules as the texts we send (core.wording.customer_texts):
GSM-7, at most MAX_SEGMENTS segments, squeezed the same way when names are
long. A reply answers the customer's own text, so it need not open with the
business name, but it always names the job it is about: "Kitchen countertops
(J-7K2Q)".

A plan the contractor has not sent yet is a draft: until it is sent, every
reply says there is no plan yet, as the customer has not seen it.
"""

from dataclasses import replace

from core.status import ChangeOrderView, JobView
from core.wording.customer_texts import in_customers_language
from core.wording.fitting import Squeeze, clean, fit, sms_name
from core.wording.language import _, speaking
from core.wording.words import (
    business,
    credit,
    format_day,
    format_phone,
    held_back,
    job_name,
    label,
    labelled,
    more,
    paid_so_far,
    payments,
    sentence,
    short_name,
    sms_money,
    state_words,
    trigger_words,
    who,
)

MAX_CHOICES = 9  # a customer picks a job with one digit


def commands_line() -> str:
    return _("Reply BAL, NEXT, PLAN or PAY.")


def commands_explained() -> str:
    return _("Text BAL for your balance, NEXT for the next payment, PLAN for all payments, PAY for the payment "
             "link, STOP to stop texts.")


@in_customers_language
def balance(job: JobView, link: str) -> str:
    """BAL: paid so far, what remains of the total, what retainage holds back, what is due now, any credit; and the
    link."""
    job = _as_sent(job)
    due = job.due_now

    def render(s: Squeeze) -> str:
        lines = [_("Balance for {job}:").format(job=job_name(job, s)), paid_so_far(job)]
        if job.paid and not job.remaining and not job.credit:
            lines[-1] += " " + _("Thank you!")
        if job.held_back:
            lines.append(sentence(held_back(job, s.label)))
        if job.remaining:
            lines.append(_("Due now: {amount}{which}.").format(amount=sms_money(job, job.due_now_amount),
                                                               which=_due_now(job, s)) if due
                         else _("Nothing is due right now."))
            if job.processing:
                on_its_way = sum(m.open_amount for m in job.processing)
                lines.append(_("On its way: {amount} by bank transfer (processing).").format(
                    amount=sms_money(job, on_its_way)))
        if job.change_order:
            lines.append(_change_waiting(job))
        lines.append((_("Pay here: {link}") if due else _("Details: {link}")).format(link=link))
        return "\n".join(lines)

    return fit("balance", render)


@in_customers_language
def next_payment(job: JobView) -> str:
    """NEXT: the next payment, its amount and the event or date it is tied to; or that all is paid."""
    job = _as_sent(job)
    m = job.next

    def render(s: Squeeze) -> str:
        if not job.milestones:
            return _no_plan_yet(job, s)
        if m is None:
            return _("{job} is all paid - nothing more to pay. Thank you!").format(job=job_name(job, s)) + _credit(job)
        words = dict(job=job_name(job, s), amount=sms_money(job, m.open_amount))
        if m.is_due(job.now):
            return _("Next payment for {job}: {amount}{named}, due now. Reply PAY for the link.").format(
                named=_bracketed(short_name(m, s.label)), **words)
        words["named"] = _bracketed(label(m, s.label))
        return sentence(_("Next payment for {job}: {amount}{named} {when}").format(
            when=trigger_words(m, job, s.label), **words))

    return fit("next_payment", render)


@in_customers_language
def plan(job: JobView, link: str) -> str:
    """PLAN: every milestone with its amount, what it is tied to, and its state; what retainage holds back when a
    squeeze left it out."""
    job = _as_sent(job)
    milestones = job.milestones

    def render(s: Squeeze) -> str:
        if not milestones:
            return f"{_no_plan_yet(job, s)}\n" + _("Details: {link}").format(link=link)
        lines = [_("Payment plan for {job}, total {total}:").format(job=job_name(job, s),
                                                                     total=sms_money(job, job.total))]
        for m in milestones[: s.items]:
            lines.append(f"- {labelled(m, s)}{sms_money(job, m.amount)} {trigger_words(m, job, s.label)} "
                         f"- {state_words(m, job)}")
        lines += more(milestones, s, _("at the link"))
        if job.held_back and job.held_back not in milestones[: s.items]:  # its own line says it when listed
            lines.append(sentence(held_back(job, s.label)))
        lines.append(_("See it and pay: {link}").format(link=link))
        return "\n".join(lines)

    return fit("plan", render, len(milestones))


@in_customers_language
def pay(job: JobView, link: str) -> str:
    """PAY: the link and what is due now; or that nothing is due, and when the next payment comes."""
    job = _as_sent(job)
    due, m = job.due_now, job.next

    def render(s: Squeeze) -> str:
        if due:
            return _("{job}: {amount} is due now{which}.\nPay here: {link}\nThank you!").format(
                job=job_name(job, s), amount=sms_money(job, job.due_now_amount), which=_due_now(job, s), link=link)
        details = _("Details: {link}").format(link=link)
        if not job.milestones:
            return f"{_('Nothing is due right now.')} {_no_plan_yet(job, s)}\n{details}"
        if m is None:
            paid = _("{job} is paid in full - nothing to pay. Thank you!").format(job=job_name(job, s))
            return f"{paid}{_credit(job)}\n{details}"
        upcoming = sentence(_("The next payment is {amount}{named} {when}").format(
            amount=sms_money(job, m.open_amount), named=_bracketed(label(m, s.label)),
            when=trigger_words(m, job, s.label)))
        return _("{job}: Nothing is due right now. {upcoming}\nThe plan and how to pay: {link}").format(
            job=job_name(job, s), upcoming=upcoming, link=link)

    return fit("pay", render)


def help(job: JobView | None, language: str | None = None) -> str:
    """HELP: the commands; with a job, who the contractor is and how to reach them."""
    if job is None:
        with speaking(language):
            return fit("help", lambda s: commands_explained())
    return _help(job)


@in_customers_language
def _help(job: JobView) -> str:
    def render(s: Squeeze) -> str:
        contact = ", ".join(part for part in (sms_name(job.business_name, s.business), _phone(job)) if part)
        if not contact:
            return commands_explained() + "\n" + _(
                "Anything else you text about {job} goes to your contractor.").format(job=job_name(job, s))
        return commands_explained() + "\n" + _(
            "Your contractor for {job}: {contact}.\nAnything else you text is passed on to them.").format(
            job=job_name(job, s), contact=contact)

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
        if several:
            which = _("Which business is your message for?") if held else _("Which business is your text for?")
            if s.business is None or s.business > _SHORT_HEADER:
                which = _("Your number has jobs with {n} businesses.").format(n=businesses) + " " + which
            lines = [which] + [f"{n}. {_business_job(j, s)}" for n, j in enumerate(listed, start=1)]
        else:
            which = (_("Which job with {business} is your message about?") if held
                     else _("Which job with {business} is your text about?"))
            lines = [which.format(business=who(jobs[0], s))]
            lines += [f"{n}. {job_name(j, s)}" for n, j in enumerate(listed, start=1)]
        if len(jobs) > len(listed):
            lines.append(_("+{n} more not listed here.").format(n=len(jobs) - len(listed)))
        lines.append(_("Reply with the number and we will pass your message on.") if held
                     else _("Reply with the number, then BAL, NEXT, PLAN or PAY."))
        return "\n".join(lines)

    # Every job stays listed, so the numbers mean the same whatever the squeeze: names are cut instead.
    with speaking(jobs[0].language):  # the phone's: every job on it has the same customer language
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
    return _("{business}, job {ref}").format(business=name, ref=job.ref) if name else _("job {ref}").format(ref=job.ref)


@in_customers_language
def chosen(job: JobView, passed_on: int = 0) -> str:
    """The customer picked a job by its number; `passed_on` messages they sent before picking went to its business."""

    def render(s: Squeeze) -> str:
        if not passed_on:
            return _("OK: {job} with {business}.").format(job=job_name(job, s), business=who(job, s)) + \
                " " + commands_line()
        what = _("your message") if passed_on == 1 else _("your {n} messages").format(n=passed_on)
        return _("OK: {job}. We passed {what} on to {business}.").format(
            job=job_name(job, s), what=what, business=who(job, s)) + " " + commands_line()

    return fit("chosen", render)


def unknown_number(language: str | None = None) -> str:
    """A phone that belongs to no job: it learns nothing about any job, customer or contractor."""
    with speaking(language):
        return fit("unknown_number", lambda s: _(
            "Sorry, this number is not linked to a job with us. If you expected a text from a contractor, please "
            "contact them directly."))


def slow_down(language: str | None = None) -> str:
    """A phone texting faster than we answer (core.inbound): said once, then its texts get no answer for a while."""
    with speaking(language):
        return fit("slow_down", lambda s: _(
            "We got your texts and will answer again in a few minutes. Anything you wrote is passed on. STOP and "
            "START always work."))


@in_customers_language
def relayed(job: JobView) -> str:
    """Free text was passed on to the contractor."""
    return fit("relayed", lambda s: _("Thanks, we passed your message about {job} to {business}. They will reply "
                                      "soon.").format(job=job_name(job, s), business=who(job, s)))


def opted_in(job: JobView | None, language: str | None = None) -> str:
    """START after a STOP: texts resume."""
    if job is None:
        with speaking(language):
            return fit("opted_in", lambda s: _("You are subscribed again: texts about your jobs will resume. "
                                               "Reply STOP to stop them again, HELP for help."))
    return _opted_in(job)


@in_customers_language
def _opted_in(job: JobView) -> str:
    return fit("opted_in", lambda s: _(
        "You are subscribed again: texts about {job} from {business} will resume. Reply STOP to stop them again, "
        "HELP for help.").format(job=job_name(job, s), business=who(job, s)))


def language_set(job: JobView | None, language: str) -> str:
    """ESPAÑOL or ENGLISH: from now on the customer's texts, answers and page are in that language."""
    with speaking(language):
        if job is None:
            return fit("language_set", lambda s: _("OK: from now on we text you in English. Text ESPAÑOL for "
                                                   "Spanish."))
        return fit("language_set", lambda s: _("OK: from now on we text you in English about {job}. Text ESPAÑOL "
                                               "for Spanish.").format(job=job_name(job, s)))


@in_customers_language
def change_approved(job: JobView) -> str:
    """YES to a change order: the new price applies (`job` as it stands after), and the contractor was told."""

    def render(s: Squeeze) -> str:
        if job.credit:
            where = _("total {total}, paid {paid}.").format(total=sms_money(job, job.total),
                                                           paid=sms_money(job, job.paid)) + _credit(job)
        else:
            where = _("total {total}, remaining {remaining}.").format(total=sms_money(job, job.total),
                                                                      remaining=sms_money(job, job.remaining))
        return _("Thank you! You approved the new price for {job}: {where}\n{business} has been told. "
                 "Reply PLAN to see every payment.").format(job=job_name(job, s), where=where,
                                                             business=business(job, s))

    return fit("change_approved", render)


@in_customers_language
def change_declined(job: JobView) -> str:
    """NO to a change order: the price stays, and the contractor was told."""
    return fit("change_declined", lambda s: _(
        "OK, you declined the price change for {job}: the price stays {total}. {business} has been told and may "
        "be in touch.").format(job=job_name(job, s), total=sms_money(job, job.total), business=business(job, s)))


@in_customers_language
def change_closed(job: JobView, order: ChangeOrderView) -> str:
    """YES or NO to a change order that can no longer be answered: it expired, or the contractor replaced,
    applied or withdrew it."""
    def render(s: Squeeze) -> str:
        said = dict(job=job_name(job, s), total=sms_money(job, job.total), business=business(job, s))
        if order.state == "expired":
            return _("The price change for {job} expired on {day}, so the price stays {total}. {business} can send it "
                     "again.").format(day=format_day(order.answered_at, job), **said)
        return _("That price change for {job} is closed: the price is {total}.").format(**said)

    return fit("change_closed", render)


@in_customers_language
def nothing_to_accept(job: JobView) -> str:
    """YES when no change order waits for an answer."""
    return fit("nothing_to_accept", lambda s: _(
        "Thanks! There is nothing to approve for {job}: no price change is waiting for your answer. {commands} Or "
        "HELP for more.").format(job=job_name(job, s), commands=commands_line()))


# --- Words -------------------------------------------------------------------------------------


def _as_sent(job: JobView) -> JobView:
    """The job as the customer knows it: a plan not sent yet is the contractor's draft, not shown."""
    return job if job.plan_sent else replace(job, milestones=())


def _no_plan_yet(job: JobView, s: Squeeze) -> str:
    return _("No plan yet for {job}. {business} will text it to you when it is ready.").format(
        job=job_name(job, s), business=business(job, s))


def _change_waiting(job: JobView) -> str:
    return _("A price change from {old} to {new} waits for your YES or NO.").format(
        old=sms_money(job, job.change_order.old_total), new=sms_money(job, job.change_order.new_total))


def _credit(job: JobView) -> str:
    return " " + credit(job) if job.credit else ""


def _bracketed(words: str) -> str:
    return f" ({words})" if words else ""


def _due_now(job: JobView, s: Squeeze) -> str:
    """" (Removal)" after the amount due now, or " (2 payments)" when it is more than one."""
    due = job.due_now
    if len(due) > 1:
        return _bracketed(payments(len(due)))
    return _bracketed(short_name(due[0], s.label))


def _phone(job: JobView) -> str:
    """"(202) 555-0199": the contractor's phone as the customer dials it, written as their page writes it."""
    return clean(format_phone(clean(job.business_phone), job))

