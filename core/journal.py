"""The two records every change leaves in its own transaction: an audit record and the messages it causes."""

import json
from datetime import datetime

import phonenumbers

from core.context import Actor
from core.views import job_view
from core.wording import customer_texts
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
    inserted = (
        OutboxMessage.insert(
            channel=channel, recipient=recipient, body=body, kind=kind, dedupe_key=key,
            job=job, reply=reply, timezone=timezone, next_attempt_at=now, created_at=now,
        )
        .on_conflict_ignore()
        .as_rowcount()  # 0 when the key existed, on SQLite as on PostgreSQL
        .execute()
    )
    return bool(inserted)


def text_customer(customer: Customer, job: Job, kind: str, body: str, key: str, now: datetime,
                  reply: bool = False) -> bool:
    """Queue a text to the job's customer; the first one a business sends a phone comes after its consent text."""
    consent_key = f"consent:{job.contractor_id}:{customer.phone}"
    if not OutboxMessage.select().where(OutboxMessage.dedupe_key == consent_key).exists():
        rates = phonenumbers.region_code_for_number(phonenumbers.parse(customer.phone)) == "US"
        enqueue(channel="sms", recipient=customer.phone, body=customer_texts.consent(job_view(job, now), rates=rates),
                kind="consent", key=consent_key, now=now, job=job, timezone=customer.timezone)
    return enqueue(channel="sms", recipient=customer.phone, body=body, kind=kind, key=key, now=now,
                   job=job, reply=reply, timezone=customer.timezone)


def tell_contractor(contractor: Contractor, job: Job | None, kind: str, body: str, key: str,
                    now: datetime) -> bool:
    """A Telegram message to the contractor; nothing to queue until they have a chat with the bot."""
    if contractor.telegram_id is None:
        return False
    return enqueue(channel="telegram", recipient=str(contractor.telegram_id), body=body, kind=kind,
                   key=key, now=now, job=job)
