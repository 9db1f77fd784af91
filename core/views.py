"""Reading a job from storage into the plain views that messages, pages and chats render.

A customer's BAL and a contractor's /job read a view on every burst: besides the job's own row (read with its
customer and contractor), everything a view shows of a job comes from one query (`details`), whose SQL, like that of
the other reads on those paths, is built once and kept (`storage.compiled`), not built again by peewee for each read.
"""

import json
from collections import defaultdict, namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peewee import (
    SQL,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    Field,
    ForeignKeyField,
    Query,
    TextField,
    fn,
)

from core.plan import Trigger, TriggerKind
from core.status import ChangeOrderView, EventView, JobView, MilestoneView, milestone_status
from storage.compiled import Compiled, column_converter
from storage.models import (
    AuditRecord,
    ChangeOrder,
    Checkout,
    Contractor,
    Customer,
    Event,
    Job,
    LineItem,
    Milestone,
    Payment,
)


def trigger_of(milestone: Milestone, events: dict[int, Event]) -> Trigger:
    event = events.get(milestone.event_id)
    return Trigger(
        kind=TriggerKind(milestone.trigger_kind),
        event=event.name if event else None,
        lead=timedelta(minutes=milestone.lead_minutes),
        net_days=milestone.net_days,
        on=milestone.trigger_date,
    )


def job_total(job: Job) -> int:
    # int(): PostgreSQL sums a BIGINT column as NUMERIC, which arrives as a Decimal
    return int(LineItem.select(fn.COALESCE(fn.SUM(LineItem.amount), 0)).where(LineItem.job == job).scalar())


def job_paid(job: Job) -> int:
    return int(Payment.select(fn.COALESCE(fn.SUM(Payment.amount), 0)).where(Payment.job == job).scalar())


def job_view(job: Job, now: datetime) -> JobView:
    """Everything about one job, as of `now`: the batch of one of `job_views`."""
    return job_views([job], now)[0]


def job_views(jobs: Sequence[Job], now: datetime) -> list[JobView]:
    """Everything about each of `jobs`, as of `now`, in their order: one query for all of them (`details`), and
    their customers and contractors unless read with the jobs, as `core.jobs.jobs_with_parties` reads them (one
    query each). Meant for a customer's BAL as much as for a batch of hundreds: each query names every job.
    """
    if not jobs:
        return []
    rows = details([job.id for job in jobs])
    customers = _parties(jobs, Job.customer, Customer)
    contractors = _parties(jobs, Job.contractor, Contractor)
    return [_view(job, customers[job.customer_id], contractors[job.contractor_id], rows.events[job.id],
                  rows.milestones[job.id], rows.lines[job.id], rows.paid.get(job.id, 0), rows.processing[job.id],
                  rows.pending.get(job.id), now) for job in jobs]


def _parties(jobs: Sequence[Job], field, model) -> dict:
    """Each job's customer (or contractor) by id: those read with their job as they are, the rest in one query,
    kept on their jobs as reading `job.customer` would keep them (no second read for the caller)."""
    known = {getattr(job, field.name).id: getattr(job, field.name) for job in jobs if field.name in job.__rel__}
    missing = {getattr(job, field.column_name) for job in jobs} - set(known)
    if missing:
        known |= {row.id: row for row in model.select().where(model.id.in_(missing))}
        for job in jobs:
            job.__rel__.setdefault(field.name, known[getattr(job, field.column_name)])
    return known


# What a view reads of each table about its jobs, read in one UNION ALL (`details`). Each kind of row is a table's
# select, its job's id first; the union's columns are typed slots so that PostgreSQL can match them up (a table's
# n-th integer column goes to the union's n-th integer slot, and a slot the table has nothing for is a NULL of the
# slot's type, so that no two NULLs meet untyped); the rows are sorted in Python, as the selects' order would.
_KINDS = {
    "event": lambda ids: Event.select(Event.job, Event.id, Event.position, Event.name, Event.scheduled_at,
                                      Event.state, Event.done_at, Event.date_only).where(Event.job.in_(ids)),
    "milestone": lambda ids: Milestone.select(
        Milestone.job, Milestone.id, Milestone.position, Milestone.label, Milestone.percent, Milestone.fixed,
        Milestone.retainage, Milestone.trigger_kind, Milestone.event, Milestone.lead_minutes, Milestone.net_days,
        Milestone.trigger_date, Milestone.amount, Milestone.paid, Milestone.due_at).where(Milestone.job.in_(ids)),
    "line": lambda ids: LineItem.select(LineItem.job, LineItem.id, LineItem.position, LineItem.description,
                                        LineItem.amount).where(LineItem.job.in_(ids)),
    # int: PostgreSQL sums a BIGINT column as NUMERIC
    "paid": lambda ids: Payment.select(Payment.job, fn.SUM(Payment.amount).cast("BIGINT").alias("paid"))
    .where(Payment.job.in_(ids)).group_by(Payment.job),
    "processing": lambda ids: Checkout.select(Checkout.job, Checkout.milestones)
    .where(Checkout.state == "processing", Checkout.job.in_(ids)),
    "pending": lambda ids: ChangeOrder.select(
        ChangeOrder.job, ChangeOrder.id, ChangeOrder.number, ChangeOrder.state, ChangeOrder.reason,
        ChangeOrder.old_total, ChangeOrder.new_total, ChangeOrder.sent_at, ChangeOrder.expires_at,
        ChangeOrder.answered_at, ChangeOrder.answered_via, ChangeOrder.applied_because)
    .where(ChangeOrder.job.in_(ids), ChangeOrder.state == "pending"),
}


