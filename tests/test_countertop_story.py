"""The countertop job (docs/design.md, "The countertop job") told through the core use cases, as the bot and SMS
front ends will call them."""

from core.change_orders import apply_price_change
from core.context import Actor
from core.due import announce_all_due
from core.events import mark_event_done
from core.jobs import job_status
from core.payments import record_payment
from core.plans import send_plan, set_plan
from core.pricing import PriceChange, preview_price_change
from core.status import Status

PLAN = "25% before measurement, 25% after removal, 50% after installation"


def amounts(view):
    return [m.amount for m in view.milestones]


def test_the_plan_sentence_splits_the_total_by_percentage(ctx, contractor, countertop_job, outbox):
    preview = set_plan(ctx, contractor, countertop_job, PLAN)
    assert amounts(preview) == [100_000, 100_000, 200_000]
    assert [m.trigger.event for m in preview.milestones] == ["Measurement", "Removal", "Installation"]
    assert not preview.plan_sent
    assert outbox() == []  # a preview reaches no one


def test_sending_the_plan_texts_the_customer_once(ctx, contractor, countertop_job, outbox):
    set_plan(ctx, contractor, countertop_job, PLAN)
    sent = send_plan(ctx, contractor, countertop_job)
    assert sent.plan_sent
    [(_, _, consent), (channel, kind, body)] = outbox()  # the business's first text to Dana: who, why, STOP
    assert (channel, kind) == ("sms", "plan")
    assert "$1,000.00" in body and "$2,000.00" in body and "https://pay.example/p/" in body
    assert consent.startswith("Granite & Co: Hi Dana, you will get texts from us")
    assert "Reply STOP to opt out" in consent


def test_before_payment_falls_due_a_day_before_its_event(ctx, clock, contractor, countertop_job, outbox, utc):
    set_plan(ctx, contractor, countertop_job, PLAN)
    send_plan(ctx, contractor, countertop_job)
    clock.set(utc(2026, 12, 2, 13, 59))
    assert announce_all_due(ctx) == []
    clock.set(utc(2026, 12, 2, 14, 0))
    assert len(announce_all_due(ctx)) == 1
    assert announce_all_due(ctx) == []  # a second scan finds nothing new
    [(_, _, body)] = outbox("payment_due")
    assert "$1,000.00" in body
    assert job_status(ctx, contractor, countertop_job).milestones[0].status is Status.DUE


def test_marking_an_event_done_queues_its_payment_due_text_in_the_same_step(ctx, clock, contractor,
                                                                           countertop_job, outbox, utc):
    set_plan(ctx, contractor, countertop_job, PLAN)
    send_plan(ctx, contractor, countertop_job)
    clock.set(utc(2026, 12, 10, 20))
    result = mark_event_done(ctx, contractor, countertop_job, "remove")
    assert result.event == "Removal"
    due = outbox("payment_due")
    # the measurement payment (a day before Dec 3) and the removal payment (done now)
    assert len(due) == 2 and len(result.announced) == 2
    assert result.job.due_now_amount == 200_000


def test_price_change_after_the_first_payment_keeps_it_and_spreads_the_rest(ctx, clock, contractor,
                                                                            countertop_job, outbox, utc):
    set_plan(ctx, contractor, countertop_job, PLAN)
    send_plan(ctx, contractor, countertop_job)
    clock.set(utc(2026, 12, 2, 15))
    record_payment(ctx, Actor.system("card"), countertop_job, 100_000, "card", reference="ch_1")
    preview = preview_price_change(ctx, contractor, countertop_job, PriceChange.total(485_000))
    assert [(c.old, c.new) for c in preview.changes] == [(100_000, 100_000), (100_000, 128_333),
                                                         (200_000, 256_667)]
    assert amounts(job_status(ctx, contractor, countertop_job)) == [100_000, 100_000, 200_000]  # preview wrote nothing
    applied = apply_price_change(ctx, contractor, countertop_job, PriceChange.total(485_000), because="signed on paper")
    assert applied == preview
    after = job_status(ctx, contractor, countertop_job)
    assert amounts(after) == [100_000, 128_333, 256_667]
    assert after.total == 485_000 and after.paid == 100_000 and after.remaining == 385_000
    [(_, _, body)] = outbox("plan_changed")
    assert "$4,000.00" in body and "$4,850.00" in body


def test_the_whole_story_ends_paid_in_full(ctx, clock, contractor, countertop_job, outbox, utc):
    set_plan(ctx, contractor, countertop_job, PLAN)
    send_plan(ctx, contractor, countertop_job)
    clock.set(utc(2026, 12, 2, 15))
    announce_all_due(ctx)
    record_payment(ctx, Actor.system("card"), countertop_job, 100_000, "card", reference="ch_1")
    apply_price_change(ctx, contractor, countertop_job, PriceChange.total(485_000), because="signed on paper")
    for day, event, amount in [(10, "removal", 128_333), (17, "install", 256_667)]:
        clock.set(utc(2026, 12, day, 20))
        mark_event_done(ctx, contractor, countertop_job, event)
        record_payment(ctx, contractor, countertop_job, amount, "check")
    final = job_status(ctx, contractor, countertop_job)
    assert final.remaining == 0 and final.credit == 0
    assert all(m.status is Status.PAID for m in final.milestones)
    kinds = [kind for channel, kind, _ in outbox() if channel == "sms"]
    assert kinds == ["consent", "plan", "payment_due", "receipt", "plan_changed", "payment_due", "receipt",
                     "payment_due", "receipt"]


def test_a_plan_sentence_that_cannot_be_read_writes_nothing(ctx, contractor, countertop_job):
    from core.errors import InvalidInput
    from storage.models import AuditRecord, Milestone

    before = AuditRecord.select().count()
    for sentence in ["25% before pour, 75% after installation", "25% now, 50% after installation",
                     "$5,000 now, rest after installation"]:
        try:
            set_plan(ctx, contractor, countertop_job, sentence)
        except InvalidInput as error:
            assert str(error)
        else:
            raise AssertionError(f"{sentence!r} was accepted")
    assert Milestone.select().count() == 0 and AuditRecord.select().count() == before


def test_a_new_plan_replaces_a_sent_one_until_money_arrives(ctx, contractor, countertop_job, outbox):
    from core.errors import Conflict
    from storage.models import OutboxMessage

    set_plan(ctx, contractor, countertop_job, PLAN)
    send_plan(ctx, contractor, countertop_job)
    replaced = set_plan(ctx, contractor, countertop_job, "half now, half after install")
    assert amounts(replaced) == [200_000, 200_000] and not replaced.plan_sent
    send_plan(ctx, contractor, countertop_job)
    assert len(outbox("plan")) == 2
    states = [m.state for m in OutboxMessage.select().where(OutboxMessage.kind == "plan").order_by(OutboxMessage.id)]
    assert states == ["cancelled", "pending"]  # the first plan's text, not yet sent, never will be
    record_payment(ctx, contractor, countertop_job, 200_000, "cash")
    try:
        set_plan(ctx, contractor, countertop_job, PLAN)
    except Conflict as error:
        assert "/price" in str(error)
    else:
        raise AssertionError("a plan with payments was replaced")
