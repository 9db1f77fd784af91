"""Price changes: line items, previews that write nothing, credit, and refusals."""

import json

import pytest

from core.change_orders import apply_price_change
from core.context import Actor
from core.errors import Conflict, InvalidInput
from core.jobs import Item, cancel_job, create_job, job_status
from core.payments import record_payment
from core.plans import send_plan, set_plan
from core.pricing import EXTRA_LABEL, PriceChange, _recalculate, preview_price_change
from core.views import job_paid, job_total
from core.wording import contractor_texts
from storage.models import AuditRecord, Job, LineItem, Milestone, OutboxMessage

PAPER = "signed on paper"  # these tests are about the amounts: each change is applied without the customer's answer


def test_adding_a_line_item_raises_the_total_and_recalculates(ctx, contractor, planned, outbox):
    view = apply_price_change(ctx, contractor, planned, PriceChange.add("Undermount sink", 35_000), because=PAPER)
    assert view.new_total == 435_000 and "Undermount sink" in view.reason
    assert [m.amount for m in job_status(ctx, contractor, planned).milestones] == [108_750, 108_750, 217_500]
    assert len(outbox("plan_changed")) == 1


def test_removing_and_editing_line_items_by_a_loose_name(ctx, contractor, planned):
    apply_price_change(ctx, contractor, planned, PriceChange.add("Backsplash tile", 60_000), because=PAPER)
    apply_price_change(ctx, contractor, planned, PriceChange.edit("backsplash", 45_000), because=PAPER)
    assert [(i.description, i.amount) for i in LineItem.select().order_by(LineItem.position)] == [
        ("Kitchen countertops", 400_000), ("Backsplash tile", 45_000)]
    apply_price_change(ctx, contractor, planned, PriceChange.remove("backsplash"), because=PAPER)
    assert job_status(ctx, contractor, planned).total == 400_000


def test_new_total_with_several_line_items_adds_an_adjustment(ctx, contractor, planned):
    apply_price_change(ctx, contractor, planned, PriceChange.add("Sink", 35_000), because=PAPER)
    apply_price_change(ctx, contractor, planned, PriceChange.total(420_000), because=PAPER)
    assert [(i.description, i.amount) for i in LineItem.select().order_by(LineItem.position)][-1] == (
        "Price adjustment", -15_000)
    assert job_status(ctx, contractor, planned).total == 420_000


def test_price_below_what_was_paid_leaves_a_credit_and_tells_both(ctx, contractor, planned, outbox):
    record_payment(ctx, contractor, planned, 200_000, "check")
    view = apply_price_change(ctx, contractor, planned, PriceChange.total(180_000), because=PAPER)
    assert [c.new for c in view.changes] == [100_000, 100_000, 0] and view.credit == 20_000
    [(channel, _kind, note)] = outbox("credit_owed")  # the contractor's note; the customer's text says it too
    [(_channel, _kind, text)] = outbox("plan_changed")
    assert channel == "telegram" and "You owe a credit of $200.00" in note
    assert "Your credit: $200.00" in text and "without your reply because: signed on paper" in text


def test_price_rise_after_everything_is_paid_becomes_a_new_payment_due_now(ctx, contractor, planned, outbox):
    record_payment(ctx, contractor, planned, 400_000, "check")
    apply_price_change(ctx, contractor, planned, PriceChange.add("Sealant", 12_000), because=PAPER)
    view = job_status(ctx, contractor, planned)
    extra = view.milestones[-1]
    assert (extra.label, extra.amount, extra.paid) == (EXTRA_LABEL, 12_000, 0)
    assert view.due_now_amount == 12_000
    assert len(outbox("payment_due")) >= 1


def test_credit_from_an_overpayment_settles_a_later_price_rise(ctx, contractor, planned):
    record_payment(ctx, contractor, planned, 420_000, "check")
    apply_price_change(ctx, contractor, planned, PriceChange.total(410_000), because=PAPER)
    view = job_status(ctx, contractor, planned)
    assert view.credit == 10_000
    assert sum(m.paid for m in view.milestones) == sum(m.amount for m in view.milestones)


def test_price_change_on_a_cancelled_job_is_refused_and_writes_nothing(ctx, contractor, planned):
    cancel_job(ctx, contractor, planned)
    before = AuditRecord.select().count()
    with pytest.raises(Conflict, match="cancelled"):
        apply_price_change(ctx, contractor, planned, PriceChange.total(500_000), because=PAPER)
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
    view = apply_price_change(ctx, contractor, job.ref, PriceChange.total(900_000), because=PAPER)
    assert view.changes == () and job_status(ctx, Actor.system(), job.ref).total == 900_000
    assert outbox("plan_changed") == []


# --- issue 10: credit, recalculating twice, the resulting total ---------------------------------------------------

def sent_job(ctx, contractor, total, plan, phone="415 555 0188"):
    job = create_job(ctx, contractor, customer_name="Sam Lee", phone=phone, title="Vanity top",
                     items=[Item("Vanity top", total)])
    set_plan(ctx, contractor, job.ref, plan)
    send_plan(ctx, contractor, job.ref)
    return job.ref


