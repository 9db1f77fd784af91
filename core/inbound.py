"""A customer's own text message, answered in the same request.

The words a customer can text (case, accents and punctuation forgiving), in
English or Spanish whatever language they read: BAL/SALDO, NEXT/PROXIMO,
PLAN, PAY/PAGAR, HELP/AYUDA, YES/SI or NO to a change order (core.change_orders), ESPAÑOL or ENGLISH
to read every text and the page in that language, a number to pick one of
several jobs, and Twilio's opt-out and opt-in words (STOP and START always
work). Anything else is passed on to the contractor in Telegram. A phone
that belongs to no job learns nothing.

A phone with several jobs (perhaps with several businesses, each of which
typed the number in) is asked which one it means until it picks one by its
number. What it texts in its own words before then is kept, and passed on to
the business of the job it picks, never guessed: the customer is told so.

Each text is handled once per provider message id: a provider retry gets the
same answer and changes nothing more.

A storm from one phone (an auto-responder answering our answers, a stuck
phone) is paced: every text is still handled as it would be (a STOP, a YES,
words passed on to the contractor: nothing said is lost), but the phone gets
at most ANSWER_BURST answers at once and then one every ANSWER_EVERY; the
first text over that pace is told so politely, the rest get silence. What
costs money and feeds a loop is the answer.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import IntegrityError

from core.change_orders import answer_by_text
from core.context import Actor, Context
from core.jobs import jobs_with_parties, opted_out
from core.journal import audit, tell_contractor
from core.views import job_view
from core.wording import contractor_texts, customer_replies
from storage.compiled import Compiled
from storage.models import Customer, HeldText, InboundMessage, Job, PhoneChoice, RateLimit, db

OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN = {"START", "UNSTOP"}  # YES is an opt-in word too, when the phone had opted out
COMMANDS = {  # word -> answer(job view, payment link)
    "BAL": customer_replies.balance,
    "BALANCE": customer_replies.balance,
    "SALDO": customer_replies.balance,
    "NEXT": lambda job, link: customer_replies.next_payment(job),
    "STATUS": lambda job, link: customer_replies.next_payment(job),
    "PROXIMO": lambda job, link: customer_replies.next_payment(job),
    "PLAN": customer_replies.plan,
    "PAY": customer_replies.pay,
    "PAGAR": customer_replies.pay,
}
HELP = {"HELP", "INFO", "AYUDA"}
YES = {"YES", "SI"}
NO = {"NO"}  # to a change order waiting for an answer; otherwise the customer's own words, passed on
LANGUAGES = {"ESPANOL": "es", "ENGLISH": "en", "INGLES": "en"}  # accents are folded: ESPAÑOL is ESPANOL
SPANISH = {"SALDO", "PROXIMO", "PAGAR", "AYUDA", "SI", "ESPANOL"}  # a phone we do not know is answered in Spanish
RELAY_LIMIT = 1600  # what one SMS can carry, concatenated
ANSWER_BURST = 10  # answers a phone gets at once...
ANSWER_EVERY = timedelta(seconds=30)  # ...and then one every this long


@dataclass(frozen=True)
class Answer:
    text: str | None  # None: answer with nothing (Twilio itself confirms a STOP)
    duplicate: bool = False


def answer_text(ctx: Context, phone: str, body: str, message_id: str) -> Answer:
    """Handle one inbound text from `phone` and return what to answer.

    The message id is kept with the answer in the same transaction, in one insert after the answer is known: a
    retry that finds it (or that inserts it second, after waiting for the first to commit) undoes whatever it did
    and is given the first answer, so a text is handled once however often it arrives.
    """
    now = ctx.clock()
    try:
        with db.atomic():
            text = _answer(ctx, phone, body, message_id)
            if text is not None and keyword(body) not in OPT_IN:  # START is always confirmed (STOP is Twilio's)
                text = _paced(phone, text, now)
            _HANDLED.execute(message_id, now, text)
            return Answer(text)
    except IntegrityError:  # this message id was handled before (or is being handled right now)
        earlier = InboundMessage.get_or_none(InboundMessage.provider_id == message_id)
        return Answer(earlier.reply if earlier else None, duplicate=True)


# What every text reads and writes, its SQL built once (storage.compiled): a burst of BALs is mostly these.
_ACTIVE_JOBS = Compiled(lambda phone: jobs_with_parties().where(Customer.phone == phone, Job.state == "active")
                        .order_by(Job.id))
_HANDLED = Compiled(lambda message_id, now, reply: InboundMessage.insert(
    provider_id=message_id, channel="sms", received_at=now, reply=reply))
_MOMENT = Compiled(lambda key: RateLimit.select().where(RateLimit.key == key))
_KEEP_MOMENT = Compiled(lambda key, moment: RateLimit.insert(key=key, next_at=moment).on_conflict(
    conflict_target=[RateLimit.key], update={RateLimit.next_at: moment}))


def _answer(ctx: Context, phone: str, body: str, message_id: str) -> str | None:
    now = ctx.clock()
    word = keyword(body)
    customer = Actor.customer(phone)
    jobs = _ACTIVE_JOBS.models(phone)
    if word in OPT_OUT:
        _opt(ctx, phone, jobs, out=True, message_id=message_id)
        return None
    if not jobs:
        return customer_replies.unknown_number("es" if word in SPANISH else None)
    job = _current_job(phone, jobs)
    if word in OPT_IN or (word in YES and opted_out(phone)):
        _opt(ctx, phone, jobs, out=False, message_id=message_id)
        return customer_replies.opted_in(job_view(job, now) if job else None, jobs[0].customer.language)
    if word in LANGUAGES:
        return _set_language(ctx, phone, jobs, job, LANGUAGES[word], message_id)
    if len(jobs) > 1 and word.isdigit() and len(word) <= 3 and 1 <= int(word) <= len(jobs):  # not int('7' * 5000)
        picked = jobs[int(word) - 1]
        PhoneChoice.insert(phone=phone, job=picked, chosen_at=now).on_conflict(
            conflict_target=[PhoneChoice.phone], update={PhoneChoice.job: picked, PhoneChoice.chosen_at: now}
        ).execute()
        audit(picked, customer, "job_chosen", now, new={"phone": phone})
        return customer_replies.chosen(job_view(picked, now), _pass_on_held(picked, phone, now))
    if job is None:
        own_words = bool(word) and word not in COMMANDS and word not in HELP and word not in YES and not word.isdigit()
        if own_words:  # kept until the phone picks a job: then its business gets it
            HeldText.create(phone=phone, body=body.strip()[:RELAY_LIMIT], message_id=message_id, received_at=now)
        return customer_replies.choose_job([job_view(j, now) for j in jobs],
                                           businesses=len({j.contractor_id for j in jobs}), held=own_words)
    view = job_view(job, now)
    link = ctx.links.url(job.ref, now)  # a fresh link with every answer
    if word in COMMANDS:
        return COMMANDS[word](view, link)
    if word in HELP or not word:
        return customer_replies.help(view)
    if word in YES or (word in NO and view.change_order):
        return _answer_change(ctx, phone, job, word in YES, message_id)
    tell_contractor(job.contractor, job, "relay", contractor_texts.relay(view, body.strip()[:RELAY_LIMIT]),
                    key=f"inbound:{message_id}:relay", now=now)
    return customer_replies.relayed(view)


def _paced(phone: str, answer: str, now: datetime) -> str | None:
    """`answer`, while the phone keeps within the pace; over it, a polite word the first time, then nothing.

    The pace is a leaky bucket kept as one moment per phone (RateLimit "answer:PHONE"): it moves ANSWER_EVERY
    later with each answer, from now at the latest, and an answer is given while it is at most ANSWER_BURST
    answers ahead of now. "answer-pace:PHONE" is until when the phone knows it is over: it is told once per storm.
    """
    key, told_key = f"answer:{phone}", f"answer-pace:{phone}"
    pace = _moment(key)
    room = ANSWER_BURST * ANSWER_EVERY
    # never further ahead than `room`, unless the clock went back (a demo's clock, a host's clock corrected)
    start = pace.next_at if pace and now <= pace.next_at <= now + room else now
    after = start + ANSWER_EVERY
    if after - now <= room:
        _keep_moment(key, after)
        return answer
    told = _moment(told_key)
    if told and told.next_at > now:
        return None
    _keep_moment(told_key, after - ANSWER_EVERY)  # until the bucket has room again
    return customer_replies.slow_down(_language_of(phone))


def _moment(key: str) -> RateLimit | None:
    return next(iter(_MOMENT.models(key)), None)


def _keep_moment(key: str, moment: datetime) -> None:
    _KEEP_MOMENT.execute(key, moment)


def _language_of(phone: str) -> str | None:
    customer = Customer.get_or_none(Customer.phone == phone)
    return customer.language if customer else None


def keyword(body: str) -> str:
    """What a text says as a keyword: " Próximo! " is PROXIMO, "Sí" is SI, "español" is ESPANOL."""
    folded = unicodedata.normalize("NFKD", body.upper())
    return re.sub(r"[^A-Z0-9]", "", "".join(c for c in folded if not unicodedata.combining(c)))


def _set_language(ctx: Context, phone: str, jobs: list[Job], job: Job | None, language: str, message_id: str) -> str:
    """ESPAÑOL or ENGLISH: the person with this phone reads every text and page in that language from now on,
    from every business they have a job with; each business whose customer they are is told."""
    now = ctx.clock()
    changed = (Customer.update(language=language)
               .where(Customer.phone == phone, Customer.language != language).execute())
    for each in jobs:
        each.customer.language = language  # the rows read before the update
    if changed:
        for each in jobs:
            audit(each, Actor.customer(phone), "language_set", now, new={"language": language})
            tell_contractor(each.contractor, each, "language_set", contractor_texts.language_set(job_view(each, now)),
                            key=f"inbound:{message_id}:language:{each.id}", now=now)
    return customer_replies.language_set(job_view(job, now) if job else None, language)


def _current_job(phone: str, jobs: list[Job]) -> Job | None:
    """The one job, or the one the phone picked; None while a phone with several has not picked."""
    if len(jobs) == 1:
        return jobs[0]
    choice = PhoneChoice.get_or_none(PhoneChoice.phone == phone)
    return next((j for j in jobs if choice and j.id == choice.job_id), None)


def _pass_on_held(picked: Job, phone: str, now) -> int:
    """What the phone texted before it picked a job goes to the picked job's contractor, oldest first."""
    held = list(HeldText.select().where(HeldText.phone == phone).order_by(HeldText.id))
    if not held:
        return 0
    view = job_view(picked, now)
    for text in held:
        tell_contractor(picked.contractor, picked, "relay", contractor_texts.relay(view, text.body, held=True),
                        key=f"inbound:{text.message_id}:relay", now=now)
    HeldText.delete().where(HeldText.id.in_([text.id for text in held])).execute()
    return len(held)


