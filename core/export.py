"""A job's paper trail (issue 10, item 5): everything that happened on it, in time order, with who and when.

`job_history` reads it as rows: every audit record the use cases wrote (core/journal.py), every payment
and refund with its method and the provider's reference, every payment asked for (a milestone announced),
and every message queued for either side with what became of it. `to_csv` and `to_json` write the rows
for the contractor: `/export J-7K2Q` in Telegram (bot/commands.py, sent as J-7K2Q.csv) and
`paystage export` on the command line.

Each kind of record is one *source*: a function from the job to its rows, listed in SOURCES. A record of a
new kind is one more function there; where it stands in SOURCES says which of two rows of the same moment
comes first (a cause before what it caused). A change order is one row with its evidence: how the customer
answered, when, from which phone and message or page request, and the exact words they answered to.

The words of a row (`what`) are in the contractor's language; what a row records (`kind`, `actor`,
`detail`: the record's own fields, old and new) is as stored, for a program or a dispute to read.
`payments_received` is the list of money in and out that the customer's printable statement shows.
"""

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from core.context import Actor, Context
from core.errors import NotFound
from core.jobs import load_job
from core.status import JobView
from core.views import job_view
from core.wording.language import N_, NAMES, _, speaking
from core.wording.words import format_when, method_words, money
from storage.models import AuditRecord, ChangeOrder, Job, Milestone, OutboxMessage, Payment, PaymentPart, db

COLUMNS = ("time", "source", "id", "kind", "actor", "what", "amount_minor", "amount", "currency", "status", "detail")
OUTBOX = "system:outbox"  # who sends a queued message: Paystage, for the business or to it


@dataclass(frozen=True)
class Row:
    """One line of the paper trail."""

    at: datetime  # aware; written as UTC
    source: str  # audit, payment, refund, milestone, message (and whatever source comes next)
    kind: str  # the audit record's kind, the message's kind, "payment", "refund", "payment_asked"
    actor: str  # contractor:12, customer:+14155550134, system:stripe, system:outbox
    what: str  # in words, the contractor's language
    amount: int | None = None  # minor units of the job's currency, where the record has an amount
    amount_text: str = ""  # the same, written as the reader reads it
    status: str = ""  # a message's delivery, a payment asked for's state now
    detail: dict = field(default_factory=dict)  # the record's own fields (an audit record's old and new)
    currency: str = ""  # ISO 4217, where there is an amount: what `amount` counts the minor units of
    sequence: int = 0  # the record's id in its source (its table): orders two rows of one source at one moment


Source = Callable[[Job, JobView], Iterable[Row]]


def job_history(ctx: Context, actor: Actor, ref: str) -> list[Row]:
    """The paper trail of job `ref`, oldest first. Only its contractor (or the system: `paystage export`) may
    read it: another contractor, or a customer, is told there is no such job and gets nothing."""
    if actor.kind not in ("contractor", "system"):
        raise NotFound(_("There is no job {ref} among your jobs. /jobs lists them.").format(ref=repr(ref.strip())))
    with db.atomic():  # one snapshot: a payment recorded meanwhile is in every source or in none
        job = load_job(actor, ref)
        view = job_view(job, ctx.clock())
        with speaking(job.contractor.language):
            ranked = [(rank, row) for rank, source in enumerate(SOURCES) for row in source(job, view)]
    ranked.sort(key=lambda ranked_row: (ranked_row[1].at, ranked_row[0], ranked_row[1].sequence))
    return [replace(row, currency=view.currency) if row.amount is not None else row for _rank, row in ranked]


# --- The sources -----------------------------------------------------------------------------------------------


