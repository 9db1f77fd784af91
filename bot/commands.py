"""Every contractor command, each usable two ways: in one line with its arguments, or bare, as questions.

A command is its questions (asked one at a time when it is sent bare), a
parser for the one-line form that yields the same answers, and one function
that runs it through a core use case. Both forms meet in that function, so
they cannot drift apart.

A question may check its answer as it is given, with the core function the
run reads that answer with: a wrong answer is asked again and the earlier
ones are kept. What needs every answer (a rule of the job) is the run's to
refuse. A question's buttons carry ids or short words, never names: Telegram
carries 64 bytes, and a name or a place in a list may change under a button.
"""

import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time

from bot import texts
from core.access import OWNER, RETURNING, Joined, invite, join
from core.context import Actor, Context
from core.errors import Conflict, InvalidInput, NotFound
from core.events import add_event, cancel_event, mark_event_done, reschedule_event
from core.jobs import Item, contractor_jobs, contractor_of, create_job, job_status, update_profile
from core.matching import match_event, match_name
from core.money import parse_amount
from core.payment_accounts import Onboarding, connect_payments
from core.payments import record_payment
from core.phones import to_e164
from core.plans import send_plan, set_plan
from core.pricing import PriceChange, apply_price_change, preview_price_change
from core.when import parse_when

REF = re.compile(r"^J-[A-Z0-9]{4,6}$", re.IGNORECASE)
METHODS = ("cash", "check", "transfer", "card", "other")
PROFILE_ALIASES = {"name": "business_name", "business": "business_name", "business_name": "business_name",
                   "phone": "phone", "timezone": "timezone", "tz": "timezone", "currency": "currency",
                   "locale": "locale", "instructions": "payment_instructions", "pay": "payment_instructions",
                   "payment_instructions": "payment_instructions"}

Buttons = list[list[tuple[str, str]]]  # rows of (label, callback data)
MAX_BUTTON_DATA = 64  # bytes of callback data Telegram carries; a longer one fails the whole message


@dataclass
class Reply:
    text: str
    buttons: Buttons = field(default_factory=list)
    keep: dict = field(default_factory=dict)  # pending confirmations: token -> what the button applies


@dataclass(frozen=True)
class OnlinePaymentsSetup:
    """What /payments needs: whether each contractor connects their own account, and how."""

    connect: bool
    onboarding: Onboarding
    public_base_url: str  # the provider's onboarding sends the contractor back here


@dataclass(frozen=True)
class Services:
    ctx: Context
    allowed_ids: frozenset[int] | None = None  # who may register without an invite (PAYSTAGE_ALLOWED_TELEGRAM_IDS)
    bot: Any = None  # the Telegram bot, once running: its username makes invite links
    payments: OnlinePaymentsSetup | None = None  # how customers pay online; None: by the contractor's instructions


@dataclass(frozen=True)
class Choice:
    """A button under a question. Its data names the answer by an id or a short word (within MAX_BUTTON_DATA);
    a tap answers what the data names when tapped, so a list that changed since never picks the wrong thing."""

    label: str
    data: str
    answer: str  # what a tap answers, as if typed


Choices = list[list[Choice]]  # rows of buttons


@dataclass(frozen=True)
class Question:
    key: str
    prompt: str
    choices: Callable[[Services, Actor, dict], Choices] | None = None
    # reads one answer (the earlier ones at hand) and gives what is kept; a PaystageError says what is wrong
    check: Callable[[Services, Actor, dict, str], str] | None = None


@dataclass(frozen=True)
class Command:
    name: str
    usage: str  # the one-line form, shown in /help and in every error
    summary: str
    run: Callable[[Services, Actor, dict], Reply]
    questions: tuple[Question, ...] = ()
    parse: Callable[[Services, Actor, str], dict] = lambda s, a, args: {}


# --- answers -----------------------------------------------------------------------------------------------------


def money_of(actor: Actor, text: str) -> int:
    c = contractor_of(actor)
    return parse_amount(text, c.currency, c.locale)


