"""The hot path's reads, pinned to the ORM's: `core.views.details` (a view's rows in one UNION ALL) gives what
peewee's per-table queries give, for many jobs unlike each other; `Compiled` (SQL built once, run again with new
values) gives the rows, models and stored values the same peewee query gives when it builds its SQL every time.

The jobs are made at random, through the real use cases, from a few fixed seeds: payments, partial payments and
more than the price, refunds, retainage, fixed amounts, change orders pending and waiting, bank transfers in
processing, events done and date-only, cancelled jobs, Spanish customers, several jobs on one phone.
"""

import json
import random
import threading
from collections import defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from peewee import fn

from core.change_orders import propose_price_change
from core.context import Actor
from core.errors import PaystageError
from core.events import add_event, mark_event_done
from core.inbound import _ACTIVE_JOBS, _HANDLED, _KEEP_MOMENT, _MOMENT, answer_text
from core.jobs import Item, cancel_job, create_job, jobs_with_parties, register_contractor
from core.payments import record_payment, unapply_refund
from core.plans import send_plan, set_plan
from core.pricing import PriceChange
from core.views import _view, change_order_view, details, job_views
from storage.compiled import Compiled
from storage.models import (
    ChangeOrder,
    Checkout,
    Customer,
    Event,
    InboundMessage,
    Job,
    LineItem,
    Milestone,
    OutboxMessage,
    Payment,
    RateLimit,
    db,
)
from tests.test_batched_views import queries

PLANS = [
    "100% now",
    "25% before measurement, rest after installation",
    "$500 now, 40% before measurement, 60% after installation",
    "30% before measurement, 70% after installation, retain 10% until final walkthrough",
    "10% now, 10% before measurement, 10% 3 days before installation, 70% after installation",
]
ZONE = ZoneInfo("America/Los_Angeles")
PHONES = ["(415) 555-0131", "(415) 555-0132", "(415) 555-0133", "(415) 555-0134", "(415) 555-0135"]


def random_jobs(ctx, clock, utc, seed: int, count: int = 14) -> list[str]:
    """`count` jobs made at random (from `seed`) through the use cases; their refs."""
    rng = random.Random(seed)
    contractors = [Actor.contractor(register_contractor(ctx, business_name=name, telegram_id=tid).id)
                   for name, tid in (("Granite & Co", 555), ("Tile Masters", 777))]
    refs = []
    for n in range(count):
        actor = rng.choice(contractors)
        job = create_job(ctx, actor, customer_name=f"Customer {n}", phone=rng.choice(PHONES), title=f"Job {n}",
                         items=[Item(f"Item {i}", rng.randrange(600, 3_000) * 100) for i in range(rng.randint(1, 3))],
                         language=rng.choice([None, "es"]))
        refs.append(job.ref)
        add_event(ctx, actor, job.ref, "Measurement", rng.choice([date(2026, 12, 4), utc(2026, 12, 3, 14), None]))
        add_event(ctx, actor, job.ref, "Installation", utc(2026, 12, 17, 14) + timedelta(hours=rng.randrange(48)))
        add_event(ctx, actor, job.ref, "Final walkthrough", utc(2026, 12, 21, 15))
        if n % 7 == 6:
            continue  # a draft: no plan
        set_plan(ctx, actor, job.ref, PLANS[n % len(PLANS)])
        if n % 5 != 2:
            send_plan(ctx, actor, job.ref)
        for _ in range(rng.randint(0, 3)):
            amount = rng.choice([rng.randrange(1, 1_000) * 100, rng.randrange(1_000, 10_000) * 100])  # or a credit
            payment = record_payment(ctx, actor, job.ref, amount, rng.choice(["cash", "card"]),
                                     reference=f"pi_{seed}_{n}_{rng.random()}")
            if rng.random() < 0.3:  # given back, in part or whole
                row, stored = Job.get(Job.ref == job.ref), Payment.get(Payment.id == payment.payment_id)
                unapply_refund(ctx, Actor.system("stripe"), row, stored,
                               refunded_in_all=rng.randint(1, stored.amount))
        if rng.random() < 0.4:
            mark_event_done(ctx, actor, job.ref, rng.choice(["Measurement", "Installation"]))
        if rng.random() < 0.3:
            transfer(ctx, job.ref, rng)
        for wait in (False, True)[:n % 3]:  # none, one pending, or one pending and one waiting behind it
            try:
                propose_price_change(ctx, actor, job.ref, PriceChange.total(rng.randrange(100, 900) * 1_000),
                                     wait=wait)
            except PaystageError:  # paid in full, or the job not ready for it: what the contractor would be told
                break
        if n % 6 == 5:
            cancel_job(ctx, actor, job.ref)
        clock.advance(hours=rng.randrange(1, 100))
    return refs


