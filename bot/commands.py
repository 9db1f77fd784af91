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

Every word the bot says is core.wording.contractor_texts': a command's usage,
summary and questions are marked there and said with it, a reply is asked for
by name with its data. It is said in the language being spoken, the
contractor's Telegram app's (bot/handlers.py); database work runs in a thread
that speaks it too.
"""

import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable

from core.access import OWNER, RETURNING, invite, join
from core.change_orders import apply_price_change, propose_price_change
from core.context import Actor, Context
from core.errors import Conflict, InvalidInput, NotFound
from core.events import add_event, cancel_event, mark_event_done, open_before, reschedule_event
from core.export import job_history, to_csv
from core.jobs import (
    Item,
    contractor_by_telegram,
    contractor_jobs,
    contractor_of,
    create_job,
    job_status,
    note_language,
    set_customer_language,
    update_profile,
)
from core.matching import match_event, match_name
from core.money import parse_amount
from core.payment_accounts import Onboarding, connect_payments
from core.payments import record_payment
from core.phones import to_e164
from core.plans import send_plan, set_plan
from core.pricing import PriceChange, preview_price_change
from core.reach import reach
from core.status import EventView, JobView
from core.when import parse_when
from core.wording import contractor_texts as texts
from core.wording.contractor_texts import (
    ASK_ADDED,
    ASK_ADDED_AMOUNT,
    ASK_AMOUNT_PAID,
    ASK_BECAUSE,
    ASK_BUSINESS,
    ASK_CANCELLED,
    ASK_CUSTOMER,
    ASK_DONE,
    ASK_EVENT,
    ASK_JOB,
    ASK_METHOD,
    ASK_MOVES,
    ASK_NEW_TOTAL,
    ASK_PAYMENTS_GO,
    ASK_PHONE,
    ASK_PLAN,
    ASK_PRICE,
    ASK_PROFILE_PART,
    ASK_PROFILE_VALUE,
    ASK_REMOVED,
    ASK_TITLE,
    ASK_TO_WHEN,
    ASK_WHEN,
    USAGES,
)
from core.wording.language import language_named
from core.wording.words import method_words, money

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
    text: str  # a document's caption, when it carries one
    buttons: Buttons = field(default_factory=list)
    keep: dict = field(default_factory=dict)  # pending confirmations: token -> what the button applies
    document: tuple[str, bytes] | None = None  # a file sent with `text` as its caption: (filename, its bytes)
    asking: str = ""  # the command whose first question `text` ends with (a new contractor's /start): answers go to it


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

    label: str  # in the reader's language
    data: str
    answer: str  # what a tap answers, as if typed


Choices = list[list[Choice]]  # rows of buttons


@dataclass(frozen=True)
class Question:
    key: str
    prompt: str  # as marked in contractor_texts; said with contractor_texts.question
    choices: Callable[[Services, Actor, dict], Choices] | None = None
    # reads one answer (the earlier ones at hand) and gives what is kept; a PaystageError says what is wrong
    check: Callable[[Services, Actor, dict, str], str] | None = None


@dataclass(frozen=True)
class Command:
    name: str
    usage: str  # the one-line form, shown in /help and in every error: as marked in contractor_texts.USAGES
    summary: str  # as marked in contractor_texts.SUMMARIES
    run: Callable[[Services, Actor, dict], Reply]
    questions: tuple[Question, ...] = ()
    parse: Callable[[Services, Actor, str], dict] = lambda s, a, args: {}
    # what /skip says and does while its questions are asked; None: they cannot be skipped
    skip: Callable[[Services, Actor, dict], Reply] | None = None


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
        raise InvalidInput(texts.which_profile_part())
    return name


def split_ref(s: Services, actor: Actor, args: str, usage: str) -> tuple[str, str]:
    """The job reference at the start of `args`; with one active job it may be left out."""
    first, _space, rest = args.strip().partition(" ")
    if REF.match(first):
        return first.upper(), rest.strip()
    jobs = contractor_jobs(s.ctx, actor)
    if len(jobs) == 1:
        return jobs[0].ref, args.strip()
    raise InvalidInput(texts.which_job(usage))


def two_parts(text: str, usage: str, *, last: bool = False) -> tuple[str, str]:
    """"A, B" split at the first (or last) comma followed by a space."""
    parts = re.split(r",\s+", text.strip())
    if len(parts) < 2:
        raise InvalidInput(texts.separate_with_commas(usage))
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
    return [[Choice(texts.button("due_now"), "now", "now")]] + [
        [Choice(texts.button("move_to", event=e.name), str(e.id), e.name)] for e in others]


def method_choices(s: Services, actor: Actor, answers: dict) -> Choices:
    return [[Choice(method_words(m), m, m) for m in METHODS[:3]], [Choice(method_words(m), m, m) for m in METHODS[3:]]]


def item_choices(s: Services, actor: Actor, answers: dict) -> Choices:
    job = job_status(s.ctx, actor, answers["job"])
    # the amount tells apart two items whose first 40 characters are the same
    return [[Choice(f"{description[:40]} {money(job, amount)}", str(line_id), description)]
            for (description, amount), line_id in zip(job.items, job.item_ids)]


def profile_choices(s: Services, actor: Actor, answers: dict) -> Choices:
    return [[Choice(texts.profile_part(key), key, key) for key in row]
            for row in (("name", "phone"), ("timezone", "currency"), ("locale", "instructions"))]


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
    return match_name(text, [description for description, _amount in job.items], noun="line item")


def check_profile_field(s: Services, actor: Actor, answers: dict, text: str) -> str:
    return profile_field(text)


def accept(s: Services, actor: Actor, question: Question, answers: dict, text: str) -> str:
    """A typed answer to `question`, as it is kept; a PaystageError when it is wrong (nothing is written)."""
    text = text.strip()
    return question.check(s, actor, answers, text) if question.check else text


def accept_tap(s: Services, actor: Actor, question: Question, answers: dict, data: str) -> str:
    """A tapped answer ("KEY:DATA", from a button made by ask_next) to `question`, if it offers that button now."""
    key, _colon, value = data.partition(":")
    offered = question.choices(s, actor, answers) if question.choices and key == question.key else []
    for choice in (choice for row in offered for choice in row):
        if choice.data == value:
            return accept(s, actor, question, answers, choice.answer)
    raise Conflict(texts.not_a_choice())


def choice_buttons(question: Question, choices: Choices) -> Buttons:
    """A question's choices as buttons: each carries the question it answers, then its data."""
    return [[(choice.label, f"ans:{question.key}:{choice.data}") for choice in row] for row in choices]