# What each audit record says, in words; its fields come from the record's new (else old) values.
AUDIT_WORDS = {
    "job_created": N_("Job created: {title}, for {customer}, {amount}"),
    "job_cancelled": N_("Job cancelled"),
    "language_set": N_("The customer's language is now {language}"),
    "event_added": N_("Event added: {name}, {when}"),
    "event_moved": N_("Event moved: {name}, from {old_when} to {when}"),
    "event_done": N_("Event done: {name}"),
    "event_cancelled": N_("Event cancelled: {name}"),
    "plan_set": N_("Payment plan set: {sentence}"),
    "plan_sent": N_("Payment plan sent to the customer"),
    "payment_recorded": N_("Payment recorded: {amount} ({method})"),
    "refund_recorded": N_("Refund recorded: {amount}"),
    "price_changed": N_("Price changed from {old_total} to {total}: {reason}"),
    "change_order_sent": N_("Change order {number} sent to the customer: {old_total} to {new_total}"),
    "change_order_waiting": N_("Change order {number} waits until the one before it is answered"),
    "change_order_replaced": N_("Change order {number} replaced by change order {by}"),
    "change_order_approved": N_("The customer approved change order {number} ({via})"),
    "change_order_declined": N_("The customer declined change order {number} ({via})"),
    "change_order_expired": N_("Change order {number} expired without an answer"),
    "checkout_started": N_("The customer started paying {amount} online ({method})"),
    "bank_transfer_started": N_("Bank transfer started: {amount}"),
    "bank_transfer_failed": N_("Bank transfer failed: {reason}"),
    "payment_disputed": N_("The customer disputed a payment with their bank"),
    "payment_on_cancelled_job": N_("A payment arrived after the job was cancelled"),
    "payment_event_unknown": N_("The payment provider sent a notice Paystage does not use"),
    "refund_unmatched": N_("The payment provider reported a refund of a payment not recorded here"),
    "customer_answered": N_("Answered the customer: {text}"),
    "job_chosen": N_("The customer picked this job by its number"),
    "opted_out": N_("The customer texted STOP: no more texts"),
    "opted_in": N_("The customer texted START: texts again"),
}
# Where an audit record's amount is, and its sign: a refund is money going back.
AUDIT_AMOUNTS = {"job_created": ("items", 1), "payment_recorded": ("amount", 1), "refund_recorded": ("amount", -1),
                 "price_changed": ("total", 1),
                 "checkout_started": ("amount", 1), "bank_transfer_started": ("amount", 1)}


def audit_rows(job: Job, view: JobView) -> Iterable[Row]:
    """Every audit record of the job: who did what, with the values before and after."""
    for record in AuditRecord.select().where(AuditRecord.job == job).order_by(AuditRecord.id):
        old, new = json.loads(record.old), json.loads(record.new)
        amount = _audit_amount(record.kind, old, new)
        yield Row(
            at=record.at, source="audit", kind=record.kind, actor=record.actor,
            what=_audit_words(record.kind, old, new, view, amount), amount=amount,
            amount_text=money(view, amount) if amount is not None else "",
            detail={"old": old, "new": new}, sequence=record.id,
        )


def payment_rows(job: Job, view: JobView) -> Iterable[Row]:
    """Every payment and refund, with its method, the provider's reference and the milestones it went to."""
    parts: dict[int, list] = {}
    for payment_id, label, amount in (PaymentPart.select(PaymentPart.payment, Milestone.label, PaymentPart.amount)
                                      .join(Milestone).where(Milestone.job == job).order_by(PaymentPart.id).tuples()):
        parts.setdefault(payment_id, []).append([label, amount])
    for p in Payment.select().where(Payment.job == job).order_by(Payment.id):
        refund = p.refund_of_id is not None
        detail = {"payment": p.id, "method": p.method, "reference": p.reference,
                  "refund_of": p.refund_of_id, "applied": parts.get(p.id, [])}
        what = (_("Refund: {amount} given back").format(amount=money(view, -p.amount)) if refund
                else _("Payment received: {amount} ({method})").format(amount=money(view, p.amount),
                                                                       method=method_words(p.method)))
        yield Row(at=p.received_at, source="refund" if refund else "payment", kind="refund" if refund else "payment",
                  actor=p.actor, what=what, amount=p.amount, amount_text=money(view, p.amount), detail=detail,
                  sequence=p.id)


