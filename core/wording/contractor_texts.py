"""Every sentence the contractor reads in Telegram, one function or one marked constant each.

Two kinds. Notices, sent when no message of theirs is being answered (a payment
received, a customer's text, a bank transfer that failed): each is written in
the language stored for the job's contractor (`in_contractors_language`). And
the bot's own words (its replies, questions, buttons, refusals and the command
menu): written in the language being spoken, which the bot's handlers set to
the contractor's Telegram app's (bot/handlers.py, `speaking`). The bot asks for
a message by name with its data and builds no sentence itself.

Not bound by SMS limits, but just as short. A notice opens with the job's
reference and the customer's name, so a busy chat stays readable. Amounts,
dates, triggers and states are said with core.wording.words, as the customer's
texts say them.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time

from core.reach import Reach
from core.status import ChangeOrderView, EventView, JobView, MilestoneView, PriceChangeView, Status
from core.wording.language import LANGUAGES, N_, NAMES, _, in_language_of, localized, ngettext
from core.wording.words import (
    STATES,
    change_name,
    due_when,
    format_day,
    format_when,
    held_back,
    labelled,
    method_words,
    money,
    plain_spaces,
    reason_words,
    trigger_words,
)


def texted(job: JobView, reach: Reach, what: str) -> str:
    """What became of a text to the customer carrying `what` ("the amount and the payment link"): sent, held
    for their quiet hours until a time, or not sent at all because they replied STOP. Never "was texted"
    when they were not (core/reach.py)."""
    if reach.opted_out_at:
        return _("Not texted: {customer} replied STOP on {day}; send them {what} another way.").format(
            customer=job.customer_name, day=format_day(reach.opted_out_at, job), what=what)
    if reach.held_until:
        return _("{customer} will be texted {what} at {time} their time, after their quiet hours.").format(
            customer=job.customer_name, what=what, time=format_when(reach.held_until, job))
    return _("{customer} was texted {what}.").format(customer=job.customer_name, what=what)


in_contractors_language = in_language_of("business_language")  # text(job, ...) in the job's contractor's


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
def credit_owed(job: JobView, reach: Reach) -> str:
    return _("{ref} {customer}: the new price {total} is below what was paid ({paid}). You owe a credit of "
             "{credit}.").format(ref=job.ref, customer=job.customer_name, total=money(job, job.total),
                                 paid=money(job, job.paid), credit=money(job, job.credit)) + " " + texted(
        job, reach, _("that you will be in touch to settle it"))


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
def bank_transfer_started(job: JobView, amount: int) -> str:
    return _("{ref} {customer} started a bank transfer of {amount}. It settles in a few business days; until "
             "then it shows as processing and no reminders go out for it.").format(
        ref=job.ref, customer=job.customer_name, amount=money(job, amount))


@in_contractors_language
def bank_transfer_failed(job: JobView, amount: int, reach: Reach) -> str:
    return _("{ref} {customer}: the bank transfer of {amount} did not go through. Nothing was received; "
             "{remaining} is still to be paid.").format(ref=job.ref, customer=job.customer_name,
                                                        amount=money(job, amount),
                                                        remaining=money(job, job.remaining)) + " " + texted(
        job, reach, _("a link to pay again"))


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


# --- The bot's commands: each one's one-line form, what it does, and its questions ----------------------------
# Written here with N_ and said with _() where they are shown. A one-line form is an example a contractor may
# copy: in another language its names and words are that language's, its syntax the same ("{ref}" is the job's
# reference, EXAMPLE_REF in /help); a form with no words in it is not a sentence and stays as it is.

EXAMPLE_REF = "J-7K2Q"

USAGES = {
    "start": "/start",
    "newjob": N_("/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000"),
    "event": N_("/event {ref} Measurement, tomorrow 9am"),
    "plan": N_("/plan {ref} 25% before measurement, 25% after removal, 50% after installation"),
    "send": "/send {ref}",
    "done": N_("/done {ref} Installation"),
    "move": N_("/move {ref} Installation, Friday 8am"),
    "cancelevent": N_("/cancelevent {ref} Removal, move to Installation"),
    "paid": N_("/paid {ref} 1000 cash"),
    "price": "/price {ref} 4850",
    "add": N_("/add {ref} Undermount sink, $350"),
    "remove": N_("/remove {ref} Undermount sink"),
    "jobs": "/jobs",
    "job": "/job {ref}",
    "link": "/link {ref}",
    "export": "/export {ref}",
    "apply": N_("/apply {ref} signed on paper"),
    "invite": "/invite",
    "payments": "/payments",
    "profile": N_("/profile phone (415) 555-0100"),
    "help": "/help",
}

SUMMARIES = {
    "start": N_("register"),
    "newjob": N_("a new job"),
    "event": N_("add an event to a job"),
    "plan": N_("set the payment plan (you see it before the customer does)"),
    "send": N_("text the plan to the customer"),
    "done": N_("mark an event done: its payment falls due"),
    "move": N_("reschedule an event"),
    "cancelevent": N_("cancel an event; its payments move to another event or fall due now"),
    "paid": N_("record a payment"),
    "price": N_("set a new total (preview first)"),
    "add": N_("add a line item (preview first)"),
    "remove": N_("remove a line item (preview first)"),
    "jobs": N_("your active jobs"),
    "job": N_("a job's card: timeline and buttons"),
    "link": N_("the customer's payment page"),
    "export": N_("a job's paper trail as a spreadsheet (CSV file)"),
    "apply": N_("apply a job's change order without the customer's approval, saying why"),
    "invite": N_("invite someone to use this Paystage (its owner only)"),
    "payments": N_("take payments online: set up your Stripe account"),
    "profile": N_("your business name, phone, timezone, currency..."),
    "help": N_("this list"),
}
CANCEL_SUMMARY = N_("stop what we are doing")

# The questions a command sent bare asks, one at a time.
ASK_JOB = N_("Which job?")
ASK_CUSTOMER = N_("The customer's name?")
ASK_PHONE = N_("Their mobile number (they get texts)?")
ASK_TITLE = N_("What is the job? e.g. Kitchen countertops")
ASK_PRICE = N_("The price? e.g. $4,000")
ASK_EVENT = N_("The event's name? e.g. Measurement")
ASK_WHEN = N_("When? e.g. tomorrow 9am (or - if not scheduled yet)")
ASK_PLAN = N_("The plan? e.g. 25% before measurement, 25% after removal, 50% after installation")
ASK_DONE = N_("Which event is done?")
ASK_MOVES = N_("Which event moves?")
ASK_TO_WHEN = N_("To when?")
ASK_CANCELLED = N_("Which event is cancelled?")
ASK_PAYMENTS_GO = N_("Its payments: due now, or moved to another event?")
ASK_AMOUNT_PAID = N_("How much was paid?")
ASK_METHOD = N_("How?")
ASK_NEW_TOTAL = N_("The new total?")
ASK_ADDED = N_("What is added?")
ASK_ADDED_AMOUNT = N_("For how much?")
ASK_REMOVED = N_("Which line item goes?")
ASK_BECAUSE = N_("Why does it apply without the customer's approval? e.g. signed on paper (kept for the record, "
                 "and the customer is told)")
ASK_PROFILE_PART = N_("What do you want to change?")
ASK_PROFILE_VALUE = N_("The new value?")
ASK_BUSINESS = N_("What is your business called? Customers see it on every text.")  # a new contractor's /start

# What the buttons under the bot's messages say.
BUTTONS = {
    "send": N_("Send to customer"),
    "send_plan": N_("Send plan to customer"),
    "apply": N_("Apply"),
    "send_change": N_("Send for approval"),
    "replace_change": N_("Replace change order {number}"),
    "after_change": N_("Send once {number} is answered"),
    "apply_anyway": N_("Apply without approval"),
    "drop": N_("Cancel"),
    "done": N_("{event} done"),
    "done_anyway": N_("Mark {event} done anyway"),
    "record_payment": N_("Record payment"),
    "payment_link": N_("Payment link"),
    "due_now": N_("Due now"),
    "move_to": N_("Move to {event}"),
    "texts_in": N_("Texts in {language}"),
}
PROFILE_PARTS = {"name": N_("Business name"), "phone": N_("Phone"), "timezone": N_("Timezone"),
                 "currency": N_("Currency"), "locale": N_("Locale"), "instructions": N_("Payment instructions")}


def example(usage: str, ref: str = EXAMPLE_REF) -> str:
    """A command's one-line form, in the reader's language, for the job `ref`."""
    return _(usage).format(ref=ref)


def summary(name: str) -> str:
    return _(SUMMARIES[name])


def question(prompt: str) -> str:
    return _(prompt) + "\n" + _("(/cancel to stop)")


def button(name: str, **data) -> str:
    return _(BUTTONS[name]).format(**data)


def language_button(language: str) -> str:
    """"Texts in Spanish": the button that makes a customer's texts that language's."""
    return button("texts_in", language=_(NAMES[language]))


def profile_part(key: str) -> str:
    return _(PROFILE_PARTS[key])


def command_menu(commands: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The menu Telegram shows beside the message box: (command, what it does) for each of `commands`, given as
    (name, summary as marked above), and /cancel."""
    return [(name, _(text)[:256]) for name, text in commands] + [("cancel", _(CANCEL_SUMMARY))]