def when_of(s: Services, actor: Actor, text: str):
    return parse_when(text, contractor_of(actor).timezone, s.ctx.clock())


def unscheduled(text: str) -> bool:
    """An event's time left out ("-"): not scheduled yet."""
    return text.strip() in ("", "-")


def destination(text: str) -> str:
    """Where a cancelled event's payments go, as typed: "now", or an event's name ("move to Installation")."""
    target = text.strip()
    return "now" if target.lower() in ("now", "due now") else re.sub(r"^(move )?to\s+", "", target, flags=re.I)


def profile_field(text: str) -> str:
    name = PROFILE_ALIASES.get(text.strip().lower().replace(" ", "_"))
    if name is None:
        raise InvalidInput("Which part? name, phone, timezone, currency, locale or instructions. "
                           "Example: /profile phone (415) 555-0100")
    return name


def split_ref(s: Services, actor: Actor, args: str, usage: str) -> tuple[str, str]:
    """The job reference at the start of `args`; with one active job it may be left out."""
    first, _, rest = args.strip().partition(" ")
    if REF.match(first):
        return first.upper(), rest.strip()
    jobs = contractor_jobs(s.ctx, actor)
    if len(jobs) == 1:
        return jobs[0].ref, args.strip()
    raise InvalidInput(f"Which job? Start with its reference. Example: {usage}\n/jobs lists your jobs.")


def two_parts(text: str, usage: str, *, last: bool = False) -> tuple[str, str]:
    """"A, B" split at the first (or last) comma followed by a space."""
    parts = re.split(r",\s+", text.strip())
    if len(parts) < 2:
        raise InvalidInput(f"Separate the parts with a comma. Example: {usage}")
    if last:
        return ", ".join(parts[:-1]), parts[-1]
    return parts[0], ", ".join(parts[1:])


def job_choices(s: Services, actor: Actor, answers: dict) -> Choices:
    return [[Choice(f"{j.ref} {j.customer_name}", j.ref, j.ref)] for j in contractor_jobs(s.ctx, actor)[:8]]


def event_choices(s: Services, actor: Actor, answers: dict) -> Choices:
    job = job_status(s.ctx, actor, answers["job"])
    return [[Choice(e.name, str(e.id), e.name)] for e in job.events if e.state == "scheduled"]


def destination_choices(s: Services, actor: Actor, answers: dict) -> Choices:
    job = job_status(s.ctx, actor, answers["job"])
    others = [e for e in job.events if e.state == "scheduled" and e.name != answers.get("event")]
    return [[Choice("Due now", "now", "now")]] + [[Choice(f"Move to {e.name}", str(e.id), e.name)] for e in others]


def method_choices(s: Services, actor: Actor, answers: dict) -> Choices:
    return [[Choice(m, m, m) for m in METHODS[:3]], [Choice(m, m, m) for m in METHODS[3:]]]


def item_choices(s: Services, actor: Actor, answers: dict) -> Choices:
    job = job_status(s.ctx, actor, answers["job"])
    # the amount tells apart two items whose first 40 characters are the same
    return [[Choice(f"{description[:40]} {texts.money(job, amount)}", str(line_id), description)]
            for (description, amount), line_id in zip(job.items, job.item_ids)]


def profile_choices(s: Services, actor: Actor, answers: dict) -> Choices:
    return [[Choice("Business name", "name", "name"), Choice("Phone", "phone", "phone")],
            [Choice("Timezone", "timezone", "timezone"), Choice("Currency", "currency", "currency")],
            [Choice("Locale", "locale", "locale"), Choice("Payment instructions", "instructions", "instructions")]]


# --- checking each answer as it is given: with what the run reads it with -------------------------------------


def check_job(s: Services, actor: Actor, answers: dict, text: str) -> str:
    return job_status(s.ctx, actor, text).ref  # every later question is about this job


def check_phone(s: Services, actor: Actor, answers: dict, text: str) -> str:
    to_e164(text, s.ctx.defaults.region)
    return text


