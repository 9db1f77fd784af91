"""Use cases for contractors and jobs: register, create a job, find it, cancel it, see where it stands."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from core import regional
from core.context import Actor, Context
from core.errors import Conflict, InvalidInput, NotFound
from core.journal import audit
from core.money import MAX_MAJOR_UNITS, format_money, minor_units
from core.phones import to_e164
from core.status import JobView
from core.views import job_view
from core.wording.language import ENGLISH, LANGUAGES, N_, _
from storage.compiled import Compiled
from storage.models import ChangeOrder, Contractor, Customer, Job, LineItem, db

REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I: read aloud and typed on a phone
NO_BUSINESS_NAME = N_("A business name cannot be empty. Example: Whitfield Stone & Tile")


@dataclass(frozen=True)
class Item:
    description: str
    amount: int  # minor units


def register_contractor(ctx: Context, *, business_name: str, telegram_id: int | None = None,
                        phone: str = "", payment_instructions: str = "", via: str = "") -> Contractor:
    """A contractor with the installation's defaults; registering again returns the same one.

    Who may register is decided before this (core.access): `via` records how they came in.
    """
    with db.atomic():
        if telegram_id is not None:
            existing = Contractor.get_or_none(Contractor.telegram_id == telegram_id)
            if existing:
                return existing
        name = business_name.strip()
        if not name:
            raise InvalidInput(_(NO_BUSINESS_NAME))
        d = ctx.defaults
        contractor = Contractor.create(
            telegram_id=telegram_id, business_name=name[:120], phone=to_e164(phone, d.region) if phone else "",
            timezone=d.timezone, currency=d.currency, locale=d.locale,
            payment_instructions=payment_instructions, created_at=ctx.clock(),
        )
        audit(None, Actor.contractor(contractor.id), "contractor_registered", ctx.clock(),
              new={"name": name, **({"via": via} if via else {})})
        return contractor


def jobs_with_parties():
    """Jobs read with their customer and contractor in the same query: a job view needs all three."""
    return Job.select(Job, Customer, Contractor).join(Customer).switch(Job).join(Contractor)


# What every contractor's command reads first, its SQL built once (storage.compiled).
_BY_REF = Compiled(lambda ref: jobs_with_parties().where(Job.ref == ref))
_BY_REF_LOCKED = Compiled(lambda ref: jobs_with_parties().where(Job.ref == ref).for_update(of=Job))
_BY_TELEGRAM = Compiled(lambda telegram_id: Contractor.select().where(Contractor.telegram_id == telegram_id))


def load_job(actor: Actor, ref: str, *, lock: bool = False) -> Job:
    """The job `ref` if the actor may see it. Another contractor's job is simply not found.

    With `lock`, inside a transaction, the job's row stays locked until the transaction ends, so two use cases
    writing to one job (a webhook's payment and a contractor's /paid) take turns instead of both reading the same
    open milestones. PostgreSQL locks the row; SQLite's writers already take the whole database in turn.
    """
    found = (_BY_REF_LOCKED if lock and db.for_update else _BY_REF).models(ref.strip().upper())
    job = found[0] if found else None
    allowed = job is not None and (
        actor.kind == "system"
        or (actor.kind == "contractor" and str(job.contractor_id) == actor.key)
        or (actor.kind == "customer" and job.customer.phone == actor.key)
    )
    if not allowed:
        raise NotFound(_("There is no job {ref} among your jobs. /jobs lists them.").format(ref=repr(ref.strip())))
    return job


def require_active(job: Job) -> None:
    if job.state != "active":
        raise Conflict(_("{ref} was cancelled; it cannot change any more.").format(ref=job.ref))


def create_job(ctx: Context, actor: Actor, *, customer_name: str, phone: str, title: str,
               items: list[Item], language: str | None = None) -> JobView:
    """A new job for the acting contractor: its customer (by phone, reused if known) and its line items;
    `language` ("es") is the customer's texts' and page's, else what it was, or English for a new customer."""
    contractor = Contractor.get_by_id(int(actor.key))
    name, title = customer_name.strip(), title.strip()
    if not name:
        raise InvalidInput(_("The customer's name is missing. "
                             "Example: Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000"))
    if not title:
        raise InvalidInput(_("The job needs a title. Example: Kitchen countertops"))
    if not items:
        raise InvalidInput(_("The job needs a price: a total or at least one line item. Example: $4,000"))
    check_amounts(items, contractor.currency, contractor.locale)
    e164 = to_e164(phone, ctx.defaults.region)
    now = ctx.clock()
    with db.atomic():
        customer = Customer.get_or_none(Customer.contractor == contractor, Customer.phone == e164)
        if customer is None:
            customer = Customer.create(contractor=contractor, name=name[:120], phone=e164,
                                       timezone=contractor.timezone, created_at=now, language=language or ENGLISH)
        elif language and customer.language != language:
            Customer.update(language=language).where(Customer.id == customer.id).execute()
        job = Job.create(ref=_new_ref(), contractor=contractor, customer=customer, title=title[:200],
                         currency=contractor.currency, locale=contractor.locale, created_at=now)
        for position, item in enumerate(items):
            LineItem.create(job=job, position=position, description=item.description.strip()[:200],
                            amount=item.amount)
        audit(job, actor, "job_created", now, new={
            "customer": name, "phone": e164, "title": title, "language": language or customer.language,
            "items": [[i.description, i.amount] for i in items],
        })
        return job_view(job, now)


