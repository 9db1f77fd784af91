"""The time-driven work: payments falling due, overdue reminders, the day-before warning — each exactly once."""

from datetime import date, timedelta

from core.context import Actor, Context, ReminderPolicy
from core.events import reschedule_event
from core.loop import turn
from core.payments import record_payment, unapply_refund
from core.plans import send_plan, set_plan
from core.reminders import next_moment
from storage.models import Job, Payment, db


def test_an_overdue_payment_is_reminded_after_three_days_then_weekly_at_most_three_times(ctx, clock, planned,
                                                                                        outbox, utc):
    clock.set(utc(2026, 12, 2, 14))  # a day before Measurement: the first payment falls due
    assert len(turn(ctx).announced) == 1
    reminders_at = []
    moment = clock()
    while moment < utc(2027, 2, 1):
        moment = clock.advance(hours=6)
        if turn(ctx).reminded:
            reminders_at.append(moment)
    assert reminders_at == [utc(2026, 12, 5, 14), utc(2026, 12, 12, 14), utc(2026, 12, 19, 14)]
    bodies = [body for _, _, body in outbox("reminder")]
    assert len(bodies) == 3 and all("$1,000.00" in body for body in bodies)


def test_reminders_stop_the_moment_the_payment_is_made(ctx, clock, planned, outbox, utc):
    clock.set(utc(2026, 12, 2, 14))
    turn(ctx)
    clock.set(utc(2026, 12, 5, 15))
    assert len(turn(ctx).reminded) == 1
    record_payment(ctx, Actor.system("card"), planned, 100_000, "card", reference="ch_1")
    for days in range(1, 30):
        clock.set(utc(2026, 12, 5, 15) + timedelta(days=days))
        assert turn(ctx).reminded == ()
    assert len(outbox("reminder")) == 1


def test_after_weeks_of_downtime_missed_reminders_come_as_one(ctx, clock, planned, outbox, utc):
    clock.set(utc(2026, 12, 2, 14))
    turn(ctx)
    clock.set(utc(2026, 12, 30, 14))  # four weeks later: three reminders were missed
    assert len(turn(ctx).reminded) == 1
    assert turn(ctx).reminded == ()  # and not the others in a burst
    clock.advance(days=7)
    assert len(turn(ctx).reminded) == 1


def test_reminder_cadence_is_configurable(database, clock, contractor, planned, outbox, utc):
    from core.links import PaymentLinks

    quick = Context(clock=clock, links=PaymentLinks("https://pay.example", "k"),
                    reminders=ReminderPolicy(first=timedelta(days=1), every=timedelta(days=2), most=1))
    clock.set(utc(2026, 12, 2, 14))
    turn(quick)
    clock.set(utc(2026, 12, 3, 14))
    assert len(turn(quick).reminded) == 1
    clock.set(utc(2026, 12, 20, 14))
    assert turn(quick).reminded == ()


def test_the_contractor_is_warned_the_day_before_an_event_whose_before_payment_is_unpaid(ctx, clock, planned,
                                                                                        outbox, utc):
    clock.set(utc(2026, 12, 2, 13, 59))  # just over 24 hours before Measurement (Dec 3, 14:00 UTC)
    assert turn(ctx).warned == ()
    clock.set(utc(2026, 12, 2, 14, 30))
    assert len(turn(ctx).warned) == 1
    assert turn(ctx).warned == ()
    [(channel, _, body)] = outbox("before_event_unpaid")
    assert channel == "telegram" and "Measurement" in body and "$1,000.00" in body and "9:00" in body


def test_the_warning_for_an_event_on_a_day_gives_no_time(ctx, clock, contractor, planned, outbox, utc):
    reschedule_event(ctx, contractor, planned, "measurement", date(2026, 12, 5))  # Dec 5, 00:00 in New York
    clock.set(utc(2026, 12, 4, 6))
    assert len(turn(ctx).warned) == 1
    [(_, _, body)] = outbox("before_event_unpaid")
    assert "Measurement is tomorrow, and the $1,000.00 due before it is not paid yet." in body  # not "at 12:00 AM"


def test_no_warning_when_the_before_payment_is_paid(ctx, clock, planned, outbox, utc):
    record_payment(ctx, Actor.system("card"), planned, 100_000, "card", reference="ch_1")
    clock.set(utc(2026, 12, 2, 15))
    assert turn(ctx).warned == ()


def test_a_moved_event_is_warned_of_again_on_its_new_eve(ctx, clock, contractor, planned, outbox, utc):
    clock.set(utc(2026, 12, 2, 15))
    turn(ctx)
    reschedule_event(ctx, contractor, planned, "measurement", utc(2026, 12, 6, 14))
    clock.set(utc(2026, 12, 5, 15))
    assert len(turn(ctx).warned) == 1
    assert len(outbox("before_event_unpaid")) == 2


def test_an_event_moved_to_within_a_day_is_warned_of_at_once_and_once(ctx, clock, contractor, planned, outbox, utc):
    reschedule_event(ctx, contractor, planned, "measurement", utc(2026, 12, 2, 9))  # tomorrow morning
    [(_, _, body)] = outbox("before_event_unpaid")  # from the move itself, not a turn later
    assert "Measurement" in body and "$1,000.00" in body
    assert turn(ctx).warned == ()
    clock.advance(hours=2)
    assert turn(ctx).warned == () and len(outbox("before_event_unpaid")) == 1


def test_a_plan_sent_the_day_before_its_event_warns_of_its_unpaid_before_payment_at_once(ctx, clock, contractor,
                                                                                        countertop_job, outbox, utc):
    clock.set(utc(2026, 12, 2, 15))  # Measurement is tomorrow at 14:00 UTC
    set_plan(ctx, contractor, countertop_job, "25% before measurement, 75% after installation")
    send_plan(ctx, contractor, countertop_job)
    assert len(outbox("before_event_unpaid")) == 1
    assert turn(ctx).warned == ()


def test_a_refund_reopening_a_before_payment_on_the_eve_warns_at_once_and_once(ctx, clock, planned, outbox, utc):
    record_payment(ctx, Actor.system("card"), planned, 100_000, "card", reference="ch_1")
    clock.set(utc(2026, 12, 2, 15))  # Measurement (Dec 3, 14:00 UTC) came within a day an hour ago
    assert turn(ctx).warned == ()  # paid
    clock.advance(minutes=5)
    with db.atomic():
        unapply_refund(ctx, Actor.system("stripe"), Job.get(Job.ref == planned), Payment.get(reference="ch_1"),
                       refunded_in_all=100_000)
    # the turns read only the events that came within a day since the last turn, so the refund warns itself
    [(_, _, body)] = outbox("before_event_unpaid")
    assert "Measurement" in body and "$1,000.00" in body
    clock.advance(minutes=10)
    assert turn(ctx).warned == ()
    clock.set(utc(2026, 12, 2, 16))  # the hourly read of the whole next day finds it warned already
    assert turn(ctx).warned == () and len(outbox("before_event_unpaid")) == 1


def test_the_loop_knows_when_to_wake_next(ctx, clock, planned, utc):
    assert next_moment(clock()) == utc(2026, 12, 2, 14)  # the first payment falls due a day before Measurement
    clock.set(utc(2026, 12, 2, 14))
    turn(ctx)
    assert next_moment(clock()) == utc(2026, 12, 5, 14)  # its first reminder