def check_money(s: Services, actor: Actor, answers: dict, text: str) -> str:
    money_of(actor, text)
    return text


def check_when(s: Services, actor: Actor, answers: dict, text: str) -> str:
    when_of(s, actor, text)
    return text


def check_when_or_unscheduled(s: Services, actor: Actor, answers: dict, text: str) -> str:
    return text if unscheduled(text) else check_when(s, actor, answers, text)


def check_event(s: Services, actor: Actor, answers: dict, text: str) -> str:
    """One of the job's events still to happen, by the job's spelling of it."""
    job = job_status(s.ctx, actor, answers["job"])
    return match_event(text, [e.name for e in job.events if e.state == "scheduled"])


def check_destination(s: Services, actor: Actor, answers: dict, text: str) -> str:
    """"now", or another event of the job that is not cancelled (as core.events.cancel_event takes them)."""
    target = destination(text)
    if target == "now":
        return target
    job = job_status(s.ctx, actor, answers["job"])
    return match_event(target, [e.name for e in job.events if e.state != "cancelled" and e.name != answers["event"]])


def check_item(s: Services, actor: Actor, answers: dict, text: str) -> str:
    """One of the job's line items, by its full description (as core.pricing matches it)."""
    job = job_status(s.ctx, actor, answers["job"])
    return match_name(text, [description for description, _ in job.items], noun="line item")


def check_profile_field(s: Services, actor: Actor, answers: dict, text: str) -> str:
    return profile_field(text)


def accept(s: Services, actor: Actor, question: Question, answers: dict, text: str) -> str:
    """A typed answer to `question`, as it is kept; a PaystageError when it is wrong (nothing is written)."""
    text = text.strip()
    return question.check(s, actor, answers, text) if question.check else text


def accept_tap(s: Services, actor: Actor, question: Question, answers: dict, data: str) -> str:
    """A tapped answer ("KEY:DATA", from a button made by ask_next) to `question`, if it offers that button now."""
    key, _, value = data.partition(":")
    offered = question.choices(s, actor, answers) if question.choices and key == question.key else []
    for choice in (choice for row in offered for choice in row):
        if choice.data == value:
            return accept(s, actor, question, answers, choice.answer)
    raise Conflict("That button is not one of the choices any more. Nothing was changed.")


def choice_buttons(question: Question, choices: Choices) -> Buttons:
    """A question's choices as buttons: each carries the question it answers, then its data."""
    return [[(choice.label, f"ans:{question.key}:{choice.data}") for choice in row] for row in choices]


JOB = Question("job", "Which job?", job_choices, check_job)


# --- running them ------------------------------------------------------------------------------------------------


def run_start(s: Services, actor: Actor, a: dict) -> Reply:
    return Reply("")  # handled in bot.handlers: it needs the Telegram user, not an actor (see run_join)


def run_join(s: Services, telegram_id: int, name: str, code: str) -> Reply:
    """/start, or /start CODE from an invite link: let the Telegram user in, or say how to get in."""
    joined = join(s.ctx, telegram_id=telegram_id, name=name, code=code, allowed_ids=s.allowed_ids or frozenset())
    return Reply(welcome(joined, code_given=bool(code.strip())))


def welcome(joined: Joined, *, code_given: bool = False) -> str:
    lines = [f"Welcome, {joined.contractor.business_name}! I keep your payment plans and text your customers "
             "when a payment falls due."]
    if joined.via == OWNER:
        lines.append("You own this Paystage: only you and the people you invite can use it. Invite someone: /invite")
    elif joined.via == RETURNING and code_given:
        lines.append("You are in already, so that invite stays unused: pass it on to someone else.")
    lines += ["Start a job: /newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000",
              "Your business name, phone and payment instructions: /profile", "All commands: /help"]
    return "\n".join(lines)