def transfer(ctx, ref, rng):
    """A bank transfer for some of the job's milestones, in processing (or another state a view ignores)."""
    job = Job.get(Job.ref == ref)
    ids = [m.id for m in Milestone.select().where(Milestone.job == job)]
    Checkout.create(job=job, key=f"k-{ref}-{rng.random()}", milestones=json.dumps(rng.sample(ids, min(2, len(ids)))),
                    amount=1_000, currency="USD", method="bank", state=rng.choice(["processing", "processing", "open"]),
                    created_at=ctx.clock(), expires_at=ctx.clock(), updated_at=ctx.clock())


def by_the_orm(ids: list[int]) -> dict:
    """What `details` reads, read as it was before it read it in one query: a peewee query per table."""
    events, milestones, lines = defaultdict(dict), defaultdict(list), defaultdict(list)
    for event in Event.select().where(Event.job.in_(ids)).order_by(Event.position, Event.id):
        events[event.job_id][event.id] = event
    for milestone in Milestone.select().where(Milestone.job.in_(ids)).order_by(Milestone.position, Milestone.id):
        milestones[milestone.job_id].append(milestone)
    for line in LineItem.select().where(LineItem.job.in_(ids)).order_by(LineItem.position, LineItem.id):
        lines[line.job_id].append((line.id, line.description, line.amount))
    paid = {job_id: int(total) for job_id, total in Payment.select(Payment.job, fn.SUM(Payment.amount))
            .where(Payment.job.in_(ids)).group_by(Payment.job).tuples()}
    processing = defaultdict(set)
    for checkout in Checkout.select().where(Checkout.state == "processing", Checkout.job.in_(ids)):
        processing[checkout.job_id].update(json.loads(checkout.milestones))
    pending = {}
    for order in ChangeOrder.select().where(ChangeOrder.job.in_(ids), ChangeOrder.state == "pending").order_by(
            ChangeOrder.id):
        pending.setdefault(order.job_id, order)
    return dict(events=events, milestones=milestones, lines=lines, paid=paid, processing=processing, pending=pending)


def same_columns(row, model) -> dict:
    """The row's columns beside the model's, where they differ (nothing, when the row is the model's)."""
    return {name: (value, getattr(model, name)) for name, value in row._asdict().items()
            if value != getattr(model, name) or type(value) is not type(getattr(model, name))}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_views_rows_read_in_one_query_are_the_rows_the_orm_reads_table_by_table(ctx, clock, utc, seed):
    refs = random_jobs(ctx, clock, utc, seed)
    ids = [Job.get(Job.ref == ref).id for ref in refs]
    fast, orm = details(ids), by_the_orm(ids)
    for job_id in ids:
        assert list(fast.events[job_id]) == list(orm["events"][job_id])
        assert [same_columns(row, orm["events"][job_id][event_id]) for event_id, row in
                fast.events[job_id].items()] == [{}] * len(orm["events"][job_id])
        assert [m.id for m in fast.milestones[job_id]] == [m.id for m in orm["milestones"][job_id]]
        assert [same_columns(row, model) for row, model in zip(fast.milestones[job_id], orm["milestones"][job_id])
                ] == [{}] * len(orm["milestones"][job_id])
        assert fast.lines[job_id] == orm["lines"][job_id]
        assert fast.paid.get(job_id) == orm["paid"].get(job_id) and type(fast.paid.get(job_id, 0)) is int
        assert fast.processing[job_id] == orm["processing"][job_id]
        assert (change_order_view(fast.pending[job_id]) if job_id in fast.pending else None) == (
            change_order_view(orm["pending"][job_id]) if job_id in orm["pending"] else None)
    assert variety(ids) == VARIETY  # what the jobs were made to show is really there