def milestone_rows(job: Job, view: JobView) -> Iterable[Row]:
    """Each payment of the plan at the moment it was asked for (its payment-due text queued), with its state now."""
    states = {m.id: m.status.value for m in view.milestones}
    asked = (Milestone.select().where(Milestone.job == job, Milestone.announced_at.is_null(False))
             .order_by(Milestone.position))
    for m in asked:
        yield Row(at=m.announced_at, source="milestone", kind="payment_asked", actor="system:due",
                  what=_("Payment asked for: {label}, {amount}").format(label=m.label, amount=money(view, m.amount)),
                  amount=m.amount, amount_text=money(view, m.amount), status=states.get(m.id, ""),
                  detail={"milestone": m.id, "label": m.label, "due_at": _iso(m.due_at), "amount": m.amount,
                          "paid": m.paid, "reminders_sent": m.reminders_sent},
                  sequence=m.id)


def change_order_rows(job: Job, view: JobView) -> Iterable[Row]:
    """Each change order, at its answer (or when it was proposed, while it waits), with the evidence of the answer."""
    for order in ChangeOrder.select().where(ChangeOrder.job == job).order_by(ChangeOrder.number):
        prices = dict(number=order.number, old=money(view, order.old_total), new=money(view, order.new_total),
                      state=_(ORDER_STATES.get(order.state, order.state)))
        what = _("Change order {number}: {old} -> {new}, {state}").format(**prices)
        if order.answered_via in ("sms", "page"):
            what += " " + (_("by text from {phone}, message {message}") if order.answered_via == "sms"
                           else _("on the page: {request}")).format(phone=order.answered_by,
                                                                    message=order.message_id, request=order.request)
        if order.applied_because:
            what += " " + _("without the customer's approval, because: {because}").format(
                because=order.applied_because)
        yield Row(
            at=order.answered_at or order.proposed_at, source="change_order", kind="change_order",
            actor=(f"customer:{order.answered_by}" if order.answered_via in ("sms", "page")
                   else order.answered_by or order.proposed_by),
            what=what, amount=order.new_total, amount_text=money(view, order.new_total), status=order.state,
            detail={"number": order.number, "change": order.reason, "old_total": order.old_total,
                    "new_total": order.new_total, "proposed_by": order.proposed_by,
                    "proposed_at": _iso(order.proposed_at), "sent_at": _iso(order.sent_at), "text": order.text,
                    "expires_at": _iso(order.expires_at), "answered_at": _iso(order.answered_at),
                    "answered_via": order.answered_via, "answered_by": order.answered_by,
                    "message_id": order.message_id, "request": order.request, "shown": order.shown,
                    "applied_because": order.applied_because},
            sequence=order.id,
        )


ORDER_STATES = {"waiting": N_("waiting its turn"), "pending": N_("waiting for the customer's answer"),
                "approved": N_("approved"), "declined": N_("declined"), "expired": N_("expired unanswered"),
                "replaced": N_("replaced"), "applied": N_("applied"), "withdrawn": N_("withdrawn")}


def message_rows(job: Job, view: JobView) -> Iterable[Row]:
    """Every message queued about the job, to the customer (SMS) or the contractor (Telegram), and its fate."""
    customer, contractor = job.customer, job.contractor
    for message in OutboxMessage.select().where(OutboxMessage.job == job).order_by(OutboxMessage.id):
        if message.channel == "sms":
            to = f"{customer.name} ({message.recipient})" if message.recipient == customer.phone else message.recipient
            what = _("Text message to {to}: {body}").format(to=to, body=message.body)
        else:
            mine = contractor.telegram_id is not None and message.recipient == str(contractor.telegram_id)
            to = contractor.business_name if mine else message.recipient
            what = _("Telegram message to {to}: {body}").format(to=to, body=message.body)
        yield Row(
            at=message.created_at, source="message", kind=message.kind, actor=OUTBOX, what=what,
            status=message.delivery_status or message.state,
            detail={"channel": message.channel, "to": message.recipient, "body": message.body,
                    "state": message.state, "delivery_status": message.delivery_status,
                    "delivery_error": message.delivery_error, "provider_id": message.provider_id,
                    "queued_at": _iso(message.created_at), "sent_at": _iso(message.sent_at),
                    "attempts": message.attempts, "last_error": message.last_error, "reply": message.reply},
            sequence=message.id,
        )


# In this order, a row of each comes before one of the next at the same moment: a change, then the money, then
# the payment it made due, then the change order answered, then the messages it caused.
SOURCES: list[Source] = [audit_rows, payment_rows, milestone_rows, change_order_rows, message_rows]