def _opt(ctx: Context, phone: str, jobs: list[Job], *, out: bool, message_id: str) -> None:
    """Record a STOP (or START) for the phone and tell each contractor with an active job for it."""
    now = ctx.clock()
    changed = (Customer.update(opted_out_at=now if out else None)
               .where(Customer.phone == phone, Customer.opted_out_at.is_null(out)).execute())
    if not changed:
        return
    for job in jobs:
        audit(job, Actor.customer(phone), "opted_out" if out else "opted_in", now)
        view = job_view(job, now)
        tell_contractor(job.contractor, job, "opted_out" if out else "opted_in",
                        contractor_texts.opted_out(view) if out else contractor_texts.opted_in(view),
                        key=f"inbound:{message_id}:opt:{job.id}", now=now)


def _answer_change(ctx: Context, phone: str, job: Job, approve: bool, message_id: str) -> str:
    """YES or NO to the job's change order waiting for an answer: the message id is the evidence."""
    answered = answer_by_text(ctx, phone, job.ref, approve, message_id)
    if answered.outcome == "approved":
        return customer_replies.change_approved(answered.job)
    if answered.outcome == "declined":
        return customer_replies.change_declined(answered.job)
    if answered.outcome in ("closed", "expired"):
        return customer_replies.change_closed(answered.job, answered.order)
    return customer_replies.nothing_to_accept(answered.job)