def _slot_type(node) -> str:
    """The SQL type of a column's slot in the union: every column of a kind of row shares its slots."""
    if isinstance(node, BooleanField):
        return "BOOLEAN"
    if isinstance(node, DateTimeField):
        return "TIMESTAMP"
    if isinstance(node, DateField):
        return "DATE"
    if isinstance(node, (CharField, TextField)):
        return "TEXT"
    return "BIGINT"  # integers, ids, and the sum paid


def _column_name(node) -> str:
    """What a row calls a column: the names models give them (job_id, event_id), so `trigger_of`,
    `milestone_view` and `change_order_view` take a row as they take a model."""
    return node.column_name if isinstance(node, ForeignKeyField) else node.name


@dataclass(frozen=True)
class _Kind:
    """One kind of row in the union: its select, where its columns sit, how to read them back."""

    select: Callable[[list[int]], Query]
    slots: tuple[int, ...]  # the union column of each of its columns
    converters: tuple[Callable, ...]
    row: type  # a named tuple of its columns

    @classmethod
    def of(cls, name: str, select, layout: list[str]) -> "_Kind":
        columns = select([0]).selected_columns
        taken: dict[str, int] = {}
        slots = []
        for node in columns:
            kind = _slot_type(node)
            slots.append([i for i, t in enumerate(layout) if t == kind][taken.get(kind, 0)])
            taken[kind] = taken.get(kind, 0) + 1
        # the sum is no Field: the driver gives it as an int already
        converters = tuple(column_converter(node) if isinstance(node, Field) else None for node in columns)
        return cls(select, tuple(slots), converters, namedtuple(f"{name.title()}Row", map(_column_name, columns)))


def _layout() -> list[str]:
    """The union's column types after the kind: for each type, as many slots as the kind that needs the most."""
    need: dict[str, int] = {}
    for select in _KINDS.values():
        counts: dict[str, int] = {}
        for node in select([0]).selected_columns:
            counts[_slot_type(node)] = counts.get(_slot_type(node), 0) + 1
        for kind, count in counts.items():
            need[kind] = max(need.get(kind, 0), count)
    return [kind for kind, count in sorted(need.items()) for _ in range(count)]


_LAYOUT = _layout()
_ROWS = {name: _Kind.of(name, select, _LAYOUT) for name, select in _KINDS.items()}
_NAMES = list(_ROWS)


def _union(ids: list[int]) -> Query:
    """Every kind of row about the jobs `ids`, as one UNION ALL: the kind's number first, then the slots."""
    selects = []
    for number, kind in enumerate(_ROWS.values()):
        query = kind.select(ids)
        columns = [SQL("NULL").cast(t) for t in _LAYOUT]
        for node, slot in zip(query.selected_columns, kind.slots):
            columns[slot] = node
        selects.append(query.select(SQL(str(number)).alias("kind"), *columns))
    union = selects[0]
    for select in selects[1:]:
        union = union + select  # UNION ALL
    return union


_DETAILS = Compiled(_union)


@dataclass
class Details:
    """The rows of a batch of jobs' views, by job id, each kind in the order a view shows it."""

    events: dict = field(default_factory=lambda: defaultdict(dict))  # job id -> {event id: event row}
    milestones: dict = field(default_factory=lambda: defaultdict(list))  # job id -> milestone rows
    lines: dict = field(default_factory=lambda: defaultdict(list))  # job id -> (id, description, amount)
    paid: dict = field(default_factory=dict)  # job id -> the sum of its payments
    processing: dict = field(default_factory=lambda: defaultdict(set))  # job id -> milestones a transfer pays
    pending: dict = field(default_factory=dict)  # job id -> its change order waiting for an answer