def help_text(commands: list[tuple[str, str]]) -> str:
    """/help: each of `commands`, given as (usage, summary) as marked above, in one line with what it does."""
    lines = [_("Send a command bare and I ask step by step, or all in one line:")]
    lines += [f"{example(usage)} - {_(text)}" for usage, text in commands]
    lines.append(_("/newjob ..., es - a new job whose customer gets texts in Spanish"))
    lines.append(f"/cancel - {_(CANCEL_SUMMARY)}")
    lines.append(_("Reply to a customer's message to answer them by SMS."))
    return "\n".join(lines)


# --- Getting in ---------------------------------------------------------------------------------------------


def welcome(business: str, *, owner: bool = False, invite_unused: bool = False, ask_name: bool = False) -> str:
    """/start: `owner`, they have just become this Paystage's owner; `invite_unused`, they were in already and
    came with an invite, which stays unused; `ask_name`, they have just registered as `business` (their Telegram
    name) and are asked what their business is called (ASK_BUSINESS), /skip keeping it."""
    lines = [_("Welcome, {business}! I keep your payment plans and text your customers when a payment falls "
               "due.").format(business=business)]
    if owner:
        lines.append(_("You own this Paystage: only you and the people you invite can use it. Invite someone: "
                       "/invite"))
    elif invite_unused:
        lines.append(_("You are in already, so that invite stays unused: pass it on to someone else."))
    lines += [_("Start a job: {example}").format(example=example(USAGES["newjob"])),
              _("Your business name, phone and payment instructions: /profile"), _("All commands: /help")]
    if ask_name:
        lines += ["", _(ASK_BUSINESS), _("Or /skip to keep {business}.").format(business=business)]
    return "\n".join(lines)