JOB = Question("job", ASK_JOB, job_choices, check_job)


# --- running them ------------------------------------------------------------------------------------------------


def run_start(s: Services, actor: Actor, a: dict) -> Reply:
    """The answer to a new contractor's question at /start (run_join asks it): their business's name, as
    /profile name sets it. /start itself is handled in bot.handlers: it needs the Telegram user, not an actor."""
    c = update_profile(s.ctx, actor, "business_name", a["business"])
    return Reply(texts.business_named(c.business_name))


def skip_start(s: Services, actor: Actor, a: dict) -> Reply:
    """/skip at /start's question: the name they registered with (their Telegram name) stays."""
    return Reply(texts.business_kept(contractor_of(actor).business_name))


def run_join(s: Services, telegram_id: int, name: str, code: str, language: str | None = None) -> Reply:
    """/start, or /start CODE from an invite link: let the Telegram user in, or say how to get in. `language`:
    what their Telegram app speaks, when it says (kept for what they are told later). Someone who has just
    registered, with `name` (their Telegram name), is asked what their business is called: /start's question."""
    joined = join(s.ctx, telegram_id=telegram_id, name=name, code=code, allowed_ids=s.allowed_ids or frozenset())
    if language:
        note_language(joined.contractor, language)
    new = joined.via != RETURNING
    return Reply(texts.welcome(joined.contractor.business_name, owner=joined.via == OWNER,
                               invite_unused=joined.via == RETURNING and bool(code.strip()), ask_name=new),
                 asking="start" if new else "")


def contractor_speaking(telegram_id: int, language: str | None):
    """The contractor who is this Telegram user, or None; `language`, what their Telegram app speaks when it
    says, is kept as theirs (core.jobs.note_language), so what they are told later is in it."""
    contractor = contractor_by_telegram(telegram_id)
    if contractor is not None and language:
        note_language(contractor, language)
    return contractor


def run_invite(s: Services, actor: Actor, a: dict) -> Reply:
    invitation = invite(s.ctx, actor)
    c = contractor_of(actor)
    return Reply(texts.invite(invitation.code, invitation.expires_at, c.timezone, c.locale, _username(s.bot)))