def run_invite(s: Services, actor: Actor, a: dict) -> Reply:
    invitation = invite(s.ctx, actor)
    c = contractor_of(actor)
    local = invitation.expires_at.astimezone(ZoneInfo(c.timezone))
    until = f"{format_skeleton('MMMEd', local, locale=c.locale)}, {format_time(local, 'short', locale=c.locale)}"
    lines = [f"An invite for one person, valid until {until}."]
    username = _username(s.bot)
    if username:
        lines.append(f"Send them this link; tapping it lets them in:\nhttps://t.me/{username}?start={invitation.code}")
        lines.append(f"Or they send me: /start {invitation.code}")
    else:
        lines.append(f"They send me: /start {invitation.code}")
    lines.append("It works once: send /invite again for each person.")
    return Reply("\n".join(lines))


def _username(bot) -> str | None:
    """The bot's @username for t.me links; None before the bot has asked Telegram who it is."""
    try:
        return bot.username if bot is not None else None
    except RuntimeError:  # python-telegram-bot: not initialized yet
        return None


def run_newjob(s: Services, actor: Actor, a: dict) -> Reply:
    job = create_job(s.ctx, actor, customer_name=a["name"], phone=a["phone"], title=a["title"],
                     items=[Item(a["title"], money_of(actor, a["total"]))])
    return Reply(f"Job {job.ref} created: {job.title} for {job.customer_name} ({job.customer_phone}), "
                 f"{texts.money(job, job.total)}.\n\nNext: add its events, e.g.\n/event {job.ref} Measurement, "
                 f"tomorrow 9am\nthen the plan:\n/plan {job.ref} 25% before measurement, 25% after removal, "
                 "50% after installation")


def run_event(s: Services, actor: Actor, a: dict) -> Reply:
    when = None if unscheduled(a.get("when", "")) else when_of(s, actor, a["when"])
    result = add_event(s.ctx, actor, a["job"], a["name"], when)
    return Reply(f"Added {result.event} to {result.job.ref}.\n\n{texts.job_card(result.job)}")


def run_plan(s: Services, actor: Actor, a: dict) -> Reply:
    job = set_plan(s.ctx, actor, a["job"], a["sentence"])
    return Reply(texts.plan_preview(job), [[("Send to customer", f"send:{job.ref}")]])


def run_send(s: Services, actor: Actor, a: dict) -> Reply:
    job = send_plan(s.ctx, actor, a["job"])
    due = f" {texts.money(job, job.due_now_amount)} is due now; they got the link." if job.due_now_amount else ""
    return Reply(f"Plan sent to {job.customer_name}.{due}\n\n{texts.plan_lines(job)}")


def run_done(s: Services, actor: Actor, a: dict) -> Reply:
    result = mark_event_done(s.ctx, actor, a["job"], a["event"])
    job = result.job
    if result.announced:
        due = [m for m in job.milestones if m.id in result.announced]
        owed = texts.money(job, sum(m.open_amount for m in due))
        told = f" {owed} is now due: {job.customer_name} was texted the amount and the payment link."
    else:
        told = " Nothing fell due with it."
    return Reply(f"{result.event} is done.{told}\n\n{texts.job_card(job)}")


def run_move(s: Services, actor: Actor, a: dict) -> Reply:
    result = reschedule_event(s.ctx, actor, a["job"], a["event"], when_of(s, actor, a["when"]))
    told = f" {result.job.customer_name} was told the new date." if result.job.plan_sent else ""
    return Reply(f"{result.event} moved.{told}\n\n{texts.job_card(result.job)}")


def run_cancelevent(s: Services, actor: Actor, a: dict) -> Reply:
    target = destination(a.get("to", ""))
    result = cancel_event(s.ctx, actor, a["job"], a["event"], milestones_to=target or None)
    due = " Its payments are due now; the customer was texted." if result.announced else ""
    return Reply(f"{result.event} is cancelled.{due}\n\n{texts.job_card(result.job)}")