def set_customer_language(ctx: Context, actor: Actor, ref: str, language: str) -> JobView:
    """The contractor says which language a job's customer reads: their texts and page from now on."""
    if language not in LANGUAGES:
        raise InvalidInput(_("Texts can be in English or Spanish: en or es."))
    now = ctx.clock()
    with db.atomic():
        job = load_job(actor, ref, lock=True)
        customer = job.customer
        if customer.language != language:
            Customer.update(language=language).where(Customer.id == customer.id).execute()
            audit(job, actor, "language_set", now, old={"language": customer.language}, new={"language": language})
        return job_view(Job.get_by_id(job.id), now)


def note_language(contractor: Contractor, language: str) -> None:
    """What Telegram says the contractor's app speaks, kept for what they are told when no message of theirs
    is being answered (a payment received, a customer's text)."""
    if contractor.language != language:
        Contractor.update(language=language).where(Contractor.id == contractor.id).execute()
        contractor.language = language


def cancel_job(ctx: Context, actor: Actor, ref: str) -> JobView:
    now = ctx.clock()
    with db.atomic():
        job = load_job(actor, ref, lock=True)
        require_active(job)
        Job.update(state="cancelled").where(Job.id == job.id).execute()
        withdraw_change_orders(job, actor, now)
        audit(job, actor, "job_cancelled", now, old={"state": "active"}, new={"state": "cancelled"})
        job.state = "cancelled"
        return job_view(job, now)


def withdraw_change_orders(job: Job, actor: Actor, now: datetime) -> None:
    """The job was cancelled or its plan replaced: none of its change orders can be answered any more."""
    (ChangeOrder.update(state="withdrawn", answered_at=now, answered_via="telegram", answered_by=str(actor),
                        remind_at=None)
     .where(ChangeOrder.job == job, ChangeOrder.state.in_(("waiting", "pending"))).execute())


def job_status(ctx: Context, actor: Actor, ref: str) -> JobView:
    """Where one job stands now: paid, due now, next, remaining."""
    return job_view(load_job(actor, ref), ctx.clock())


def jobs_on_phone(ctx: Context, phone: str) -> list[JobView]:
    """The active jobs of the customer texting from `phone` (any contractor), oldest first."""
    now = ctx.clock()
    jobs = jobs_with_parties().where(Customer.phone == phone, Job.state == "active").order_by(Job.id)
    return [job_view(job, now) for job in jobs]


