"""Every text we send a customer first, one function each, in the customer's language.

Each returns GSM-7 of at most MAX_SEGMENTS segments (core.wording.fitting.fit:
names are written as typed and the whole text is made GSM-7 last, "Zoë" →
"Zoe", "Монтаж" → "Montazh"). Amounts use the job's currency, dates the
customer's timezone, both written as the customer's language writes them in
the job's region. Every text starts with the business name, so the customer
knows who is writing, and carries the job's reference.
"""

from collections.abc import Callable

from core.plan import TriggerKind
from core.status import ChangeOrderView, EventView, JobView, MilestoneView, PriceChangeView, Status
from core.wording.fitting import Squeeze, clip, fit
from core.wording.language import _, in_language_of
from core.wording.words import (
    business,
    change_name,
    credit,
    find_event,
    first_name,
    format_day,
    format_when,
    hello,
    job_name,
    label,
    labelled,
    method_words,
    money,
    more,
    paid_so_far,
    reason_words,
    same_name,
    scheduled_at,
    sentence,
    short_name,
    sms_money,
    trigger_words,
)

in_customers_language = in_language_of("language")  # text(job, ...) in the language of the job's customer


def help_line() -> str:
    return _("Reply BAL, NEXT, PLAN or HELP.")


def questions_line() -> str:
    return _("Questions? Just reply to this text.")


# --- The texts -------------------------------------------------------------------------------


@in_customers_language
def consent(job: JobView, *, rates: bool) -> str:
    """The first text a business sends a phone, before any other: who it is, what its texts are for, how to stop
    them and get help; `rates`: in the US, "Msg & data rates may apply" (CTIA; A2P 10DLC registration)."""

    def render(s: Squeeze) -> str:
        text = _("{business}: {hello}you will get texts from us about {job}: your payment plan, payments due, "
                 "receipts and reminders. Reply STOP to opt out, HELP for help.").format(
            business=business(job, s), hello=hello(job, s), job=job_name(job, s))
        return text + (" " + _("Msg frequency varies. Msg & data rates may apply.") if rates else "")

    return fit("consent", render)



@in_customers_language
def plan_summary(job: JobView, link: str) -> str:
    """The plan was sent: what the job costs and every payment with what it is tied to."""
    milestones = job.milestones

    def render(s: Squeeze) -> str:
        lines = [_("{business}: {hello}your payment plan for {job}, total {total}:").format(
            business=business(job, s), hello=hello(job, s), job=job_name(job, s), total=sms_money(job, job.total))]
        for m in milestones[: s.items]:
            paid = _(" - paid") if m.status is Status.PAID else ""
            lines.append(f"- {labelled(m, s)}{sms_money(job, m.amount)} {trigger_words(m, job, s.label)}{paid}")
        lines += more(milestones, s, _("at the link below"))
        lines += [_("See it and pay: {link}").format(link=link), help_line()]
        return "\n".join(lines)

    return fit("plan_summary", render, len(milestones))


@in_customers_language
def payment_due(job: JobView, milestone: MilestoneView, link: str) -> str:
    """A payment has become due: how much, why now, where to pay."""

    def render(s: Squeeze) -> str:
        return _("{business}: {hello}{amount} is now due for {job}{named}. {why}\nPay here: {link}\nThank you!").format(
            business=business(job, s), hello=hello(job, s), amount=sms_money(job, milestone.open_amount),
            job=job_name(job, s), named=_named(job, milestone, s), why=_why(job, milestone, s), link=link)

    return fit("payment_due", render)