# --- Writing the rows ------------------------------------------------------------------------------------------


def to_csv(rows: list[Row]) -> bytes:
    """The rows as CSV, UTF-8 with a byte order mark so that Excel reads the accents and symbols right."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for record in _records(rows):
        record["detail"] = json.dumps(record["detail"], ensure_ascii=False, sort_keys=True)
        writer.writerow([_cell(column, record[column]) for column in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_json(rows: list[Row]) -> str:
    """The rows as a JSON list of objects with the CSV's columns; `detail` an object, not a string."""
    return json.dumps(list(_records(rows)), ensure_ascii=False, indent=2) + "\n"


def _records(rows: list[Row]) -> Iterable[dict]:
    for row in rows:
        yield {"time": _iso(row.at), "source": row.source, "id": row.sequence, "kind": row.kind, "actor": row.actor,
               "what": row.what, "amount_minor": row.amount, "amount": row.amount_text,
               "currency": row.currency, "status": row.status, "detail": row.detail}


def _cell(column: str, value) -> str:
    """A cell a spreadsheet shows as text: words a customer typed that start with = + - @ are not a formula."""
    if value is None:
        return ""
    text = str(value)
    if column not in ("id", "amount_minor", "amount", "time") and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


# --- The customer's statement ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MoneyMoved:
    """A payment received, or a refund of one (a negative amount), as the customer's statement lists it."""

    at: datetime
    amount: int  # minor units; negative for a refund
    method: str  # as recorded: card, cash, check, bank transfer, refund...
    refund: bool


def payments_received(job: Job) -> tuple[MoneyMoved, ...]:
    """Every payment received on the job and every refund, oldest first."""
    payments = Payment.select().where(Payment.job == job).order_by(Payment.received_at, Payment.id)
    return tuple(MoneyMoved(p.received_at, p.amount, p.method, p.refund_of_id is not None) for p in payments)


# --- Words -----------------------------------------------------------------------------------------------------


def _audit_amount(kind: str, old: dict, new: dict) -> int | None:
    where = AUDIT_AMOUNTS.get(kind)
    if where is None:
        return None
    key, sign = where
    value = new.get(key, old.get(key))
    if key == "items" and isinstance(value, list):
        value = sum(int(item[1]) for item in value)
    return sign * int(value) if isinstance(value, int | float) else None


def _audit_words(kind: str, old: dict, new: dict, view: JobView, amount: int | None) -> str:
    sentence = AUDIT_WORDS.get(kind)
    if sentence is None:  # a kind this module does not know yet: its name, as stored
        return kind.replace("_", " ")
    fields = {**{k: v for k, v in old.items() if isinstance(v, str | int | float)},
              **{k: v for k, v in new.items() if isinstance(v, str | int | float)}}
    fields["amount"] = money(view, abs(amount)) if amount is not None else ""
    fields["method"] = method_words(str(new.get("method", "")))
    if "total" in old:
        fields["old_total"] = money(view, int(old["total"]))
    if "total" in new:
        fields["total"] = money(view, int(new["total"]))
    for key in ("old_total", "new_total"):
        if key in new:
            fields[key] = money(view, int(new[key]))
    if "language" in new:
        fields["language"] = _(NAMES.get(new["language"], new["language"]))
    fields["when"] = _moment(new.get("scheduled_at"), new.get("date_only", False), view)
    fields["old_when"] = _moment(old.get("scheduled_at"), old.get("date_only", False), view)
    return _(sentence).format_map(_Blank(fields))


def _moment(stored, date_only: bool, view: JobView) -> str:
    """A moment an audit record kept (str(datetime)), as the reader reads it; "not scheduled yet" for none."""
    if not stored:
        return _("not scheduled yet")
    try:
        moment = datetime.fromisoformat(str(stored))
    except ValueError:
        return str(stored)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return format_when(moment, view, bool(date_only))


class _Blank(dict):
    """A field an older record lacks is left empty, never a KeyError in the middle of an export."""

    def __missing__(self, key: str) -> str:
        return ""


def _iso(moment: datetime | None) -> str | None:
    """A moment in UTC, ISO 8601 to the second: 2026-12-01T13:30:00Z."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