@pytest.mark.parametrize("total, paid, new_total, credit, said", [
    # $10.00 paid beyond the only milestone, then the price halves: $60.00 is owed back, not $50.00
    (10_000, 11_000, 5_000, 6_000, "$60.00"),
    # $0.38 beyond it; the price rises a cent, which the $0.38 pays: $0.37 is owed back, and the contractor hears it
    (2_300, 2_338, 2_301, 37, "$0.37"),
])
def test_a_credit_from_money_beyond_every_milestone_is_the_same_in_the_preview_the_record_and_both_texts(
        ctx, contractor, outbox, total, paid, new_total, credit, said):
    ref = sent_job(ctx, contractor, total, "100% on Dec 15")
    record_payment(ctx, contractor, ref, paid, "check")
    change = PriceChange.total(new_total)
    preview = preview_price_change(ctx, contractor, ref, change)
    assert preview.credit == credit
    assert f"you would owe a credit of {said}" in contractor_texts.price_preview(job_status(ctx, contractor, ref),
                                                                                 preview)
    view = apply_price_change(ctx, contractor, ref, change, because=PAPER)
    assert view.credit == credit == job_status(ctx, contractor, ref).credit
    record = AuditRecord.select().where(AuditRecord.kind == "price_changed").get()
    assert json.loads(record.new)["credit"] == credit
    [(_channel, _kind, note)] = outbox("credit_owed")  # the contractor's notice
    [(_channel, _kind, text)] = outbox("plan_changed")  # the customer's text
    assert f"You owe a credit of {said}" in note and f"Your credit: {said}" in text


def test_a_price_change_an_overpayment_helps_pay_is_written_as_recalculating_again_would_leave_it(
        ctx, contractor, clock):
    ref = sent_job(ctx, contractor, 32_987, "$329.87 now, 0.01% on Dec 15, 99.98% on Dec 16, 0.01% on Dec 17")
    record_payment(ctx, contractor, ref, 36_028, "check")  # $30.41 beyond the plan
    preview = preview_price_change(ctx, contractor, ref, PriceChange.add("Shower niche", 45_895))
    apply_price_change(ctx, contractor, ref, PriceChange.add("Shower niche", 45_895), because=PAPER)
    milestones = job_status(ctx, contractor, ref).milestones
    # the $30.41 pays the 0.01% milestone in full at 5 cents and the rest goes to the 99.98%
    assert [(m.amount, m.paid) for m in milestones] == [(32_987, 32_987), (5, 5), (45_885, 3_036), (5, 0)]
    assert [c.new for c in preview.changes] == [m.amount for m in milestones]  # what the contractor confirmed
    job = Job.get(Job.ref == ref)
    stored = list(Milestone.select().where(Milestone.job == job).order_by(Milestone.position))
    again = _recalculate(stored, job_total(job), job_paid(job), clock())  # what the next price change starts from
    assert list(again.amounts) == [m.amount for m in milestones] and again.unplaced == 0


def test_a_job_of_nine_million_cannot_take_a_five_million_line_item(ctx, contractor, outbox):
    job = create_job(ctx, contractor, customer_name="Sam Lee", phone="415 555 0199", title="Tower",
                     items=[Item("Tower", 900_000_000)])
    for use_case in (preview_price_change, apply_price_change):
        with pytest.raises(InvalidInput, match="more than 10,000,000 USD"):
            use_case(ctx, contractor, job.ref, PriceChange.add("Spire", 500_000_000))
    assert job_status(ctx, contractor, job.ref).total == 900_000_000


def refused_changes():
    """Changes whose resulting price (or new line item) create_job would refuse too."""
    return [
        pytest.param([], PriceChange.total(0), "must be more than zero", id="total-zero"),
        pytest.param([], PriceChange.total(-50_000), "must be more than zero", id="total-negative"),
        pytest.param([], PriceChange.total(1_000_000_001), "more than 10,000,000 USD", id="total-above-cap"),
        pytest.param([PriceChange.add("Sink", 35_000)], PriceChange.total(0), "must be more than zero",
                     id="total-zero-several-items"),
        pytest.param([], PriceChange.add("Roof", 999_700_000), "more than 10,000,000 USD", id="add-above-cap"),
        pytest.param([], PriceChange.add("Discount", -10_000), "more than zero", id="add-negative"),
        pytest.param([], PriceChange.add("Nothing", 0), "more than zero", id="add-zero"),
        pytest.param([PriceChange.add("Sink", 35_000)], PriceChange.edit("sink", -35_000), "more than zero",
                     id="edit-negative"),
        pytest.param([PriceChange.add("Sink", 35_000)], PriceChange.edit("sink", 1_000_000_001),
                     "at most 10,000,000 USD", id="edit-above-cap"),
        # $4,000 + $350 sink, price set to $10 (an adjustment of -$4,340), then the countertops removed: -$4,000
        pytest.param([PriceChange.add("Sink", 35_000), PriceChange.total(1_000)],
                     PriceChange.remove("Kitchen countertops"), "must be more than zero", id="remove-below-zero"),
    ]


@pytest.mark.parametrize("before, change, message", refused_changes())
def test_a_price_change_to_a_price_a_new_job_could_not_have_is_refused_and_changes_nothing(
        ctx, contractor, planned, before, change, message):
    for earlier in before:
        apply_price_change(ctx, contractor, planned, earlier, because=PAPER)
    items = list(LineItem.select(LineItem.description, LineItem.amount).order_by(LineItem.position).tuples())
    amounts = [m.amount for m in job_status(ctx, contractor, planned).milestones]
    records, messages = AuditRecord.select().count(), OutboxMessage.select().count()
    for use_case in (preview_price_change, apply_price_change):
        with pytest.raises(InvalidInput, match=message):
            use_case(ctx, contractor, planned, change)
    assert list(LineItem.select(LineItem.description, LineItem.amount).order_by(LineItem.position).tuples()) == items
    assert [m.amount for m in job_status(ctx, contractor, planned).milestones] == amounts
    assert (AuditRecord.select().count(), OutboxMessage.select().count()) == (records, messages)