def run_paid(s: Services, actor: Actor, a: dict) -> Reply:
    amount = money_of(actor, a["amount"])
    result = record_payment(s.ctx, actor, a["job"], amount, a.get("method") or "other")
    job = result.job
    credit = f" More than the price was paid: you owe a credit of {texts.money(job, job.credit)}." \
        if job.credit else ""
    return Reply(f"Recorded {texts.money(job, amount)} ({a.get('method') or 'other'}) on {job.ref}. Paid "
                 f"{texts.money(job, job.paid)} of {texts.money(job, job.total)}; remaining "
                 f"{texts.money(job, job.remaining)}.{credit} {job.customer_name} gets a receipt.")


def price_change_reply(s: Services, actor: Actor, ref: str, change: PriceChange) -> Reply:
    view = preview_price_change(s.ctx, actor, ref, change)
    job = job_status(s.ctx, actor, ref)
    token = secrets.token_hex(4)
    return Reply(texts.price_preview(job, view), [[("Apply", f"apply:{token}"), ("Cancel", "drop")]],
                 keep={token: {"job": ref, "kind": change.kind, "description": change.description,
                               "amount": change.amount}})


def run_price(s: Services, actor: Actor, a: dict) -> Reply:
    return price_change_reply(s, actor, a["job"], PriceChange.total(money_of(actor, a["total"])))


def run_add(s: Services, actor: Actor, a: dict) -> Reply:
    return price_change_reply(s, actor, a["job"], PriceChange.add(a["description"], money_of(actor, a["amount"])))


def run_remove(s: Services, actor: Actor, a: dict) -> Reply:
    return price_change_reply(s, actor, a["job"], PriceChange.remove(a["description"]))


def apply_change(s: Services, actor: Actor, kept: dict) -> Reply:
    change = PriceChange(kept["kind"], kept["description"], kept["amount"])
    view = apply_price_change(s.ctx, actor, kept["job"], change)
    job = job_status(s.ctx, actor, kept["job"])
    told = f" {job.customer_name} was texted the new amounts." if job.plan_sent else ""
    return Reply(f"Price of {job.ref} is now {texts.money(job, view.new_total)}.{told}\n\n{texts.plan_lines(job)}"
                 if job.milestones else f"Price of {job.ref} is now {texts.money(job, view.new_total)}.")


def run_jobs(s: Services, actor: Actor, a: dict) -> Reply:
    jobs = contractor_jobs(s.ctx, actor)
    if not jobs:
        return Reply("No active jobs. Start one:\n/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, "
                     "$4,000")
    return Reply("\n".join(texts.job_line(j) for j in jobs), [[(j.ref, f"job:{j.ref}")] for j in jobs[:8]])


def job_card_reply(s: Services, actor: Actor, ref: str) -> Reply:
    job = job_status(s.ctx, actor, ref)
    buttons: Buttons = [[(f"{e.name} done", f"done:{job.ref}:e{e.id}")]
                        for e in job.events if e.state == "scheduled" and job.state == "active"]
    if job.milestones and not job.plan_sent:
        buttons.append([("Send plan to customer", f"send:{job.ref}")])
    buttons.append([("Record payment", f"ask:paid:{job.ref}"), ("Payment link", f"link:{job.ref}")])
    return Reply(texts.job_card(job), buttons)


def run_job(s: Services, actor: Actor, a: dict) -> Reply:
    return job_card_reply(s, actor, a["job"])


def done_by_id(s: Services, actor: Actor, ref: str, event_id: int) -> Reply:
    """An event's "done" on a job card: the event the button names by its id, if it is this job's and still to do."""
    job = job_status(s.ctx, actor, ref)
    event = next((e for e in job.events if e.id == event_id), None)
    if event is None:
        raise NotFound("That event is no longer on the job. /job shows its events now.")
    if event.state != "scheduled":
        raise Conflict(f"{event.name} is {event.state} already. /job shows its events now.")
    return run_done(s, actor, {"job": job.ref, "event": event.name})