def business_named(business: str) -> str:
    """The answer to /start's question (ASK_BUSINESS) is their business name now."""
    return "\n".join([_("Customers see {business} on every text. Change it any time: /profile").format(
        business=business), _("Start a job: {example}").format(example=example(USAGES["newjob"]))])


def business_kept(business: str) -> str:
    """/skip at /start's question: the name they registered with stays."""
    return _("Your business name stays {business}. Change it any time: /profile").format(business=business)


def nothing_to_skip(asking: bool) -> str:
    """/skip with no question that may be skipped; `asking`, a question that may not is being asked."""
    if asking:
        return _("This question cannot be skipped: answer it, or /cancel to stop.")
    return _("Nothing to skip.")


def unnamed_business() -> str:
    """The business name of someone whose Telegram account has no name, until they set one (/profile)."""
    return _("My business")


def start_first() -> str:
    return _("Send /start first, and I will set you up.")


def invite(code: str, expires_at: datetime, timezone: str, locale: str, username: str | None) -> str:
    """/invite: the code for one person, until when it works, and the t.me link that carries it (`username`: the
    bot's; None before the bot knows it)."""
    local = expires_at.astimezone(ZoneInfo(timezone))
    written = localized(locale)
    until = plain_spaces(f"{format_skeleton('MMMEd', local, locale=written)}, "
                         f"{format_time(local, 'short', locale=written)}")
    lines = [_("An invite for one person, valid until {until}.").format(until=until)]
    start = f"/start {code}"
    if username:
        lines.append(_("Send them this link; tapping it lets them in:\n{link}").format(
            link=f"https://t.me/{username}?start={code}"))
        lines.append(_("Or they send me: {command}").format(command=start))
    else:
        lines.append(_("They send me: {command}").format(command=start))
    lines.append(_("It works once: send /invite again for each person."))
    return "\n".join(lines)


