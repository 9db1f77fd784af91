"""Events: marking done, moving, cancelling — and what each does to the milestones tied to them."""

from datetime import date

import pytest

from core.errors import Conflict, InvalidInput
from core.events import add_event, cancel_event, mark_event_done, reschedule_event
from core.jobs import Item, create_job, job_status
from core.plan import TriggerKind
from core.plans import send_plan, set_plan
from storage.models import Event

PLAN = "25% before measurement, 25% after removal, 50% after installation"


def test_marking_an_event_done_twice_is_refused_and_texts_once(ctx, contractor, planned, outbox):
    mark_event_done(ctx, contractor, planned, "Installation")
    with pytest.raises(InvalidInput):
        mark_event_done(ctx, contractor, planned, "Installation")  # no longer an open event
    assert len([b for _, _, b in outbox("payment_due") if "$2,000.00" in b]) == 1


def test_moving_an_event_moves_its_before_payment_and_tells_the_customer(ctx, contractor, planned, outbox, utc):
    reschedule_event(ctx, contractor, planned, "measure", utc(2026, 12, 5, 14))
    first = job_status(ctx, contractor, planned).milestones[0]
    assert first.due_at == utc(2026, 12, 4, 14)
    assert len(outbox("event_moved")) == 1


def test_moving_an_event_into_the_lead_time_makes_its_payment_due_at_once(ctx, clock, contractor, planned,
                                                                        outbox, utc):
    reschedule_event(ctx, contractor, planned, "measure", clock() + (utc(2026, 1, 1, 12) - utc(2026, 1, 1)))
    assert len(outbox("payment_due")) == 1


def test_cancelling_an_event_with_money_tied_to_it_asks_where_it_goes(ctx, contractor, planned):
    with pytest.raises(Conflict, match="tied to Removal"):
        cancel_event(ctx, contractor, planned, "Removal")
    assert Event.get(Event.name == "Removal").state == "scheduled"


def test_cancelled_event_moves_its_milestones_to_another_event(ctx, contractor, planned):
    cancel_event(ctx, contractor, planned, "Removal", milestones_to="install")
    second = job_status(ctx, contractor, planned).milestones[1]
    assert second.trigger.event == "Installation" and second.trigger.kind is TriggerKind.AFTER


def test_cancelled_event_can_make_its_milestones_due_now(ctx, contractor, planned, outbox):
    result = cancel_event(ctx, contractor, planned, "Removal", milestones_to="now")
    assert len(result.announced) == 1
    assert result.job.milestones[1].trigger.kind is TriggerKind.NOW
    assert len(outbox("payment_due")) == 1


def test_adding_an_event_twice_is_refused(ctx, contractor, countertop_job):
    with pytest.raises(Conflict, match="already has an event"):
        add_event(ctx, contractor, countertop_job, "measurement", None)


def test_event_done_before_the_plan_is_sent_makes_its_payment_due_when_sent(ctx, contractor, countertop_job,
                                                                            outbox):
    set_plan(ctx, contractor, countertop_job, PLAN)
    mark_event_done(ctx, contractor, countertop_job, "Removal")
    assert outbox() == []
    send_plan(ctx, contractor, countertop_job)
    assert len(outbox("payment_due")) == 1


# --- a day with no time of day ---------------------------------------------------------------------


def test_a_day_is_stored_as_its_start_where_the_customer_is(ctx, contractor, countertop_job, utc):
    from storage.models import Customer

    Customer.update(timezone="America/Los_Angeles").execute()  # the contractor is in New York
    add_event(ctx, contractor, countertop_job, "Walkthrough", date(2026, 12, 21))
    walkthrough = Event.get(Event.name == "Walkthrough")
    assert walkthrough.date_only and walkthrough.scheduled_at == utc(2026, 12, 21, 8)  # 00:00 in Los Angeles


def test_a_payment_before_a_day_falls_due_at_the_start_of_the_day_before(ctx, contractor, utc):
    job = create_job(ctx, contractor, customer_name="Dana Whitfield", phone="(415) 555-0134", title="Roof",
                     items=[Item("Roof", 1_000_000)])
    add_event(ctx, contractor, job.ref, "Installation", date(2026, 12, 17))
    set_plan(ctx, contractor, job.ref, "25% 2 days before installation, 75% after installation")
    send_plan(ctx, contractor, job.ref)
    before = job_status(ctx, contractor, job.ref).milestones[0]
    assert before.due_at == utc(2026, 12, 15, 5)  # Dec 15, 00:00 in New York: two days before Dec 17 begins


def test_moving_an_event_to_a_day_or_a_moment_says_which_it_is(ctx, contractor, planned, outbox, utc):
    reschedule_event(ctx, contractor, planned, "install", date(2026, 12, 19))
    assert Event.get(Event.name == "Installation").date_only
    assert "has moved to Sat, Dec 19." in outbox("event_moved")[-1][2]  # the day alone, no "12:00 AM"
    reschedule_event(ctx, contractor, planned, "install", utc(2026, 12, 19, 15))
    assert not Event.get(Event.name == "Installation").date_only
    assert "has moved to Sat, Dec 19, 10:00 AM." in outbox("event_moved")[-1][2]


def test_the_events_before_one_are_those_scheduled_earlier_and_still_to_do(ctx, contractor, countertop_job, utc):
    from core.events import open_before

    add_event(ctx, contractor, countertop_job, "Permit", None)  # not scheduled: in no order
    add_event(ctx, contractor, countertop_job, "Sealing", date(2026, 12, 17))  # Installation's day, no time
    cancel_event(ctx, contractor, countertop_job, "Measurement", milestones_to="now")
    job = job_status(ctx, contractor, countertop_job)
    events = {e.name: e for e in job.events}
    before = lambda name: [e.name for e in open_before(job, events[name])]  # noqa: E731
    assert before("Installation") == ["Removal"]  # Measurement is cancelled; Sealing is on its day
    assert before("Sealing") == ["Removal"]
    assert before("Removal") == [] and before("Permit") == []
    mark_event_done(ctx, contractor, countertop_job, "Removal")
    job = job_status(ctx, contractor, countertop_job)
    assert open_before(job, next(e for e in job.events if e.name == "Installation")) == []