def _username(bot) -> str | None:
    """The bot's @username for t.me links; None before the bot has asked Telegram who it is."""
    try:
        return bot.username if bot is not None else None
    except RuntimeError:  # python-telegram-bot: not initialized yet
        return None


def run_newjob(s: Services, actor: Actor, a: dict) -> Reply:
    job = create_job(s.ctx, actor, customer_name=a["name"], phone=a["phone"], title=a["title"],
                     items=[Item(a["title"], money_of(actor, a["total"]))], language=a.get("language"))
    return Reply(texts.job_created(job))


def run_event(s: Services, actor: Actor, a: dict) -> Reply:
    when = None if unscheduled(a.get("when", "")) else when_of(s, actor, a["when"])
    result = add_event(s.ctx, actor, a["job"], a["name"], when)
    return Reply(texts.event_added(result.job, result.event))


def run_plan(s: Services, actor: Actor, a: dict) -> Reply:
    job = set_plan(s.ctx, actor, a["job"], a["sentence"])
    return Reply(texts.plan_preview(job), [[(texts.button("send"), f"send:{job.ref}")]])


def run_send(s: Services, actor: Actor, a: dict) -> Reply:
    job = send_plan(s.ctx, actor, a["job"])
    return Reply(texts.plan_sent(job, reach(job, s.ctx.quiet_hours)))


def run_done(s: Services, actor: Actor, a: dict) -> Reply:
    """/done: the event named, unless an event scheduled before it is still to happen; then it is asked once,
    with a button that marks it done anyway (doneanyway:REF:eID), and nothing changes until it is tapped."""
    job = job_status(s.ctx, actor, a["job"])
    if job.state == "active":  # a cancelled job: mark_event_done says so
        open_events = [e for e in job.events if e.state == "scheduled"]
        name = match_event(a["event"], [e.name for e in open_events])
        event = next(e for e in open_events if e.name == name)
        if asked := done_out_of_order(job, event):
            return asked
    return mark_done(s, actor, job.ref, a["event"])


def done_out_of_order(job: JobView, event: EventView) -> Reply | None:
    """The question /done asks of an event done before an earlier one (core.events.open_before), or None."""
    earlier = open_before(job, event)
    if not earlier:
        return None
    return Reply(texts.done_out_of_order(event.name, [e.name for e in earlier]),
                 [[(texts.button("done_anyway", event=event.name), f"doneanyway:{job.ref}:e{event.id}")]])


def mark_done(s: Services, actor: Actor, ref: str, name: str) -> Reply:
    result = mark_event_done(s.ctx, actor, ref, name)
    job = result.job
    owed = sum(m.open_amount for m in job.milestones if m.id in result.announced) if result.announced else None
    return Reply(texts.event_done(job, result.event, owed, reach(job, s.ctx.quiet_hours)))


def run_move(s: Services, actor: Actor, a: dict) -> Reply:
    result = reschedule_event(s.ctx, actor, a["job"], a["event"], when_of(s, actor, a["when"]))
    return Reply(texts.event_moved(result.job, result.event, reach(result.job, s.ctx.quiet_hours)))


def run_cancelevent(s: Services, actor: Actor, a: dict) -> Reply:
    target = destination(a.get("to", ""))
    result = cancel_event(s.ctx, actor, a["job"], a["event"], milestones_to=target or None)
    return Reply(texts.event_cancelled(result.job, result.event, bool(result.announced),
                                       reach(result.job, s.ctx.quiet_hours)))


def run_paid(s: Services, actor: Actor, a: dict) -> Reply:
    amount = money_of(actor, a["amount"])
    method = a.get("method") or "other"
    result = record_payment(s.ctx, actor, a["job"], amount, method)
    return Reply(texts.payment_recorded(result.job, amount, method, reach(result.job, s.ctx.quiet_hours)))