VARIETY = {"refund", "credit", "pending", "waiting", "processing", "retainage", "fixed", "done", "date only",
           "cancelled", "draft", "not sent", "spanish", "phone with several jobs"}


def variety(ids: list[int]) -> set[str]:
    jobs = Job.select().where(Job.id.in_(ids))
    paid = {job.id: sum(p.amount for p in job.payments) for job in jobs}
    total = {job.id: sum(line.amount for line in job.line_items) for job in jobs}
    seen = {
        "refund": Payment.select().where(Payment.amount < 0).exists(),
        "credit": any(paid[i] > total[i] for i in paid),
        "pending": ChangeOrder.select().where(ChangeOrder.state == "pending").exists(),
        "waiting": ChangeOrder.select().where(ChangeOrder.state == "waiting").exists(),
        "processing": Checkout.select().where(Checkout.state == "processing").exists(),
        "retainage": Milestone.select().where(Milestone.retainage).exists(),
        "fixed": Milestone.select().where(Milestone.fixed.is_null(False)).exists(),
        "done": Event.select().where(Event.state == "done").exists(),
        "date only": Event.select().where(Event.date_only).exists(),
        "cancelled": Job.select().where(Job.state == "cancelled").exists(),
        "draft": any(not job.milestones.exists() for job in jobs),
        "not sent": Job.select().join(Milestone).where(Job.plan_sent_at.is_null()).exists(),
        "spanish": Customer.select().where(Customer.language == "es").exists(),
        "phone with several jobs": len({job.customer.phone for job in jobs}) < len(ids),
    }
    return {name for name, there in seen.items() if there}


@pytest.mark.parametrize("seed", [4, 5])
def test_the_views_are_the_views_the_orm_reads_at_any_moment(ctx, clock, utc, seed):
    refs = random_jobs(ctx, clock, utc, seed)
    jobs = [Job.get(Job.ref == ref) for ref in refs]
    for now in (clock(), utc(2026, 12, 3, 15), utc(2027, 2, 1)):
        orm = by_the_orm([job.id for job in jobs])
        expected = [_view(job, job.customer, job.contractor, orm["events"][job.id], orm["milestones"][job.id],
                          orm["lines"][job.id], orm["paid"].get(job.id, 0), orm["processing"][job.id],
                          orm["pending"].get(job.id), now) for job in jobs]
        assert job_views(jobs, now) == expected


def test_a_batch_of_any_size_is_one_query_and_each_job_gets_its_own_rows(ctx, clock, utc):
    refs = random_jobs(ctx, clock, utc, seed=6, count=9)
    jobs = list(jobs_with_parties().where(Job.ref.in_(refs)).order_by(Job.id))
    for size in (1, 2, 3, 5, 8, 9):  # 3, 5 and 9 are padded to 4, 8 and 16 ids
        batch = jobs[:size]
        assert queries(lambda: job_views(batch, clock())) == 1
        assert job_views(batch, clock()) == [job_views([job], clock())[0] for job in batch]


# --- Compiled --------------------------------------------------------------------------------------------------


def test_compiled_models_are_the_models_the_query_gives(ctx, clock, utc):
    random_jobs(ctx, clock, utc, seed=7, count=8)
    phones = sorted({customer.phone for customer in Customer.select()}) + ["+14155550199"]
    found = []
    for phone in phones:
        orm = list(jobs_with_parties().where(Customer.phone == phone, Job.state == "active").order_by(Job.id))
        compiled = _ACTIVE_JOBS.models(phone)
        assert queries(lambda: [(job.customer.name, job.contractor.business_name) for job in compiled]) == 0
        assert [model_state(job) for job in compiled] == [model_state(job) for job in orm]
        found.append(len(orm))
    assert max(found) > 1 and found[-1] == 0  # a phone with several jobs, and one with none