def run_link(s: Services, actor: Actor, a: dict) -> Reply:
    job = job_status(s.ctx, actor, a["job"])
    return Reply(f"{job.ref} {job.customer_name}'s payment page:\n{s.ctx.links.url(job.ref, s.ctx.clock())}")


def run_payments(s: Services, actor: Actor, a: dict) -> Reply:
    """Whether customers pay online, and with Connect the link to set up the contractor's own Stripe account."""
    if s.payments is None:
        return Reply("Customers pay as your payment instructions say (/profile instructions ...): online payments "
                     "are not set up on this Paystage. Its operator turns them on with Stripe (README).")
    if not s.payments.connect:
        return Reply("Customers pay online from their payment page, by card or bank transfer, into this "
                     "Paystage's Stripe account. Each payment is marked paid by itself and you are told.")
    token = s.ctx.links.token(f"C{actor.key}", s.ctx.clock())
    base = s.payments.public_base_url
    connection = connect_payments(s.ctx, actor, s.payments.onboarding, refresh_url=f"{base}/connect/again",
                                  return_url=f"{base}/connect/back/{token}")
    if connection.ready:
        return Reply("Your Stripe account is connected: customers pay you by card or bank transfer from their "
                     "payment page, and each payment is marked paid by itself.")
    return Reply("Set up your payments with Stripe (about 5 minutes; Stripe asks for your business and bank "
                 f"details):\n{connection.link}\nThe link works once; send /payments again for a new one. Until "
                 "then your customers see your payment instructions.")


def run_profile(s: Services, actor: Actor, a: dict) -> Reply:
    c = update_profile(s.ctx, actor, profile_field(a["field"]), a["value"])
    return Reply(profile_text(c))


def profile_text(c) -> str:
    return (f"{c.business_name}\nPhone: {c.phone or '-'}\nTimezone: {c.timezone}\nCurrency: {c.currency}\n"
            f"Locale: {c.locale}\nPayment instructions: {c.payment_instructions or '-'}\n\n"
            "Change one: /profile phone (415) 555-0100")


def run_help(s: Services, actor: Actor, a: dict) -> Reply:
    lines = ["Send a command bare and I ask step by step, or all in one line:"]
    lines += [f"{c.usage} - {c.summary}" for c in COMMANDS.values() if c.name not in ("start", "help")]
    lines.append("/cancel - stop what we are doing")
    lines.append("Reply to a customer's message to answer them by SMS.")
    return Reply("\n".join(lines))


# --- one-line forms: each reads what follows the job reference --------------------------------------------------


def need(text: str, usage: str) -> str:
    if not text.strip():
        raise InvalidInput(f"Something is missing. Example: {usage}")
    return text.strip()


def read_newjob(text: str, usage: str) -> dict:
    parts = re.split(r",\s+", text.strip())
    if len(parts) < 4:
        raise InvalidInput(f"I need four things, separated by commas: name, phone, title, total. Example: {usage}")
    return {"name": parts[0], "phone": parts[1], "title": ", ".join(parts[2:-1]), "total": parts[-1]}


def read_name_when(key: str, then: str = "when"):
    """"NAME, REST": an event's name, and what follows the comma (its time, or where its payments go)."""
    def read(text: str, usage: str) -> dict:
        name, _, rest = need(text, usage).partition(",")
        return {key: name.strip(), then: rest.strip()}
    return read


def read_one(key: str):
    return lambda text, usage: {key: need(text, usage)}


def read_paid(text: str, usage: str) -> dict:
    amount, _, method = need(text, usage).partition(" ")
    return {"amount": amount, "method": method.strip().lower() or "other"}


def read_add(text: str, usage: str) -> dict:
    description, amount = two_parts(need(text, usage), usage, last=True)
    return {"description": description, "amount": amount}


def read_profile(text: str, usage: str) -> dict:
    field_name, _, value = need(text, usage).partition(" ")
    return {"field": field_name, "value": need(value, usage)}


