"""Use cases for a job's payment plan: set it from the contractor's sentence, send it to the customer."""

from functools import partial
from zoneinfo import ZoneInfo

from core.allocation import recalculate, slots
from core.context import Actor, Context
from core.due import announce_due, refresh_due_times
from core.errors import Conflict
from core.jobs import load_job, require_active, withdraw_change_orders
from core.journal import audit, text_customer
from core.money import format_money
from core.plan import MilestoneTerms, check_plan
from core.plan_parser import parse_plan
from core.status import JobView
from core.views import job_total, job_view
from core.wording import customer_texts
from core.wording.language import _
from storage.models import Event, Job, Milestone, OutboxMessage, Payment, db


def set_plan(ctx: Context, actor: Actor, ref: str, sentence: str) -> JobView:
    """Read the plan sentence, replace the job's plan with it, and return the preview.

    Nothing reaches the customer until the plan is sent. A plan can be
    replaced until the first payment is recorded; after that, price changes
    recalculate it instead.
    """
    now = ctx.clock()
    with db.atomic():
        job = load_job(actor, ref, lock=True)
        require_active(job)
        if Payment.select().where(Payment.job == job).exists():
            raise Conflict(_("{ref} already has payments, so its plan stays. To change the price use /price.").format(
                ref=job.ref))
        # in the job's order: a refusal naming an unknown event lists them so
        events = {e.name: e for e in Event.select().where(Event.job == job, Event.state != "cancelled")
                  .order_by(Event.position)}
        terms = parse_plan(sentence, list(events), currency=job.currency, locale=job.locale,
                           today=now.astimezone(ZoneInfo(job.customer.timezone)).date())
        total = job_total(job)
        check_plan(terms, total, partial(format_money, currency=job.currency, locale=job.locale))
        old = [m.label for m in job.milestones]
        Milestone.delete().where(Milestone.job == job).execute()
        milestones = [_milestone(job, position, t, events) for position, t in enumerate(terms)]
        # the amounts as every price change will work them out again (core.pricing), from the same slots
        for m, amount in zip(milestones, recalculate(total, slots(milestones, total)).amounts):
            m.amount = amount
            m.save()
        was_sent = job.plan_sent_at is not None
        # texts about the replaced plan that have not gone out yet never will
        OutboxMessage.update(state="cancelled").where(
            OutboxMessage.job == job, OutboxMessage.state == "pending", OutboxMessage.channel == "sms"
        ).execute()
        job.plan_sent_at = None  # a new plan must be sent again
        withdraw_change_orders(job, actor, now)  # a change to the plan replaced is answered by no one
        job.save(only=[Job.plan_sent_at])
        audit(job, actor, "plan_set", now, old={"milestones": old, "was_sent": was_sent},
              new={"sentence": sentence, "milestones": [[t.label, t.percent, t.fixed] for t in terms]})
        return job_view(job, now)


def _milestone(job: Job, position: int, terms: MilestoneTerms, events: dict[str, Event]) -> Milestone:
    """The milestone `terms` state, not yet written: its amount is worked out with the others'."""
    trigger = terms.trigger
    return Milestone(
        job=job, position=position, label=terms.label, percent=terms.percent, fixed=terms.fixed,
        retainage=terms.retainage, trigger_kind=trigger.kind.value,
        event=events[trigger.event] if trigger.event else None,
        lead_minutes=int(trigger.lead.total_seconds() // 60), net_days=trigger.net_days, trigger_date=trigger.on,
    )


def send_plan(ctx: Context, actor: Actor, ref: str) -> JobView:
    """Text the plan to the customer; the milestones whose triggers are already met fall due with it."""
    now = ctx.clock()
    with db.atomic():
        job = load_job(actor, ref, lock=True)
        require_active(job)
        if not Milestone.select().where(Milestone.job == job).exists():
            raise Conflict(_("{ref} has no plan yet. Example: /plan {ref} 25% before measurement, "
                             "25% after removal, 50% after installation").format(ref=job.ref))
        if job.plan_sent_at is not None:
            raise Conflict(_("The plan of {ref} was already sent. The customer can text PLAN to see it again.").format(
                ref=job.ref))
        job.plan_sent_at = now
        job.save(only=[Job.plan_sent_at])
        record = audit(job, actor, "plan_sent", now)
        refresh_due_times(job)
        view = job_view(job, now)
        text_customer(job.customer, job, "plan", customer_texts.plan_summary(view, ctx.links.url(job.ref, now)),
                      key=f"job:{job.id}:plan:{record.id}", now=now)
        announce_due(ctx, job, now)
        return job_view(job, now)