# --- A job --------------------------------------------------------------------------------------------------


def job_created(job: JobView) -> str:
    created = _("Job {ref} created: {title} for {customer} ({phone}), {total}.").format(
        ref=job.ref, title=job.title, customer=job.customer_name, phone=job.customer_phone,
        total=money(job, job.total))
    texts_in = _("{customer} gets texts in {language}.").format(customer=job.customer_name,
                                                                 language=_(NAMES[job.language]))
    after = _("Next: add its events, e.g.\n{event}\nthen the plan:\n{plan}").format(
        event=example(USAGES["event"], job.ref), plan=example(USAGES["plan"], job.ref))
    return f"{created} {texts_in}\n\n{after}"


def job_line(job: JobView) -> str:
    """One line per job in /jobs: who, what, paid of the total, what is next."""
    words = dict(ref=job.ref, customer=job.customer_name, title=job.title, paid=money(job, job.paid),
                 total=money(job, job.total))
    upcoming = job.next
    if upcoming is None:
        return _("{ref} {customer} - {title}: paid {paid} of {total}").format(**words)
    return _("{ref} {customer} - {title}: paid {paid} of {total}; next {amount} {when}").format(
        **words, amount=money(job, upcoming.open_amount), when=trigger_words(upcoming, job))


def job_list(jobs: list[JobView]) -> str:
    if not jobs:
        return _("No active jobs. Start one:\n{example}").format(example=example(USAGES["newjob"]))
    return "\n".join(job_line(job) for job in jobs)


def no_jobs_yet() -> str:
    return _("You have no active jobs yet. Start one with /newjob.")


def job_card(job: JobView) -> str:
    """/job: who and what, where the money stands, the events, the plan."""
    lines = [f"{job.ref} - {job.title}",
             _("{customer} {phone} - texts in {language}").format(
                 customer=job.customer_name, phone=job.customer_phone, language=_(NAMES[job.language])),
             _("Total {total} - paid {paid} - remaining {remaining}").format(
                 total=money(job, job.total), paid=money(job, job.paid), remaining=money(job, job.remaining))]
    lines += _held_back(job)
    if job.credit:
        lines.append(_("Credit owed to the customer: {credit}").format(credit=money(job, job.credit)))
    if job.state != "active":
        lines.append(_("This job is cancelled."))
    if job.change_order:
        lines.append(change_order_waits(job, job.change_order))
    if job.events:
        lines += ["", _("Events:")]
        lines += [f"  {event_line(e, job)}" for e in job.events]
    lines.append("")
    lines.append(plan_lines(job) if job.milestones else _("No plan yet. Example: {example}").format(
        example=example(USAGES["plan"], job.ref)))
    return "\n".join(lines)


EVENT_STATES = {"done": N_("done"), "cancelled": N_("cancelled")}


def event_line(e: EventView, job: JobView) -> str:
    """"Installation: Thu, Dec 17" and, once it is done or cancelled, which."""
    when = format_when(e.scheduled_at, job, e.date_only) if e.scheduled_at else _("not scheduled")
    line = f"{e.name}: {when}"
    return line if e.state not in EVENT_STATES else f"{line} ({_(EVENT_STATES[e.state])})"


def plan_lines(job: JobView) -> str:
    """The plan, a payment a line: its amount, what it is tied to, where it stands ("DUE NOW" stands out)."""
    lines = [_("Plan (sent to the customer):") if job.plan_sent else _("Plan (not sent yet):")]
    lines += [f"  {plan_line(m, job)}" for m in job.milestones]
    return "\n".join(lines)


def plan_line(m: MilestoneView, job: JobView) -> str:
    state = _(STATES[m.status])
    if m.status in (Status.DUE, Status.OVERDUE):
        state = state.upper()
    # retainage is named: its trigger alone would read as an ordinary payment's
    amount = (labelled(m) if m.retainage else "") + money(job, m.amount)
    line = _("{n}. {amount} {when} - {state}").format(n=m.position + 1, amount=amount, when=trigger_words(m, job),
                                                     state=state)
    if 0 < m.paid < m.amount:
        line += _(", {paid} paid").format(paid=money(job, m.paid))
    if m.due_at and m.status is Status.UPCOMING:
        line += _(", due {day}").format(day=due_when(m, job))
    return line


