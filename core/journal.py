"""The two records every change leaves in its own transaction: an audit record and the messages it causes."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import phonenumbers

from core.context import Actor
from core.status import JobView
from core.views import job_view
from core.wording import customer_texts
from storage import wake
from storage.models import AuditRecord, Contractor, Customer, Job, OutboxMessage


def audit(job: Job | None, actor: Actor, kind: str, now: datetime, old=None, new=None) -> AuditRecord:
    """Who did what, when, with the values before and after."""
    return AuditRecord.create(
        job=job,
        actor=str(actor),
        at=now,
        kind=kind,
        old=json.dumps(old or {}, sort_keys=True, default=str),
        new=json.dumps(new or {}, sort_keys=True, default=str),
    )


def enqueue(
    *, channel: str, recipient: str, body: str, kind: str, key: str, now: datetime,
    job: Job | None = None, reply: bool = False, timezone: str | None = None,
) -> bool:
    """Queue one message for the dispatcher; False when this cause (`key`) already queued one."""
    row = _row(channel=channel, recipient=recipient, body=body, kind=kind, key=key, now=now, job=job, reply=reply,
               timezone=timezone)
    inserted = bool(OutboxMessage.insert(row).on_conflict_ignore()
                    .as_rowcount()  # 0 when the key existed, on SQLite as on PostgreSQL
                    .execute())
    if inserted:
        wake.queued()  # the dispatchers, once this transaction commits
    return inserted


def text_customer(customer: Customer, job: Job, kind: str, body: str, key: str, now: datetime,
                  reply: bool = False) -> bool:
    """Queue a text to the job's customer; the first one a business sends a phone comes after its consent text."""
    consent_key = _consent_key(job.contractor_id, customer.phone)
    if not OutboxMessage.select().where(OutboxMessage.dedupe_key == consent_key).exists():
        OutboxMessage.insert(_consent(job, job_view(job, now), consent_key, now)).on_conflict_ignore().execute()
    return enqueue(channel="sms", recipient=customer.phone, body=body, kind=kind, key=key, now=now,
                   job=job, reply=reply, timezone=customer.timezone)


@dataclass(frozen=True)
class CustomerText:
    """A text to a job's customer, queued with others by `text_customers`."""

    job: Job
    view: JobView  # the job's, as the text was written from it: its customer's phone and timezone
    kind: str
    body: str
    key: str  # the dedupe key: one cause, one message


def text_customers(texts: Sequence[CustomerText], now: datetime) -> int:
    """Queue many texts as `text_customer` queues each: the consent texts they need in one insert, then the texts in
    another (every consent before the text it precedes); returns how many texts were new."""
    if not texts:
        return 0
    needed = {}  # consent key -> the first text that needs it: its view words the consent text
    for text in texts:
        needed.setdefault(_consent_key(text.job.contractor_id, text.view.customer_phone), text)
    queued = {key for (key,) in OutboxMessage.select(OutboxMessage.dedupe_key)
              .where(OutboxMessage.dedupe_key.in_(list(needed))).tuples()}
    consents = [_consent(text.job, text.view, key, now) for key, text in needed.items() if key not in queued]
    if consents:
        OutboxMessage.insert_many(consents).on_conflict_ignore().as_rowcount().execute()
    rows = [_row(channel="sms", recipient=text.view.customer_phone, body=text.body, kind=text.kind, key=text.key,
                 now=now, job=text.job, timezone=text.view.timezone) for text in texts]
    inserted = OutboxMessage.insert_many(rows).on_conflict_ignore().as_rowcount().execute()
    if inserted or consents:
        wake.queued()  # the dispatchers, once this transaction commits
    return inserted


def _consent_key(contractor_id: int, phone: str) -> str:
    return f"consent:{contractor_id}:{phone}"


def _consent(job: Job, view: JobView, key: str, now: datetime) -> dict:
    """The consent text's outbox row: who writes, what for, STOP and HELP; carrier rates are a US matter."""
    rates = phonenumbers.region_code_for_number(phonenumbers.parse(view.customer_phone)) == "US"
    return _row(channel="sms", recipient=view.customer_phone, body=customer_texts.consent(view, rates=rates),
                kind="consent", key=key, now=now, job=job, timezone=view.timezone)


def _row(*, channel: str, recipient: str, body: str, kind: str, key: str, now: datetime, job: Job | None,
         reply: bool = False, timezone: str | None = None) -> dict:
    return dict(channel=channel, recipient=recipient, body=body, kind=kind, dedupe_key=key, job=job, reply=reply,
                timezone=timezone, next_attempt_at=now, created_at=now)


def tell_contractor(contractor: Contractor, job: Job | None, kind: str, body: str, key: str,
                    now: datetime) -> bool:
    """A Telegram message to the contractor; nothing to queue until they have a chat with the bot."""
    if contractor.telegram_id is None:
        return False
    return enqueue(channel="telegram", recipient=str(contractor.telegram_id), body=body, kind=kind,
                   key=key, now=now, job=job)
