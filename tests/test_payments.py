"""Recording payments: where the money goes, idempotence on a provider's reference, credit."""

import pytest

from core.context import Actor
from core.errors import InvalidInput, NotFound
from core.jobs import job_status
from core.payments import record_payment
from storage.models import Payment, PaymentPart


def paid(ctx, contractor, ref):
    return [m.paid for m in job_status(ctx, contractor, ref).milestones]


def test_payment_goes_to_the_earliest_open_milestone_and_spills_over(ctx, contractor, planned):
    result = record_payment(ctx, contractor, planned, 150_000, "cash")
    assert result.applied == (("Before Measurement", 100_000), ("After Removal", 50_000))
    assert paid(ctx, contractor, planned) == [100_000, 50_000, 0]


def test_payment_for_a_named_milestone_goes_there_first(ctx, contractor, planned):
    record_payment(ctx, contractor, planned, 200_000, "transfer", milestone="3")
    assert paid(ctx, contractor, planned) == [0, 0, 200_000]


def test_a_retried_provider_reference_records_once_and_texts_once(ctx, contractor, planned, outbox):
    card = Actor.system("card")
    first = record_payment(ctx, card, planned, 100_000, "card", reference="ch_42")
    again = record_payment(ctx, card, planned, 100_000, "card", reference="ch_42")
    assert again.duplicate and again.payment_id == first.payment_id
    assert Payment.select().count() == 1
    assert len(outbox("receipt")) == 1
    assert job_status(ctx, contractor, planned).paid == 100_000


def test_paying_more_than_the_balance_is_recorded_as_credit(ctx, contractor, planned, outbox):
    result = record_payment(ctx, contractor, planned, 450_000, "check")
    assert result.job.paid == 450_000 and result.job.remaining == 0 and result.job.credit == 50_000
    assert sum(p.amount for p in PaymentPart.select()) == 400_000  # the rest is credit, on no milestone
    notices = outbox("payment_received")
    assert notices and "credit" in notices[0][2]


def test_a_payment_by_someone_else_tells_the_contractor(ctx, planned, outbox):
    record_payment(ctx, Actor.system("card"), planned, 100_000, "card", reference="ch_1")
    [(channel, _, body)] = outbox("payment_received")
    assert channel == "telegram" and "$1,000.00" in body


def test_payment_to_an_unknown_milestone_changes_nothing(ctx, contractor, planned):
    with pytest.raises(InvalidInput, match="Which payment"):
        record_payment(ctx, contractor, planned, 100_000, "cash", milestone="9")
    assert Payment.select().count() == 0


def test_another_contractor_cannot_record_on_the_job(ctx, planned):
    from core.jobs import register_contractor

    stranger = Actor.contractor(register_contractor(ctx, business_name="Other", telegram_id=999).id)
    with pytest.raises(NotFound):
        record_payment(ctx, stranger, planned, 100_000, "cash")
    assert Payment.select().count() == 0


def test_a_payment_goes_to_what_is_due_before_earlier_payments_still_to_come(ctx, contractor, planned):
    from core.events import mark_event_done

    mark_event_done(ctx, contractor, planned, "Removal")  # the second payment falls due before the first
    result = record_payment(ctx, contractor, planned, 100_000, "check")
    assert result.applied == (("After Removal", 100_000),)
    assert paid(ctx, contractor, planned) == [0, 100_000, 0]