@in_customers_language
def reminder(job: JobView, milestone: MilestoneView, link: str, number: int) -> str:
    """A payment is overdue: the `number`th gentle nudge."""
    kind = {1: _("a friendly reminder"), 2: _("a second friendly reminder"), 3: _("a third reminder"),
            4: _("a fourth reminder"), 5: _("a fifth reminder")}.get(number, _("another reminder"))

    def render(s: Squeeze) -> str:
        amount, job_words = sms_money(job, milestone.open_amount), job_name(job, s)
        if milestone.due_at:
            still_open = _("{amount} for {job} was due {day} and is still open").format(
                amount=amount, job=job_words, day=format_day(milestone.due_at, job))
        else:
            still_open = _("{amount} for {job} is still open").format(amount=amount, job=job_words)
        return _("{business}: {hello}{reminder} that {still_open}{named}.\nPay here: {link}\n"
                 "Already paid, or a question? Just reply to this text.").format(
            business=business(job, s), hello=hello(job, s), reminder=kind, still_open=still_open,
            named=_named(job, milestone, s), link=link)

    return fit("reminder", render)


@in_customers_language
def receipt(job: JobView, amount: int, method: str, link: str) -> str:
    """A payment was received; `job` is as it stands after it."""
    how = method_words(method)

    def render(s: Squeeze) -> str:
        name = first_name(job, s)
        thanks = _("Thank you, {name}!").format(name=name) if name else _("Thank you!")
        received = (_("We received {amount} ({method}) for {job}.") if how else _("We received {amount} for {job}."))
        lines = [f"{business(job, s)}: {thanks} "
                 + received.format(amount=sms_money(job, amount), method=how, job=job_name(job, s)),
                 paid_so_far(job)]
        if job.remaining and job.next:
            lines.append(_next_line(job, job.next, s))
        lines.append(_("Details: {link}").format(link=link))
        return "\n".join(lines)

    return fit("receipt", render)


@in_customers_language
def change_order(job: JobView, change: PriceChangeView, order: ChangeOrderView, link: str,
                 replacing: ChangeOrderView | None = None) -> str:
    """A change order (core.change_orders): the old and new price, why, what is paid, the payments as they would
    be; asks YES or NO before it expires. `replacing`: the change order sent before, which this one replaces."""
    ask = _("Reply YES to approve or NO to decline. Details: {link}").format(link=link)
    replaces = sentence(_("It replaces our change of {day}").format(day=format_day(replacing.sent_at, job))) \
        if replacing is not None else ""

    def closing(s: Squeeze) -> str:  # squeezed to no payment listed, the page says what it replaces
        return f"{replaces}\n{ask}" if replaces and s.items != 0 else ask

    return _price_change("change_order", job, change, closing, proposed=True)


@in_customers_language
def plan_changed(job: JobView, change: PriceChangeView, link: str, *, because: str) -> str:
    """The contractor applied a price change without the customer's approval, saying why (core.change_orders):
    the old and new price, why, what is paid, the new open payments."""
    def closing(s: Squeeze) -> str:  # squeezed to no payment listed, the page gives the reason
        if s.items == 0:
            return _("Applied without your reply: the reason is at {link}").format(link=link)
        given = _("Applied without your reply because: {because}").format(because=clip(because, s.title))
        return sentence(given) + "\n" + _("Details: {link}").format(link=link)

    return _price_change("plan_changed", job, change, closing, proposed=False)


@in_customers_language
def change_order_reminder(job: JobView, order: ChangeOrderView, link: str) -> str:
    """A change order waiting for the customer's answer, halfway to expiring."""
    return fit("change_order_reminder", lambda s: _(
        "{business}: {hello}a reminder: the price change for {job} from {old} to {new} waits for your answer until "
        "{day}").format(business=business(job, s), hello=hello(job, s), job=job_name(job, s),
                        old=sms_money(job, order.old_total), new=sms_money(job, order.new_total),
                        day=format_day(order.expires_at, job)) + ".\n" + _(
        "Reply YES to approve or NO to decline. Details: {link}").format(link=link))


def change_order_page(job: JobView, change: PriceChangeView, order: ChangeOrderView) -> str:
    """The words the page shows about a change order waiting for the customer's answer, over Approve and Decline:
    what is kept as the words they answered to. Not an SMS: nothing is squeezed."""
    lines = [_("Change order {number}: the price for {job} from {old} to {new}.").format(
        number=order.number, job=job.title, old=money(job, change.old_total), new=money(job, change.new_total))]
    if change.reason:
        lines.append(sentence(reason_words(change.reason)))
    lines.append(_("Already paid: {paid}.").format(paid=money(job, change.paid)))
    lines.append(_("Your payments would be:"))
    for c in change.changes:
        lines.append(f"- {change_name(c)}: {_amounts(job, c, money)}")
    if change.credit:
        lines.append(_("You would have a credit of {credit}.").format(credit=money(job, change.credit)))
    lines.append(_("Until you answer, the plan stays as it is. Answer by {day}.").format(
        day=format_day(order.expires_at, job)))
    return "\n".join(lines)