def command(name: str, usage: str, summary: str, run, questions=(), read=None, *, ref: bool = True) -> Command:
    """A command whose one-line form is `usage`: a job reference first (when `ref`), then what `read` reads."""

    def parse(s: Services, actor: Actor, args: str) -> dict:
        answers = {}
        if ref:
            answers["job"], args = split_ref(s, actor, args, usage)
        return {**answers, **(read(args, usage) if read else {})}

    return Command(name, usage, summary, run, tuple(questions), parse)


COMMANDS: dict[str, Command] = {c.name: c for c in [
    command("start", "/start", "register", run_start, ref=False),
    command("newjob", "/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000", "a new job", run_newjob,
            [Question("name", "The customer's name?"),
             Question("phone", "Their mobile number (they get texts)?", check=check_phone),
             Question("title", "What is the job? e.g. Kitchen countertops"),
             Question("total", "The price? e.g. $4,000", check=check_money)], read_newjob, ref=False),
    command("event", "/event J-7K2Q Measurement, tomorrow 9am", "add an event to a job", run_event,
            [JOB, Question("name", "The event's name? e.g. Measurement"),
             Question("when", "When? e.g. tomorrow 9am (or - if not scheduled yet)", check=check_when_or_unscheduled)],
            read_name_when("name")),
    command("plan", "/plan J-7K2Q 25% before measurement, 25% after removal, 50% after installation",
            "set the payment plan (you see it before the customer does)", run_plan,
            [JOB, Question("sentence", "The plan? e.g. 25% before measurement, 25% after removal, "
                                       "50% after installation")], read_one("sentence")),
    command("send", "/send J-7K2Q", "text the plan to the customer", run_send, [JOB]),
    command("done", "/done J-7K2Q Installation", "mark an event done: its payment falls due", run_done,
            [JOB, Question("event", "Which event is done?", event_choices, check_event)], read_one("event")),
    command("move", "/move J-7K2Q Installation, Friday 8am", "reschedule an event", run_move,
            [JOB, Question("event", "Which event moves?", event_choices, check_event),
             Question("when", "To when?", check=check_when)],
            read_name_when("event")),
    command("cancelevent", "/cancelevent J-7K2Q Removal, move to Installation",
            "cancel an event; its payments move to another event or fall due now", run_cancelevent,
            [JOB, Question("event", "Which event is cancelled?", event_choices, check_event),
             Question("to", "Its payments: due now, or moved to another event?", destination_choices,
                      check_destination)],
            read_name_when("event", "to")),
    command("paid", "/paid J-7K2Q 1000 cash", "record a payment", run_paid,
            [JOB, Question("amount", "How much was paid?", check=check_money),
             Question("method", "How?", method_choices)], read_paid),
    command("price", "/price J-7K2Q 4850", "set a new total (preview first)", run_price,
            [JOB, Question("total", "The new total?", check=check_money)], read_one("total")),
    command("add", "/add J-7K2Q Undermount sink, $350", "add a line item (preview first)", run_add,
            [JOB, Question("description", "What is added?"), Question("amount", "For how much?", check=check_money)],
            read_add),
    command("remove", "/remove J-7K2Q Undermount sink", "remove a line item (preview first)", run_remove,
            [JOB, Question("description", "Which line item goes?", item_choices, check_item)],
            read_one("description")),
    command("jobs", "/jobs", "your active jobs", run_jobs, ref=False),
    command("job", "/job J-7K2Q", "a job's card: timeline and buttons", run_job, [JOB]),
    command("link", "/link J-7K2Q", "the customer's payment page", run_link, [JOB]),
    command("invite", "/invite", "invite someone to use this Paystage (its owner only)", run_invite, ref=False),
    command("payments", "/payments", "take payments online: set up your Stripe account", run_payments, ref=False),
    command("profile", "/profile phone (415) 555-0100", "your business name, phone, timezone, currency...",
            run_profile, [Question("field", "What do you want to change?", profile_choices, check_profile_field),
                          Question("value", "The new value?")], read_profile, ref=False),
    command("help", "/help", "this list", run_help, ref=False),
]}