def language_changed(job: JobView) -> str:
    """The contractor tapped "Texts in Spanish": what changed, before the job's card."""
    return _("{customer}'s texts and payment page are in {language} from now on.").format(
        customer=job.customer_name, language=_(NAMES[job.language]))


def other_languages(job: JobView) -> list[str]:
    """The languages a job's customer could be switched to: every one we write but theirs."""
    return [language for language in LANGUAGES if language != job.language]


def payment_link(job: JobView, url: str) -> str:
    return _("{ref} {customer}'s payment page:\n{link}").format(ref=job.ref, customer=job.customer_name, link=url)


def export_caption(job: JobView) -> str:
    """/export: the caption under the job's paper trail, a CSV file."""
    return _("{ref} {customer}: the job's paper trail, every change, payment and message in time order.").format(
        ref=job.ref, customer=job.customer_name)


# --- Events -------------------------------------------------------------------------------------------------


def event_added(job: JobView, event: str) -> str:
    return _("Added {event} to {ref}.").format(event=event, ref=job.ref) + "\n\n" + job_card(job)


def event_done(job: JobView, event: str, owed: int | None, reach: Reach) -> str:
    """`owed`: what fell due with it, for which the customer is texted; None when nothing did."""
    said = [_("{event} is done.").format(event=event)]
    if owed is None:
        said.append(_("Nothing fell due with it."))
    else:
        said.append(_("{amount} is now due.").format(amount=money(job, owed)))
        said.append(texted(job, reach, _("the amount and the payment link")))
    return " ".join(said) + "\n\n" + job_card(job)


def event_moved(job: JobView, event: str, reach: Reach) -> str:
    said = [_("{event} moved.").format(event=event)]
    if job.plan_sent:
        said.append(texted(job, reach, _("the new date")))
    return " ".join(said) + "\n\n" + job_card(job)


def event_cancelled(job: JobView, event: str, announced: bool, reach: Reach) -> str:
    """`announced`: its payments fell due, for which the customer is texted."""
    said = [_("{event} is cancelled.").format(event=event)]
    if announced:
        said.append(_("Its payments are due now."))
        said.append(texted(job, reach, _("the amount and the payment link")))
    return " ".join(said) + "\n\n" + job_card(job)


def done_out_of_order(event: str, earlier: list[str]) -> str:
    """/done on `event` while the events `earlier` (scheduled before it) are still to happen: asked once, with a
    button that marks it done anyway; nothing is changed until it is tapped."""
    said = ngettext("{earlier} is scheduled before {event} and is not done yet.",
                    "{earlier} are scheduled before {event} and are not done yet.",
                    len(earlier)).format(earlier=listed(earlier), event=event)
    return said + " " + _("Marking {event} done now makes the money due after it fall due first. Nothing changes "
                          "until you tap the button.").format(event=event)


def listed(names: list[str]) -> str:
    """"Measurement", "Measurement and Removal": names joined in the reader's language (a longer list folded)."""
    shown = names[0]
    for name in names[1:]:
        shown = _("{first} and {second}").format(first=shown, second=name)
    return shown


def event_gone() -> str:
    return _("That event is no longer on the job. /job shows its events now.")


def event_over(event: str, state: str) -> str:
    """A done button for an event that is `state` ("done" or "cancelled") already."""
    if state == "done":
        return _("{event} is done already. /job shows its events now.").format(event=event)
    return _("{event} is cancelled already. /job shows its events now.").format(event=event)


# --- The plan and the price ---------------------------------------------------------------------------------


def plan_preview(job: JobView) -> str:
    return "\n".join([_("{ref} {customer}, total {total}").format(ref=job.ref, customer=job.customer_name,
                                                                  total=money(job, job.total)),
                      *_held_back(job), plan_lines(job), "",
                      _("Send it to {customer} by SMS?").format(customer=job.customer_name)])


def _held_back(job: JobView) -> list[str]:
    """The line under a job's totals saying what retainage holds back, if it does."""
    return [held_back(job, sms=False)] if job.held_back else []