def _price_change(name: str, job: JobView, change: PriceChangeView, closing: Callable[[Squeeze], str], *,
                  proposed: bool) -> str:
    """A price change's text: proposed (the payments as they would be) or applied (as they are now), ending with
    `closing` as squeezed."""
    # The milestones still open before the change: those are the ones the customer will pay.
    open_changes = tuple(c for c in change.changes if c.paid < c.old or c.paid < c.new)

    def render(s: Squeeze) -> str:
        reason = clip(reason_words(change.reason), s.title)
        prices = dict(business=business(job, s), hello=hello(job, s), job=job_name(job, s),
                      old=sms_money(job, change.old_total), new=sms_money(job, change.new_total))
        if proposed and reason:
            opening = _("{business}: {hello}please approve a new price for {job}, from {old} to {new}: {reason}")
        elif proposed:
            opening = _("{business}: {hello}please approve a new price for {job}, from {old} to {new}.")
        elif reason:
            opening = _("{business}: {hello}the price for {job} changed from {old} to {new}: {reason}")
        else:
            opening = _("{business}: {hello}the price for {job} changed from {old} to {new}.")
        lines = [opening.format(reason=sentence(reason), **prices),
                 _("Already paid: {paid}.").format(paid=sms_money(job, change.paid))]
        if open_changes[: s.items]:
            lines.append(_("Your payments would be:") if proposed else _("Your payments now:"))
        for c in open_changes[: s.items]:
            lines.append(f"- {change_name(c, s.label)}: {_amounts(job, c, sms_money)}")
        lines += more(open_changes, s, _("at the link below"))
        if change.credit:
            lines.append(_("You would have a credit of {credit}.").format(credit=sms_money(job, change.credit))
                         if proposed else credit(job, change.credit))
        lines.append(closing(s))
        return "\n".join(lines)

    return fit(name, render, len(open_changes))


def _amounts(job: JobView, c, say) -> str:
    """A payment's old and new amount ("$1,000.00 -> $1,100.00"), and what of it is paid."""
    amount = say(job, c.new) if c.new == c.old else f"{say(job, c.old)} -> {say(job, c.new)}"
    if c.paid and c.paid >= c.new:
        return amount + " " + _("(paid)")
    if c.paid:
        return amount + " " + _("({paid} paid)").format(paid=say(job, c.paid))
    return amount


@in_customers_language
def credit_owed(job: JobView) -> str:
    """More was paid than the job now costs: the credit, and that the contractor will settle it."""

    def render(s: Squeeze) -> str:
        return _("{business}: {hello}the price for {job} is now {total} and you have paid {paid}. {credit}\n"
                 "{questions}").format(business=business(job, s), hello=hello(job, s), job=job_name(job, s),
                                       total=sms_money(job, job.total), paid=sms_money(job, job.paid),
                                       credit=credit(job), questions=questions_line())

    return fit("credit_owed", render)


@in_customers_language
def bank_transfer_failed(job: JobView, amount: int, link: str) -> str:
    """A bank transfer the customer started did not go through: nothing was taken, and how to pay again."""

    def render(s: Squeeze) -> str:
        return _("{business}: {hello}your bank transfer of {amount} for {job} did not go through, so nothing was "
                 "taken. Please pay again here: {link}\n{questions}").format(
            business=business(job, s), hello=hello(job, s), amount=sms_money(job, amount), job=job_name(job, s),
            link=link, questions=questions_line())

    return fit("bank_transfer_failed", render)