def model_state(job: Job) -> tuple:
    """What a job read with its parties holds: its data and theirs, and what would be written if it were saved."""
    return (job.__data__, job._dirty, job.customer.__data__, job.customer._dirty, job.contractor.__data__,
            job.contractor._dirty)


def test_compiled_runs_each_shape_with_its_own_values(ctx, planned):
    states = Compiled(lambda ids, state: Job.select(Job.id).where(Job.id.in_(ids), Job.state == state))
    job = Job.get(Job.ref == planned)
    assert states.tuples([job.id], "active") == [(job.id,)]
    assert states.tuples([job.id, job.id + 1], "cancelled") == []  # another length of list: another text
    assert states.tuples([job.id + 5, job.id], "active") == [(job.id,)]
    named = Compiled(lambda ref, title: Job.select(Job.ref).where(Job.ref == ref, Job.title == title))
    assert named.tuples(planned, None) == []  # None is part of the shape: "IS NULL", not a parameter
    assert named.tuples(planned, job.title) == [(planned,)]


def test_compiled_refuses_a_value_it_cannot_place(database):
    ignored = Compiled(lambda ref: Job.select().where(Job.state == "active"))
    with pytest.raises(ValueError, match="not one parameter"):
        ignored.tuples("J-AAAA")
    with pytest.raises(TypeError):
        Compiled(lambda flag: Job.select().where(Job.state == flag)).tuples(True)


def test_compiled_writes_store_what_the_orm_stores(ctx, clock, utc):
    moment = utc(2026, 12, 1, 13, 30, 5, 250)
    _HANDLED.execute("SMcompiled", moment, None)
    _HANDLED.execute("SMcompiled2", moment.astimezone(ZONE), "Balance: $1,000.00")
    InboundMessage.create(provider_id="SMorm", channel="sms", received_at=moment, reply=None)
    rows = {m.provider_id: m for m in InboundMessage.select()}
    assert (rows["SMcompiled"].received_at, rows["SMcompiled"].reply, rows["SMcompiled"].channel) == (
        rows["SMorm"].received_at, None, "sms")
    assert rows["SMcompiled2"].received_at == moment and rows["SMcompiled2"].reply == "Balance: $1,000.00"
    stored = dict(db.execute_sql(f"SELECT provider_id, received_at FROM {InboundMessage._meta.table_name}"))
    assert stored["SMcompiled"] == stored["SMorm"] == stored["SMcompiled2"]  # as stored, before any conversion
    _KEEP_MOMENT.execute("answer:+1415", moment)
    _KEEP_MOMENT.execute("answer:+1415", moment + timedelta(seconds=30))  # the same key: updated, not added
    [pace] = _MOMENT.models("answer:+1415")
    assert pace.next_at == moment + timedelta(seconds=30) and RateLimit.select().count() == 1
    assert pace.__data__ == RateLimit.get(RateLimit.key == "answer:+1415").__data__


def test_a_text_and_its_retry_at_the_same_moment_are_handled_once(ctx, planned):
    """The message id is kept after the answer is worked out: a retry racing the first text waits for it at the
    first write they share, then undoes what it did and gives the first answer."""
    answers, start = [], threading.Barrier(2)

    def texting():
        start.wait()
        try:
            answers.append(answer_text(ctx, "+14155550134", "Can you come Friday?", "SMsame"))
        finally:
            db.close()

    threads = [threading.Thread(target=texting) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.duplicate for a in answers) == [False, True]
    assert answers[0].text == answers[1].text and "Granite & Co" in answers[0].text
    assert OutboxMessage.select().where(OutboxMessage.kind == "relay").count() == 1
    assert InboundMessage.select().count() == 1