def plan_sent(job: JobView, reach: Reach) -> str:
    if reach.now:
        said = [_("Plan sent to {customer}.").format(customer=job.customer_name)]
        if job.due_now_amount:
            said.append(_("{amount} is due now; they got the link.").format(amount=money(job, job.due_now_amount)))
    else:
        said = [_("The plan is final.")]
        if job.due_now_amount:
            said.append(_("{amount} is due now.").format(amount=money(job, job.due_now_amount)))
        said.append(texted(job, reach, _("the plan and the payment link")))
    return " ".join(said) + "\n\n" + plan_lines(job)


def price_preview(job: JobView, change: PriceChangeView) -> str:
    """A price change before it is sent: the old and new total, what changed, each payment's old and new, and
    what the buttons under it do."""
    lines = [_("{ref} {customer}: price {old} -> {new}").format(
        ref=job.ref, customer=job.customer_name, old=money(job, change.old_total), new=money(job, change.new_total))]
    if change.reason:
        lines.append(reason_words(change.reason))
    for c in change.changes:
        paid = " " + _("(paid)") if c.paid and c.paid >= c.new else ""
        lines.append(f"  {change_name(c)}: {money(job, c.old)} -> {money(job, c.new)}{paid}")
    if change.credit:
        lines.append(_("More was paid than the new price: you would owe a credit of {credit}.").format(
            credit=money(job, change.credit)))
    lines.append("")
    if not job.plan_sent:
        lines.append(_("Apply it?"))
    elif job.change_order:
        lines.append(change_order_waits(job, job.change_order) + " " + _(
            "This one can replace it, or be sent once it is answered."))
    else:
        lines.append(_("Send it to {customer} for approval? The plan stays as it is until they reply YES or "
                       "approve it on their page.").format(customer=job.customer_name))
    return "\n".join(lines)


def change_order_waits(job: JobView, order: ChangeOrderView) -> str:
    return _("Change order {number} ({old} -> {new}) waits for {customer}'s answer until {day}.").format(
        number=order.number, old=money(job, order.old_total), new=money(job, order.new_total),
        customer=job.customer_name, day=format_day(order.expires_at, job))


def change_order_in_the_way(job: JobView, order: ChangeOrderView) -> str:
    return change_order_waits(job, order) + " " + _("Replace it, or send this one once it is answered.")


@in_contractors_language
def change_order_sent(job: JobView, order: ChangeOrderView, reach: Reach) -> str:
    """A change order went to the customer (at once, or after the one before it was answered)."""
    said = _("{ref} Change order {number}: {old} -> {new}.").format(
        ref=job.ref, number=order.number, old=money(job, order.old_total), new=money(job, order.new_total))
    return " ".join((said, texted(job, reach, _("the change order to approve or decline")), _(
        "The plan stays as it is until they answer, at most until {day}. If they agreed another way: {example}")
        .format(day=format_day(order.expires_at, job), example=example(USAGES["apply"], job.ref))))


def change_order_waiting(job: JobView, number: int) -> str:
    return _("{ref} Change order {number} is sent to {customer} once change order {before} is answered.").format(
        ref=job.ref, number=number, customer=job.customer_name, before=job.change_order.number)


@in_contractors_language
def change_order_answered(job: JobView, order: ChangeOrderView) -> str:
    """The customer approved or declined a change order, or it expired unanswered; `job` as it stands after."""
    said = dict(ref=job.ref, customer=job.customer_name, number=order.number, old=money(job, order.old_total),
                new=money(job, order.new_total), how=_(ANSWERED_VIA.get(order.answered_via, "")))
    if order.state == "approved":
        return _("{ref} {customer} approved change order {number} {how}: the price is now {new}.").format(
            **said) + "\n\n" + plan_lines(job)
    if order.state == "declined":
        return _("{ref} {customer} declined change order {number} ({old} -> {new}) {how}: the price stays "
                 "{old}.").format(**said)
    return _("{ref} Change order {number} ({old} -> {new}) expired without an answer from {customer}: the price "
             "stays {old}. To ask again use /price, /add or /remove.").format(**said)


ANSWERED_VIA = {"sms": N_("by text"), "page": N_("on their page")}


@in_contractors_language
def change_order_withdrawn(job: JobView, order: ChangeOrderView, why: str) -> str:
    """A change order waiting its turn no longer applies to the job as it now stands."""
    return _("{ref} Change order {number} was not sent: {why}").format(ref=job.ref, number=order.number, why=why)