@in_customers_language
def refunded(job: JobView, amount: int, link: str) -> str:
    """Money went back to the customer; `job` is as it stands after it: what they owe again, if anything."""

    def render(s: Squeeze) -> str:
        lines = [_("{business}: {hello}we refunded {amount} for {job}.").format(
            business=business(job, s), hello=hello(job, s), amount=sms_money(job, amount), job=job_name(job, s))]
        if job.remaining:
            lines.append(paid_so_far(job))
            if job.due_now:
                lines.append(_("Due now: {amount}.").format(amount=sms_money(job, job.due_now_amount)))
        lines.append(_("Details: {link}").format(link=link))
        return "\n".join(lines)

    return fit("refunded", render)


@in_customers_language
def event_moved(job: JobView, event: EventView) -> str:
    """An event was rescheduled: its new date, and the new due date of each payment due before it."""
    tied = tuple(
        m for m in job.milestones
        if m.trigger.kind is TriggerKind.BEFORE and same_name(m.trigger.event, event.name) and m.open_amount
    )

    def render(s: Squeeze) -> str:
        at = event.scheduled_at and format_when(event.scheduled_at, job, event.date_only)  # a day: the day alone
        words = dict(business=business(job, s), hello=hello(job, s), event=clip(event.name, s.label),
                     job=job_name(job, s))
        lines = [sentence(_("{business}: {hello}{event} for {job} has moved to {when}").format(when=at, **words))
                 if at else _("{business}: {hello}{event} for {job} has moved.").format(**words)]
        if tied:
            lines.append(_("New due date for the payment before it:") if len(tied) == 1
                         else _("New due dates for the payments before it:"))
        for m in tied[: s.items]:
            due_at = m.due_at or (event.scheduled_at - m.trigger.lead if event.scheduled_at else None)
            name = short_name(m, s.label)
            due = _(", due {day}").format(day=format_day(due_at, job)) if due_at else ""
            lines.append(f"- {name}: {sms_money(job, m.open_amount)}{due}")
        lines += more(tied, s, _("(reply PLAN to see them)"))
        lines.append(questions_line())
        return "\n".join(lines)

    return fit("event_moved", render, len(tied))


# --- Words -------------------------------------------------------------------------------------


def _why(job: JobView, m: MilestoneView, s: Squeeze) -> str:
    """Why a payment is due now, as a sentence."""
    trigger = m.trigger
    if trigger.kind is TriggerKind.NOW:
        return _("It is the deposit that gets the job started.")
    if trigger.kind is TriggerKind.DATE:
        return sentence(_("It was agreed for {day}").format(day=format_day(trigger.on, job)))
    event = clip(trigger.event, s.label)
    if trigger.kind is TriggerKind.BEFORE:
        scheduled = m.event_at or scheduled_at(job, trigger.event)
        if scheduled:
            return sentence(_("{event} is coming up on {day}").format(event=event, day=format_day(scheduled, job)))
        return _("{event} is coming up.").format(event=event)
    done = find_event(job, trigger.event)
    if trigger.net_days and done and done.done_at:
        return sentence(_("{event} was done on {day}").format(event=event, day=format_day(done.done_at, job)))
    return _("{event} is done.").format(event=event)


def _next_line(job: JobView, m: MilestoneView, s: Squeeze) -> str:
    if m.is_due(job.now):
        return _("Now due: {label}, {amount}.").format(label=short_name(m, s.label),
                                                      amount=sms_money(job, m.open_amount))
    name = label(m, s.label)
    words = dict(amount=sms_money(job, m.open_amount), when=trigger_words(m, job, s.label))
    return (_("Next: {label}, {amount} {when}.").format(label=name, **words) if name
            else _("Next: {amount} {when}.").format(**words))


def _named(job: JobView, m: MilestoneView, s: Squeeze) -> str:
    """": Deposit" after a sentence about the payment, and what was already paid on it."""
    name = label(m, s.label)
    paid = _("({amount} already paid)").format(amount=sms_money(job, m.paid)) if m.paid else ""
    if name:
        return f": {name} {paid}".rstrip()
    return f" {paid}" if paid else ""