def price_change_reply(s: Services, actor: Actor, ref: str, change: PriceChange) -> Reply:
    """The preview, and what its buttons offer: to apply it (to a plan not sent yet), or to send it for the
    customer's approval (replacing the change order waiting for their answer, or once it is answered), or to apply
    it without their approval, saying why."""
    view = preview_price_change(s.ctx, actor, ref, change)
    job = job_status(s.ctx, actor, ref)
    token = secrets.token_hex(4)
    drop, anyway = (texts.button("drop"), "drop"), (texts.button("apply_anyway"), f"change:force:{token}")
    if not job.plan_sent:
        buttons = [[(texts.button("apply"), f"change:send:{token}"), drop]]
    elif job.change_order:
        number = job.change_order.number
        buttons = [[(texts.button("replace_change", number=number), f"change:replace:{token}")],
                   [(texts.button("after_change", number=number), f"change:wait:{token}")], [anyway, drop]]
    else:
        buttons = [[(texts.button("send_change"), f"change:send:{token}")], [anyway, drop]]
    return Reply(texts.price_preview(job, view), buttons,
                 keep={token: {"job": ref, "kind": change.kind, "description": change.description,
                               "amount": change.amount}})


def run_price(s: Services, actor: Actor, a: dict) -> Reply:
    return price_change_reply(s, actor, a["job"], PriceChange.total(money_of(actor, a["total"])))


def run_add(s: Services, actor: Actor, a: dict) -> Reply:
    return price_change_reply(s, actor, a["job"], PriceChange.add(a["description"], money_of(actor, a["amount"])))


def run_remove(s: Services, actor: Actor, a: dict) -> Reply:
    return price_change_reply(s, actor, a["job"], PriceChange.remove(a["description"]))


def send_change(s: Services, actor: Actor, kept: dict, how: str) -> Reply:
    """A previewed change (`kept`), sent for approval as `how` says: send, replace, wait."""
    change = PriceChange(kept["kind"], kept["description"], kept["amount"])
    proposed = propose_price_change(s.ctx, actor, kept["job"], change, replace=how == "replace", wait=how == "wait")
    job = proposed.job
    if proposed.outcome == "written":
        return Reply(texts.price_applied(job, proposed.change.new_total, reach(job, s.ctx.quiet_hours)))
    if proposed.outcome == "waiting":
        return Reply(texts.change_order_waiting(job, proposed.number))
    return Reply(texts.change_order_sent(job, job.change_order, reach(job, s.ctx.quiet_hours)))


def run_apply(s: Services, actor: Actor, a: dict) -> Reply:
    """/apply: the change order waiting for the customer's answer (or the change previewed, when the preview's
    button asked), applied without their approval for the reason given."""
    kept = a.get("change")
    change = PriceChange(kept["kind"], kept["description"], kept["amount"]) if kept else None
    view = apply_price_change(s.ctx, actor, a["job"], change, because=a["reason"])
    job = job_status(s.ctx, actor, a["job"])
    return Reply(texts.price_applied(job, view.new_total, reach(job, s.ctx.quiet_hours)))


def run_jobs(s: Services, actor: Actor, a: dict) -> Reply:
    jobs = contractor_jobs(s.ctx, actor)
    return Reply(texts.job_list(jobs), [[(j.ref, f"job:{j.ref}")] for j in jobs[:8]])


def job_card_reply(s: Services, actor: Actor, ref: str) -> Reply:
    return card_of(job_status(s.ctx, actor, ref))


def card_of(job: JobView, said: str = "") -> Reply:
    """A job's card and its buttons; `said` before it."""
    buttons: Buttons = [[(texts.button("done", event=e.name), f"done:{job.ref}:e{e.id}")]
                        for e in job.events if e.state == "scheduled" and job.state == "active"]
    if job.milestones and not job.plan_sent:
        buttons.append([(texts.button("send_plan"), f"send:{job.ref}")])
    buttons.append([(texts.button("record_payment"), f"ask:paid:{job.ref}"),
                    (texts.button("payment_link"), f"link:{job.ref}")])
    buttons.append([(texts.language_button(language), f"lang:{job.ref}:{language}")
                    for language in texts.other_languages(job)])
    card = texts.job_card(job)
    return Reply(f"{said}\n\n{card}" if said else card, buttons)


def run_job(s: Services, actor: Actor, a: dict) -> Reply:
    return job_card_reply(s, actor, a["job"])


def done_by_id(s: Services, actor: Actor, ref: str, event_id: int, *, anyway: bool = False) -> Reply:
    """An event's "done" on a job card: the event the button names by its id, if it is this job's and still to do;
    asked first when an earlier event is still to happen, as /done asks. `anyway`: the button of that question
    ("Mark Removal done anyway"), which marks it done."""
    job = job_status(s.ctx, actor, ref)
    event = next((e for e in job.events if e.id == event_id), None)
    if event is None:
        raise NotFound(texts.event_gone())
    if event.state != "scheduled":
        raise Conflict(texts.event_over(event.name, event.state))
    asked = None if anyway or job.state != "active" else done_out_of_order(job, event)
    return asked or mark_done(s, actor, job.ref, event.name)