def price_applied(job: JobView, total: int, reach: Reach) -> str:
    said = [_("Price of {ref} is now {total}.").format(ref=job.ref, total=money(job, total))]
    if not job.milestones:
        return said[0]
    if job.plan_sent:
        said.append(texted(job, reach, _("the new amounts and your reason")))
    return " ".join(said) + "\n\n" + plan_lines(job)


def preview_gone() -> str:
    return _("That preview was already applied or dropped.")


def dropped() -> str:
    return _("Dropped. Nothing was changed.")


# --- Payments -----------------------------------------------------------------------------------------------


def payment_recorded(job: JobView, amount: int, method: str, reach: Reach) -> str:
    said = [_("Recorded {amount} ({method}) on {ref}. Paid {paid} of {total}; remaining {remaining}.").format(
        amount=money(job, amount), method=method_words(method), ref=job.ref, paid=money(job, job.paid),
        total=money(job, job.total), remaining=money(job, job.remaining))]
    if job.credit:
        said.append(_("More than the price was paid: you owe a credit of {credit}.").format(
            credit=money(job, job.credit)))
    said.append(texted(job, reach, _("a receipt")))
    return " ".join(said)


def payments_by_instructions() -> str:
    return _("Customers pay as your payment instructions say (/profile instructions ...): online payments are not "
             "set up on this Paystage. Its operator turns them on with Stripe (README).")


def payments_into_this_paystage() -> str:
    return _("Customers pay online from their payment page, by card or bank transfer, into this Paystage's Stripe "
             "account. Each payment is marked paid by itself and you are told.")


def payments_connected() -> str:
    return _("Your Stripe account is connected: customers pay you by card or bank transfer from their payment "
             "page, and each payment is marked paid by itself.")


def payments_to_set_up(link: str) -> str:
    return _("Set up your payments with Stripe (about 5 minutes; Stripe asks for your business and bank details):"
             "\n{link}\nThe link works once; send /payments again for a new one. Until then your customers see "
             "your payment instructions.").format(link=link)


# --- The profile --------------------------------------------------------------------------------------------


def profile(*, business: str, phone: str, timezone: str, currency: str, locale: str, instructions: str) -> str:
    return _("{business}\nPhone: {phone}\nTimezone: {timezone}\nCurrency: {currency}\nLocale: {locale}\n"
             "Payment instructions: {instructions}\n\nChange one: {example}").format(
        business=business, phone=phone or "-", timezone=timezone, currency=currency, locale=locale,
        instructions=instructions or "-", example=example(USAGES["profile"]))


def which_profile_part() -> str:
    return _("Which part? name, phone, timezone, currency, locale or instructions. Example: {example}").format(
        example=example(USAGES["profile"]))


# --- Reading a command: what is missing or wrong ---------------------------------------------------------------


def which_job(usage: str) -> str:
    return _("Which job? Start with its reference. Example: {example}\n/jobs lists your jobs.").format(
        example=example(usage))


def separate_with_commas(usage: str) -> str:
    return _("Separate the parts with a comma. Example: {example}").format(example=example(usage))


def something_missing(usage: str) -> str:
    return _("Something is missing. Example: {example}").format(example=example(usage))


def newjob_needs_four(usage: str) -> str:
    return _("I need four things, separated by commas: name, phone, title, total. Example: {example}").format(
        example=example(usage))


def not_a_choice() -> str:
    return _("That button is not one of the choices any more. Nothing was changed.")


# --- Answers to anything ------------------------------------------------------------------------------------


def refused(why: str) -> str:
    """A command or an answer that was refused: why (a core error, in the reader's language), and that nothing
    changed."""
    return f"{why}\n" + _("Nothing was changed.")


def sent_by_sms(customer: str) -> str:
    """A reply to a customer's relayed text went back to them."""
    return _("Sent to {customer} by SMS.").format(customer=customer)


def stopped(anything: bool) -> str:
    """/cancel: `anything`, a command's questions were being asked."""
    return _("Stopped. Nothing was changed.") if anything else _("Nothing to cancel.")


def stale_button() -> str:
    return _("That button no longer works. Nothing was changed; send the command again (/help lists them).")


def sorry() -> str:
    return _("Sorry, something went wrong on my side. Nothing was changed; please try again.")
