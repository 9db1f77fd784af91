"""`core.views.job_views`: many jobs read at once give exactly the views each job gives read alone.

`job_view` is the batch of one, so what is pinned here is the batching: rows of many jobs read by the same
queries must each land in their own job's view, in the order asked, whatever was read with the jobs, and the
number of queries must not grow with the number of jobs.
"""

import json
from datetime import date

from core.change_orders import propose_price_change
from core.context import Actor
from core.events import add_event, mark_event_done
from core.jobs import Item, cancel_job, create_job, jobs_with_parties, register_contractor
from core.payments import record_payment
from core.plans import send_plan, set_plan
from core.pricing import PriceChange
from core.views import job_view, job_views
from storage.models import Checkout, Job, Milestone, db


def varied_jobs(ctx, contractor, planned, utc) -> list[str]:
    """Refs of jobs unlike each other, their rows interleaved in every table."""
    other = Actor.contractor(register_contractor(ctx, business_name="Tile Masters", telegram_id=777,
                                                 phone="(415) 555-0199", payment_instructions="Zelle").id)
    draft = create_job(ctx, contractor, customer_name="Bo Diaz", phone="(415) 555-0102", title="Bathroom",
                       items=[Item("Tiles", 120_000), Item("Labour", 80_000)])  # no plan, no events
    spanish = create_job(ctx, other, customer_name="Lucía Gómez", phone="(415) 555-0103", title="Cocina",
                         items=[Item("Encimera", 300_000)], language="es")
    add_event(ctx, other, spanish.ref, "Medición", date(2026, 12, 4))  # a day, no time
    add_event(ctx, other, spanish.ref, "Instalación", utc(2026, 12, 9, 15))
    set_plan(ctx, other, spanish.ref, "30% now, 70% after instalación")
    send_plan(ctx, other, spanish.ref)
    record_payment(ctx, other, spanish.ref, 40_000, "cash")  # part of the first payment

    paid_more = create_job(ctx, contractor, customer_name="Cy Park", phone="(415) 555-0104", title="Island",
                           items=[Item("Island", 100_000)])
    add_event(ctx, contractor, paid_more.ref, "Install", utc(2026, 12, 5, 14))
    set_plan(ctx, contractor, paid_more.ref, "50% now, 50% after install")
    send_plan(ctx, contractor, paid_more.ref)
    record_payment(ctx, contractor, paid_more.ref, 130_000, "check")  # more than the price: a credit
    mark_event_done(ctx, contractor, paid_more.ref, "Install")

    transferring = create_job(ctx, other, customer_name="Di Ng", phone="(415) 555-0105", title="Vanity",
                              items=[Item("Vanity", 90_000)])
    set_plan(ctx, other, transferring.ref, "100% now")
    send_plan(ctx, other, transferring.ref)
    job = Job.get(Job.ref == transferring.ref)
    [milestone] = Milestone.select().where(Milestone.job == job)
    Checkout.create(job=job, key="k-transfer", milestones=json.dumps([milestone.id]), amount=90_000, currency="USD",
                    method="bank", state="processing", created_at=ctx.clock(), expires_at=ctx.clock(),
                    updated_at=ctx.clock())

    propose_price_change(ctx, contractor, planned, PriceChange.add("Undermount sink", 35_000))  # pending

    cancelled = create_job(ctx, contractor, customer_name="Ed Moss", phone="(415) 555-0106", title="Shelves",
                           items=[Item("Shelves", 20_000)])
    cancel_job(ctx, contractor, cancelled.ref)
    return [planned, draft.ref, spanish.ref, paid_more.ref, transferring.ref, cancelled.ref]


def test_many_jobs_read_at_once_give_each_the_view_it_gives_alone(ctx, contractor, planned, utc):
    refs = varied_jobs(ctx, contractor, planned, utc)
    now = ctx.clock()
    by_ref = {job.ref: job for job in Job.select()}
    jobs = [by_ref[ref] for ref in reversed(refs)] + [by_ref[refs[2]]]  # not in id order, and one twice
    alone = [job_view(Job.get_by_id(job.id), now) for job in jobs]
    assert job_views(jobs, now) == alone
    assert job_views(list(jobs_with_parties().where(Job.id.in_([j.id for j in jobs])).order_by(Job.id.desc())),
                     now) == sorted(alone[:-1], key=lambda v: refs.index(v.ref), reverse=True)
    views = {view.ref: view for view in alone}  # the variety is really there
    assert views[refs[1]].milestones == () and views[refs[1]].items == (("Tiles", 120_000), ("Labour", 80_000))
    assert views[refs[2]].language == "es" and views[refs[2]].events[0].date_only and views[refs[2]].paid == 40_000
    assert views[refs[3]].credit == 30_000 and views[refs[3]].events[0].state == "done"
    assert views[refs[4]].processing and views[refs[4]].payment_instructions == "Zelle"
    assert views[refs[0]].change_order.number == 1 and views[refs[5]].state == "cancelled"


def test_reading_more_jobs_takes_no_more_queries(ctx, contractor, planned, utc):
    refs = varied_jobs(ctx, contractor, planned, utc)
    jobs, one = list(Job.select().where(Job.ref.in_(refs))), list(Job.select().where(Job.ref == refs[0]))
    assert len(jobs) == 6
    assert queries(lambda: job_views(jobs, ctx.clock())) == queries(lambda: job_views(one, ctx.clock())) == 3
    assert queries(lambda: [job.customer.phone for job in jobs]) == 0  # the customers read are kept on their jobs
    with_parties = list(jobs_with_parties().where(Job.ref.in_(refs)))
    assert queries(lambda: job_views(with_parties, ctx.clock())) == 1  # customers and contractors came with them


def queries(read) -> int:
    """How many statements `read()` runs."""
    database, count = db.obj, []
    execute_sql = database.execute_sql

    def counted(sql, params=None, *args, **kwargs):
        count.append(sql)
        return execute_sql(sql, params, *args, **kwargs)

    database.execute_sql = counted
    try:
        read()
    finally:
        del database.execute_sql
    return len(count)