def run_language(s: Services, actor: Actor, ref: str, language: str) -> Reply:
    """"Texts in Spanish" on a job card: the customer's texts and page in that language from now on."""
    job = set_customer_language(s.ctx, actor, ref, language)
    return card_of(job, texts.language_changed(job))


def run_link(s: Services, actor: Actor, a: dict) -> Reply:
    job = job_status(s.ctx, actor, a["job"])
    return Reply(texts.payment_link(job, s.ctx.links.url(job.ref, s.ctx.clock())))


def run_export(s: Services, actor: Actor, a: dict) -> Reply:
    """/export: the job's paper trail (core.export.job_history) as a CSV file, REF.csv."""
    rows = job_history(s.ctx, actor, a["job"])
    job = job_status(s.ctx, actor, a["job"])
    return Reply(texts.export_caption(job), document=(f"{job.ref}.csv", to_csv(rows)))


def run_payments(s: Services, actor: Actor, a: dict) -> Reply:
    """Whether customers pay online, and with Connect the link to set up the contractor's own Stripe account."""
    if s.payments is None:
        return Reply(texts.payments_by_instructions())
    if not s.payments.connect:
        return Reply(texts.payments_into_this_paystage())
    token = s.ctx.links.token(f"C{actor.key}", s.ctx.clock())
    base = s.payments.public_base_url
    connection = connect_payments(s.ctx, actor, s.payments.onboarding, refresh_url=f"{base}/connect/again",
                                  return_url=f"{base}/connect/back/{token}")
    if connection.ready:
        return Reply(texts.payments_connected())
    return Reply(texts.payments_to_set_up(connection.link))


def run_profile(s: Services, actor: Actor, a: dict) -> Reply:
    c = update_profile(s.ctx, actor, profile_field(a["field"]), a["value"])
    return Reply(texts.profile(business=c.business_name, phone=c.phone, timezone=c.timezone, currency=c.currency,
                               locale=c.locale, instructions=c.payment_instructions))


def run_help(s: Services, actor: Actor, a: dict) -> Reply:
    return Reply(texts.help_text([(c.usage, c.summary) for c in COMMANDS.values() if c.name not in ("start", "help")]))


def menu() -> list[tuple[str, str]]:
    """The commands Telegram's menu lists, with what each does, as marked: said with contractor_texts.command_menu."""
    return [(c.name, c.summary) for c in COMMANDS.values()]


# --- one-line forms: each reads what follows the job reference --------------------------------------------------


def need(text: str, usage: str) -> str:
    if not text.strip():
        raise InvalidInput(texts.something_missing(usage))
    return text.strip()


def read_newjob(text: str, usage: str) -> dict:
    """"NAME, PHONE, TITLE, TOTAL", and, optionally, the language the customer reads last ("es", "Spanish")."""
    parts = re.split(r",\s+", text.strip())
    language = language_named(parts[-1]) if len(parts) > 4 else None
    if language:
        parts = parts[:-1]
    if len(parts) < 4:
        raise InvalidInput(texts.newjob_needs_four(usage))
    return {"name": parts[0], "phone": parts[1], "title": ", ".join(parts[2:-1]), "total": parts[-1],
            **({"language": language} if language else {})}


def read_name_when(key: str, then: str = "when"):
    """"NAME, REST": an event's name, and what follows the comma (its time, or where its payments go)."""
    def read(text: str, usage: str) -> dict:
        name, _comma, rest = need(text, usage).partition(",")
        return {key: name.strip(), then: rest.strip()}
    return read


def read_one(key: str):
    return lambda text, usage: {key: need(text, usage)}


def read_paid(text: str, usage: str) -> dict:
    amount, _space, method = need(text, usage).partition(" ")
    return {"amount": amount, "method": method.strip().lower() or "other"}


def read_add(text: str, usage: str) -> dict:
    description, amount = two_parts(need(text, usage), usage, last=True)
    return {"description": description, "amount": amount}


def read_profile(text: str, usage: str) -> dict:
    field_name, _space, value = need(text, usage).partition(" ")
    return {"field": field_name, "value": need(value, usage)}