def details(ids: Sequence[int]) -> Details:
    """What the views of the jobs `ids` show of their events, milestones, line items, payments, checkouts in
    processing and pending change orders: one indexed read (each select of the union by its job's index).

    The ids are padded to a power of two (repeating the last: IN ignores it), so that a batch of any size runs
    one of a few compiled texts.
    """
    ids = list(ids)
    if not ids:
        return Details()
    ids += ids[-1:] * ((1 << (len(ids) - 1).bit_length()) - len(ids))
    by_kind = defaultdict(list)
    for number, *slots in _DETAILS.tuples(ids):
        kind = _ROWS[_NAMES[number]]
        by_kind[_NAMES[number]].append(kind.row._make(
            slots[slot] if convert is None or slots[slot] is None else convert(slots[slot])
            for slot, convert in zip(kind.slots, kind.converters)))
    found = Details()
    for event in sorted(by_kind["event"], key=_in_place):
        found.events[event.job_id][event.id] = event
    for milestone in sorted(by_kind["milestone"], key=_in_place):
        found.milestones[milestone.job_id].append(milestone)
    for line in sorted(by_kind["line"], key=_in_place):
        found.lines[line.job_id].append((line.id, line.description, line.amount))
    found.paid = {row.job_id: row.paid for row in by_kind["paid"]}
    for row in by_kind["processing"]:
        found.processing[row.job_id].update(int(m) for m in json.loads(row.milestones))
    for order in sorted(by_kind["pending"], key=lambda order: order.id):
        found.pending.setdefault(order.job_id, order)
    return found


def _in_place(row) -> tuple[int, int]:
    return row.position, row.id


def _view(job: Job, customer: Customer, contractor: Contractor, events: dict, milestones: list,
          lines: list[tuple[int, str, int]], paid: int, processing: set[int], pending, now: datetime) -> JobView:
    """One job's view from its rows; `lines`: (id, description, amount) of its line items, in order."""
    plan_sent = job.plan_sent_at is not None
    items = tuple((description, amount) for _, description, amount in lines)
    return JobView(
        ref=job.ref,
        title=job.title,
        state=job.state,
        currency=job.currency,
        locale=job.locale,
        timezone=customer.timezone,
        customer_name=customer.name,
        customer_phone=customer.phone,
        business_name=contractor.business_name,
        business_phone=contractor.phone,
        payment_instructions=contractor.payment_instructions,
        total=sum(amount for _, amount in items),
        paid=paid,
        now=now,
        plan_sent=plan_sent,
        milestones=tuple(milestone_view(m, events, now, plan_sent, m.id in processing) for m in milestones),
        events=tuple(
            EventView(name=e.name, scheduled_at=e.scheduled_at, state=e.state, done_at=e.done_at,
                      date_only=e.date_only, id=e.id)
            for e in events.values()
        ),
        items=items,
        item_ids=tuple(line_id for line_id, _, _ in lines),
        language=customer.language,
        opted_out_at=customer.opted_out_at,
        change_order=change_order_view(pending) if pending else None,
        business_language=contractor.language,
    )


def change_order_view(order: ChangeOrder) -> ChangeOrderView:
    return ChangeOrderView(number=order.number, state=order.state, reason=order.reason, old_total=order.old_total,
                           new_total=order.new_total, sent_at=order.sent_at, expires_at=order.expires_at,
                           answered_at=order.answered_at, answered_via=order.answered_via,
                           applied_because=order.applied_because)


def processing_milestones() -> set[int]:
    """The milestones a started bank transfer is paying, of every job (`job_views` reads its jobs' own): on their
    way, not yet paid."""
    checkouts = Checkout.select(Checkout.milestones).where(Checkout.state == "processing")
    return {int(m) for (ids,) in checkouts.tuples() for m in json.loads(ids)}


def milestone_view(m: Milestone, events: dict[int, Event], now: datetime, plan_sent: bool,
                   processing: bool = False) -> MilestoneView:
    event = events.get(m.event_id)
    return MilestoneView(
        id=m.id,
        position=m.position,
        label=m.label,
        trigger=trigger_of(m, events),
        percent=m.percent,
        fixed=m.fixed,
        amount=m.amount,
        paid=m.paid,
        due_at=m.due_at,
        # nothing is due to the customer before they have seen the plan
        status=milestone_status(m.amount, m.paid, m.due_at if plan_sent else None, now, processing),
        event_at=event.scheduled_at if event else None,
        processing=processing,
        retainage=m.retainage,
    )


@dataclass(frozen=True)
class PriceChangeRecord:
    at: datetime
    reason: str
    old_total: int
    new_total: int
    approved_via: str | None = None  # sms, page: the customer approved it as a change order
    because: str = ""  # the contractor applied it without the customer's approval, saying why


def price_history(job: Job) -> list[PriceChangeRecord]:
    """Every change of the job's price, oldest first, from its audit records."""
    records = (AuditRecord.select().where(AuditRecord.job == job, AuditRecord.kind == "price_changed")
               .order_by(AuditRecord.id))
    history = []
    for record in records:
        old, new = json.loads(record.old), json.loads(record.new)
        history.append(PriceChangeRecord(record.at, new.get("reason", ""), old["total"], new["total"],
                                         new.get("approved_via"), new.get("because", "")))
    return history