def check_amounts(items: list[Item], currency: str, locale: str) -> None:
    """Line items a job is created with or given (core.pricing): each more than zero and at most the cap, and so
    is their total (check_total)."""
    limit = MAX_MAJOR_UNITS * 10 ** minor_units(currency)
    for item in items:
        if not 0 < item.amount <= limit:
            raise InvalidInput(_("{item}: an amount must be more than zero and at most {most} {currency}.").format(
                item=repr(item.description), most=f"{MAX_MAJOR_UNITS:,}", currency=currency))
    check_total(sum(i.amount for i in items), currency, locale)


def check_total(total: int, currency: str, locale: str) -> None:
    """A job's price, when it is created and after every change of price: more than zero, at most the cap."""
    if total <= 0:
        raise InvalidInput(_("The job's total would be {total}; it must be more than zero.").format(
            total=format_money(total, currency, locale)))
    if total > MAX_MAJOR_UNITS * 10 ** minor_units(currency):
        raise InvalidInput(_("The job's total is more than {most} {currency}; that cannot be right.").format(
            most=f"{MAX_MAJOR_UNITS:,}", currency=currency))


def _new_ref() -> str:
    """A short reference no other job has: J- and four characters, five once four get crowded."""
    for length in (4, 4, 4, 5, 5, 5, 6):
        ref = "J-" + "".join(secrets.choice(REF_ALPHABET) for _i in range(length))
        if not Job.select().where(Job.ref == ref).exists():
            return ref
    raise RuntimeError("could not find a free job reference")


def opted_out(phone: str) -> bool:
    """Did the customer texting from `phone` reply STOP (to any contractor: Twilio blocks the number for all)?"""
    return bool(opted_out_among({phone}))


def opted_out_among(phones: set[str]) -> set[str]:
    """Those of `phones` a customer replied STOP from: `opted_out` for a batch of texts, in one query."""
    if not phones:
        return set()
    return {phone for (phone,) in Customer.select(Customer.phone)
            .where(Customer.phone.in_(list(phones)), Customer.opted_out_at.is_null(False)).tuples()}


def contractor_of(actor: Actor) -> Contractor:
    """The acting contractor's own record (their timezone, currency, locale)."""
    return Contractor.get_by_id(int(actor.key))


def contractor_by_telegram(telegram_id: int) -> Contractor | None:
    return next(iter(_BY_TELEGRAM.models(telegram_id)), None)


def contractor_jobs(ctx: Context, actor: Actor) -> list[JobView]:
    """The acting contractor's active jobs, newest first."""
    now = ctx.clock()
    jobs = (jobs_with_parties().where(Job.contractor == int(actor.key), Job.state == "active")
            .order_by(Job.id.desc()))
    return [job_view(job, now) for job in jobs]


PROFILE_FIELDS = ("business_name", "phone", "timezone", "currency", "locale", "payment_instructions")


def update_profile(ctx: Context, actor: Actor, field: str, value: str) -> Contractor:
    """Change one thing about the contractor; new jobs take timezone, currency and locale from here."""
    if field not in PROFILE_FIELDS:
        raise InvalidInput(_("There is no {field} in a profile. You can change: {fields}.").format(
            field=repr(field), fields=", ".join(PROFILE_FIELDS)))
    value = value.strip()
    if field == "business_name" and not value:
        raise InvalidInput(_(NO_BUSINESS_NAME))
    check = {"phone": lambda v: to_e164(v, ctx.defaults.region), "timezone": regional.timezone_name,
             "currency": regional.currency_code, "locale": regional.locale_name}.get(field)
    if check:
        value = check(value)
    with db.atomic():
        contractor = Contractor.get_by_id(int(actor.key))
        old = getattr(contractor, field)
        Contractor.update({getattr(Contractor, field): value[:500]}).where(Contractor.id == contractor.id).execute()
        audit(None, actor, "profile_changed", ctx.clock(), old={field: old}, new={field: value})
        return Contractor.get_by_id(contractor.id)