def command(name: str, usage: str, summary: str, run, questions=(), read=None, *, ref: bool = True,
            skip=None) -> Command:
    """A command whose one-line form is `usage`: a job reference first (when `ref`), then what `read` reads;
    `skip`, what /skip does while its questions are asked (None: they cannot be skipped)."""

    def parse(s: Services, actor: Actor, args: str) -> dict:
        answers = {}
        if ref:
            answers["job"], args = split_ref(s, actor, args, usage)
        return {**answers, **(read(args, usage) if read else {})}

    return Command(name, usage, summary, run, tuple(questions), parse, skip)


COMMANDS: dict[str, Command] = {c.name: c for c in [
    # asked only by run_join, of someone who has just registered: /start in one line is handled in bot.handlers
    command("start", USAGES["start"], texts.SUMMARIES["start"], run_start, [Question("business", ASK_BUSINESS)],
            ref=False, skip=skip_start),
    command("newjob", USAGES["newjob"], texts.SUMMARIES["newjob"], run_newjob,
            [Question("name", ASK_CUSTOMER), Question("phone", ASK_PHONE, check=check_phone),
             Question("title", ASK_TITLE), Question("total", ASK_PRICE, check=check_money)], read_newjob, ref=False),
    command("event", USAGES["event"], texts.SUMMARIES["event"], run_event,
            [JOB, Question("name", ASK_EVENT), Question("when", ASK_WHEN, check=check_when_or_unscheduled)],
            read_name_when("name")),
    command("plan", USAGES["plan"], texts.SUMMARIES["plan"], run_plan, [JOB, Question("sentence", ASK_PLAN)],
            read_one("sentence")),
    command("send", USAGES["send"], texts.SUMMARIES["send"], run_send, [JOB]),
    command("done", USAGES["done"], texts.SUMMARIES["done"], run_done,
            [JOB, Question("event", ASK_DONE, event_choices, check_event)], read_one("event")),
    command("move", USAGES["move"], texts.SUMMARIES["move"], run_move,
            [JOB, Question("event", ASK_MOVES, event_choices, check_event),
             Question("when", ASK_TO_WHEN, check=check_when)],
            read_name_when("event")),
    command("cancelevent", USAGES["cancelevent"], texts.SUMMARIES["cancelevent"], run_cancelevent,
            [JOB, Question("event", ASK_CANCELLED, event_choices, check_event),
             Question("to", ASK_PAYMENTS_GO, destination_choices, check_destination)],
            read_name_when("event", "to")),
    command("paid", USAGES["paid"], texts.SUMMARIES["paid"], run_paid,
            [JOB, Question("amount", ASK_AMOUNT_PAID, check=check_money), Question("method", ASK_METHOD,
                                                                                   method_choices)], read_paid),
    command("price", USAGES["price"], texts.SUMMARIES["price"], run_price,
            [JOB, Question("total", ASK_NEW_TOTAL, check=check_money)], read_one("total")),
    command("add", USAGES["add"], texts.SUMMARIES["add"], run_add,
            [JOB, Question("description", ASK_ADDED), Question("amount", ASK_ADDED_AMOUNT, check=check_money)],
            read_add),
    command("remove", USAGES["remove"], texts.SUMMARIES["remove"], run_remove,
            [JOB, Question("description", ASK_REMOVED, item_choices, check_item)], read_one("description")),
    command("jobs", USAGES["jobs"], texts.SUMMARIES["jobs"], run_jobs, ref=False),
    command("job", USAGES["job"], texts.SUMMARIES["job"], run_job, [JOB]),
    command("link", USAGES["link"], texts.SUMMARIES["link"], run_link, [JOB]),
    command("apply", USAGES["apply"], texts.SUMMARIES["apply"], run_apply, [JOB, Question("reason", ASK_BECAUSE)],
            read_one("reason")),
    command("export", USAGES["export"], texts.SUMMARIES["export"], run_export, [JOB]),
    command("invite", USAGES["invite"], texts.SUMMARIES["invite"], run_invite, ref=False),
    command("payments", USAGES["payments"], texts.SUMMARIES["payments"], run_payments, ref=False),
    command("profile", USAGES["profile"], texts.SUMMARIES["profile"], run_profile,
            [Question("field", ASK_PROFILE_PART, profile_choices, check_profile_field),
             Question("value", ASK_PROFILE_VALUE)], read_profile, ref=False),
    command("help", USAGES["help"], texts.SUMMARIES["help"], run_help, ref=False),
]}
