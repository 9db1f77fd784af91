"""Price changes: line items, previews that write nothing, credit, and refusals."""

import pytest

from core.context import Actor
from core.errors import Conflict, InvalidInput
from core.jobs import Item, cancel_job, create_job, job_status
from core.payments import record_payment
from core.pricing import EXTRA_LABEL, PriceChange, apply_price_change, preview_price_change
from storage.models import AuditRecord, LineItem


def test_adding_a_line_item_raises_the_total_and_recalculates(ctx, contractor, planned, outbox):
    view = apply_price_change(ctx, contractor, planned, PriceChange.add("Undermount sink", 35_000))
    assert view.new_total == 435_000 and "Undermount sink" in view.reason
    assert [m.amount for m in job_status(ctx, contractor, planned).milestones] == [108_750, 108_750, 217_500]
    assert len(outbox("plan_changed")) == 1


def test_removing_and_editing_line_items_by_a_loose_name(ctx, contractor, planned):
    apply_price_change(ctx, contractor, planned, PriceChange.add("Backsplash tile", 60_000))
    apply_price_change(ctx, contractor, planned, PriceChange.edit("backsplash", 45_000))
    assert [(i.description, i.amount) for i in LineItem.select().order_by(LineItem.position)] == [
        ("Kitchen countertops", 400_000), ("Backsplash tile", 45_000)]
    apply_price_change(ctx, contractor, planned, PriceChange.remove("backsplash"))
    assert job_status(ctx, contractor, planned).total == 400_000


def test_new_total_with_several_line_items_adds_an_adjustment(ctx, contractor, planned):
    apply_price_change(ctx, contractor, planned, PriceChange.add("Sink", 35_000))
    apply_price_change(ctx, contractor, planned, PriceChange.total(420_000))
    assert [(i.description, i.amount) for i in LineItem.select().order_by(LineItem.position)][-1] == (
        "Price adjustment", -15_000)
    assert job_status(ctx, contractor, planned).total == 420_000


def test_price_below_what_was_paid_leaves_a_credit_and_tells_both(ctx, contractor, planned, outbox):
    record_payment(ctx, contractor, planned, 200_000, "check")
    view = apply_price_change(ctx, contractor, planned, PriceChange.total(180_000))
    assert [c.new for c in view.changes] == [100_000, 100_000, 0] and view.credit == 20_000
    assert len(outbox("credit_owed")) == 2  # the customer's SMS and the contractor's Telegram note
    assert {channel for channel, _, _ in outbox("credit_owed")} == {"sms", "telegram"}


def test_price_rise_after_everything_is_paid_becomes_a_new_payment_due_now(ctx, contractor, planned, outbox):
    record_payment(ctx, contractor, planned, 400_000, "check")
    apply_price_change(ctx, contractor, planned, PriceChange.add("Sealant", 12_000))
    view = job_status(ctx, contractor, planned)
    extra = view.milestones[-1]
    assert (extra.label, extra.amount, extra.paid) == (EXTRA_LABEL, 12_000, 0)
    assert view.due_now_amount == 12_000
    assert len(outbox("payment_due")) >= 1


def test_credit_from_an_overpayment_settles_a_later_price_rise(ctx, contractor, planned):
    record_payment(ctx, contractor, planned, 420_000, "check")
    apply_price_change(ctx, contractor, planned, PriceChange.total(410_000))
    view = job_status(ctx, contractor, planned)
    assert view.credit == 10_000
    assert sum(m.paid for m in view.milestones) == sum(m.amount for m in view.milestones)


def test_price_change_on_a_cancelled_job_is_refused_and_writes_nothing(ctx, contractor, planned):
    cancel_job(ctx, contractor, planned)
    before = AuditRecord.select().count()
    with pytest.raises(Conflict, match="cancelled"):
        apply_price_change(ctx, contractor, planned, PriceChange.total(500_000))
    assert AuditRecord.select().count() == before
    assert job_status(ctx, contractor, planned).total == 400_000


@pytest.mark.parametrize("change, message", [
    (PriceChange.total(400_000), "already"),
    (PriceChange.remove("Kitchen countertops"), "only line item"),
    (PriceChange.remove("roof"), "roof"),
])
def test_pointless_or_impossible_changes_are_refused(ctx, contractor, planned, change, message):
    with pytest.raises(InvalidInput, match=message):
        preview_price_change(ctx, contractor, planned, change)


def test_job_without_a_plan_just_changes_its_price(ctx, contractor, outbox):
    job = create_job(ctx, contractor, customer_name="Sam Lee", phone="415 555 0199", title="Deck",
                     items=[Item("Deck", 800_000)])
    view = apply_price_change(ctx, contractor, job.ref, PriceChange.total(900_000))
    assert view.changes == () and job_status(ctx, Actor.system(), job.ref).total == 900_000
    assert outbox("plan_changed") == []
