"""Paying from the link: what is offered, a checkout session per tap, and the provider's news applied once."""

import json

import pytest

from core.change_orders import apply_price_change
from core.checkout import PaymentsUnavailable, pay_methods, pay_options, start_checkout
from core.context import Actor
from core.errors import Conflict
from core.jobs import cancel_job, job_status
from core.payments import record_payment
from core.pricing import PriceChange
from core.provider_events import DISPUTED, FAILED, PAID, PROCESSING, REFUNDED, PaymentNews, apply_news
from core.reminders import remind_overdue
from storage.models import AuditRecord, Checkout, Payment, PaymentPart

PAGE = "https://pay.example/p/token"
DOLLARS = 100


def news(kind: str, checkout: Checkout | None = None, event: str = "evt_1", **fields) -> PaymentNews:
    if checkout is not None:
        fields.setdefault("checkout_id", checkout.id)
        fields.setdefault("amount", checkout.amount)
    return PaymentNews(event_id=event, kind=kind, **fields)


def state(ctx, contractor, ref) -> list[tuple[str, int]]:
    return [(m.status.value, m.paid) for m in job_status(ctx, contractor, ref).milestones]


# --- what is offered -------------------------------------------------------------------------------------------


def test_the_page_offers_what_is_due_and_the_whole_balance(ctx, contractor, removal_due):
    options = pay_options(job_status(ctx, contractor, removal_due))
    assert [(o.choice, o.amount, [m.label for m in o.milestones]) for o in options] == [
        ("due", 1_000 * DOLLARS, ["After Removal"]),
        ("all", 3_000 * DOLLARS, ["After Removal", "After Installation"]),
    ]


def test_with_nothing_due_the_page_offers_the_next_payment(ctx, contractor, planned):
    options = pay_options(job_status(ctx, contractor, planned))
    assert [(o.choice, o.amount) for o in options] == [("next", 1_000 * DOLLARS), ("all", 4_000 * DOLLARS)]


def test_bank_transfer_comes_first_above_the_threshold_and_only_in_dollars(ctx, contractor, planned):
    job = job_status(ctx, contractor, planned)
    assert pay_methods(job, 100_001, bank_first_above=100_000) == ("bank", "card")
    assert pay_methods(job, 100_000, bank_first_above=100_000) == ("card", "bank")
    euro = job.__class__(**{**job.__dict__, "currency": "EUR"})
    assert pay_methods(euro, 900_000, bank_first_above=100_000) == ("card",)


# --- a checkout session per tap ---------------------------------------------------------------------------------


def test_a_tap_makes_a_session_for_the_amount_open_then(ctx, contractor, removal_due, gateway, stripe_api):
    record_payment(ctx, contractor, removal_due, 400 * DOLLARS, "cash")  # part of the removal payment
    url = start_checkout(ctx, gateway, removal_due, "due", "card", page_url=PAGE)
    [session] = [r for r in stripe_api.requests if r["path"] == "/v1/checkout/sessions"]
    params = session["params"]
    assert url.startswith(stripe_api.base_url + "/checkout/")
    assert params["line_items"][0]["price_data"]["unit_amount"] == str(600 * DOLLARS)
    assert params["payment_method_types"] == ["card"]
    checkout = Checkout.get()
    assert params["metadata"]["checkout"] == str(checkout.id) and params["client_reference_id"] == removal_due
    assert params["success_url"] == f"{PAGE}?checkout={checkout.id}" and params["cancel_url"] == PAGE
    assert checkout.state == "open" and checkout.url == url and checkout.amount == 600 * DOLLARS


def test_a_double_tap_makes_one_session(ctx, removal_due, gateway, stripe_api):
    first = start_checkout(ctx, gateway, removal_due, "due", "card", page_url=PAGE)
    second = start_checkout(ctx, gateway, removal_due, "due", "card", page_url=PAGE)
    assert first == second and Checkout.select().count() == 1
    assert len([r for r in stripe_api.requests if r["path"] == "/v1/checkout/sessions"]) == 1


def test_after_a_price_change_a_tap_pays_the_new_amount(ctx, contractor, removal_due, gateway):
    start_checkout(ctx, gateway, removal_due, "due", "card", page_url=PAGE)
    apply_price_change(ctx, contractor, removal_due, PriceChange.total(4_850 * DOLLARS), because="signed on paper")
    start_checkout(ctx, gateway, removal_due, "due", "card", page_url=PAGE)
    assert [c.amount for c in Checkout.select().order_by(Checkout.id)] == [1_000 * DOLLARS, 1_283_33]


def test_stripe_down_is_a_friendly_refusal_and_nothing_is_left_open(ctx, removal_due, gateway, stripe_api):
    stripe_api.fail_next(3, status=500)  # the gateway retries twice; all three fail
    with pytest.raises(PaymentsUnavailable, match="Nothing was charged"):
        start_checkout(ctx, gateway, removal_due, "due", "card", page_url=PAGE)
    assert Checkout.get().state == "broken"
    assert start_checkout(ctx, gateway, removal_due, "due", "card", page_url=PAGE)  # it works again later


def test_nothing_to_pay_is_refused(ctx, contractor, planned, gateway):
    record_payment(ctx, contractor, planned, 4_000 * DOLLARS, "check")
    with pytest.raises(Conflict, match="nothing to pay"):
        start_checkout(ctx, gateway, planned, "next", "card", page_url=PAGE)


# --- the provider's news ------------------------------------------------------------------------------------------


def test_a_paid_checkout_records_the_payment_once_and_tells_both_sides(ctx, contractor, removal_due, gateway,
                                                                        outbox):
    start_checkout(ctx, gateway, removal_due, "due", "card", page_url=PAGE)
    checkout = Checkout.get()
    paid = news(PAID, checkout, reference="pi_1", method="card")
    assert apply_news(ctx, paid) == PAID
    assert apply_news(ctx, paid) == "duplicate"
    assert apply_news(ctx, news(PAID, checkout, event="evt_again", reference="pi_1")) == PAID  # same payment
    assert Payment.select().where(Payment.reference == "pi_1").count() == 1 and Checkout.get().state == "paid"
    assert state(ctx, contractor, removal_due)[1] == ("paid", 1_000 * DOLLARS)
    assert len(outbox("receipt")) == 2  # the cash payment's, and this one's
    [(_, _, told)] = outbox("payment_received")
    assert "$1,000.00 received (card)" in told


def test_a_bank_transfer_is_processing_then_paid(ctx, contractor, clock, removal_due, gateway, outbox):
    start_checkout(ctx, gateway, removal_due, "due", "bank", page_url=PAGE)
    checkout = Checkout.get()
    assert apply_news(ctx, news(PROCESSING, checkout, reference="pi_2")) == PROCESSING
    assert state(ctx, contractor, removal_due)[1] == ("processing", 0)
    assert "bank transfer" in outbox("bank_transfer_started")[0][2]
    clock.advance(days=5)  # overdue by now, but it is on its way: no reminder
    assert remind_overdue(ctx) == []
    assert apply_news(ctx, news(PAID, checkout, event="evt_2", reference="pi_2", method="bank")) == PAID
    assert state(ctx, contractor, removal_due)[1] == ("paid", 1_000 * DOLLARS)
    assert "(bank transfer)" in outbox("receipt")[-1][2]


def test_a_failed_bank_transfer_reopens_and_tells_both_sides_plainly(ctx, contractor, removal_due, gateway, outbox):
    start_checkout(ctx, gateway, removal_due, "due", "bank", page_url=PAGE)
    checkout = Checkout.get()
    apply_news(ctx, news(PROCESSING, checkout, reference="pi_3"))
    assert apply_news(ctx, news(FAILED, checkout, event="evt_3")) == FAILED
    assert state(ctx, contractor, removal_due)[1] == ("due", 0)
    [(_, _, customer)] = outbox("bank_transfer_failed")[:1]
    assert "did not go through" in customer and "nothing was taken" in customer and "/p/" in customer
    assert any(channel == "telegram" for channel, _, _ in outbox("bank_transfer_failed"))


def test_events_out_of_order_settle_where_the_last_real_one_says(ctx, contractor, removal_due, gateway):
    start_checkout(ctx, gateway, removal_due, "due", "bank", page_url=PAGE)
    checkout = Checkout.get()
    assert apply_news(ctx, news(PAID, checkout, event="evt_b", reference="pi_4", method="bank")) == PAID
    assert apply_news(ctx, news(PROCESSING, checkout, event="evt_a", reference="pi_4")) == "stale"
    assert Checkout.get().state == "paid" and state(ctx, contractor, removal_due)[1] == ("paid", 1_000 * DOLLARS)


def test_money_paid_at_an_old_price_is_recorded_as_paid_and_the_surplus_is_credit(ctx, contractor, removal_due,
                                                                                gateway):
    start_checkout(ctx, gateway, removal_due, "all", "card", page_url=PAGE)
    checkout = Checkout.get()  # $3,000: the whole balance, as it was when the customer tapped
    apply_price_change(ctx, contractor, removal_due, PriceChange.total(3_500 * DOLLARS), because="signed on paper")
    apply_news(ctx, news(PAID, checkout, reference="pi_5", method="card"))
    job = job_status(ctx, contractor, removal_due)
    assert job.paid == 4_000 * DOLLARS and job.credit == 500 * DOLLARS and job.remaining == 0


def test_a_partial_refund_reopens_what_it_gives_back_and_tells_both_sides(ctx, contractor, removal_due, gateway,
                                                                          outbox):
    start_checkout(ctx, gateway, removal_due, "due", "card", page_url=PAGE)
    apply_news(ctx, news(PAID, Checkout.get(), reference="pi_6", method="card"))
    assert apply_news(ctx, news(REFUNDED, event="evt_r1", reference="pi_6", amount=300 * DOLLARS)) == REFUNDED
    assert apply_news(ctx, news(REFUNDED, event="evt_r1b", reference="pi_6", amount=300 * DOLLARS)) == "stale"
    assert state(ctx, contractor, removal_due)[1] == ("partially paid", 700 * DOLLARS)
    assert apply_news(ctx, news(REFUNDED, event="evt_r2", reference="pi_6", amount=1_000 * DOLLARS)) == REFUNDED
    assert state(ctx, contractor, removal_due)[1] == ("due", 0)
    assert [p.amount for p in Payment.select().order_by(Payment.id)] == [100_000, 100_000, -30_000, -70_000]
    assert job_status(ctx, contractor, removal_due).paid == 1_000 * DOLLARS and PaymentPart.select().count() == 1
    assert "we refunded $300.00" in outbox("refund")[0][2]
    assert AuditRecord.select().where(AuditRecord.kind == "refund_recorded").count() == 2


def test_a_refund_comes_out_of_credit_before_any_milestone(ctx, contractor, planned):
    record_payment(ctx, Actor.system("stripe"), planned, 4_500 * DOLLARS, "card", reference="pi_7")
    apply_news(ctx, news(REFUNDED, event="evt_r", reference="pi_7", amount=500 * DOLLARS))
    job = job_status(ctx, contractor, planned)
    assert job.credit == 0 and job.remaining == 0 and [m.paid for m in job.milestones] == [100_000, 100_000, 200_000]


def test_a_later_payment_does_not_reapply_refunded_money(ctx, contractor, planned):
    record_payment(ctx, Actor.system("stripe"), planned, 1_000 * DOLLARS, "card", reference="pi_8")
    apply_news(ctx, news(REFUNDED, event="evt_r", reference="pi_8", amount=1_000 * DOLLARS))
    record_payment(ctx, contractor, planned, 500 * DOLLARS, "cash")
    assert [m.paid for m in job_status(ctx, contractor, planned).milestones] == [50_000, 0, 0]


def test_a_dispute_tells_the_contractor_at_once(ctx, planned, outbox):
    record_payment(ctx, Actor.system("stripe"), planned, 1_000 * DOLLARS, "card", reference="pi_9")
    assert apply_news(ctx, news(DISPUTED, event="evt_d", reference="pi_9", amount=1_000 * DOLLARS,
                                reason="fraudulent")) == DISPUTED
    [(channel, _, body)] = outbox("payment_disputed")
    assert channel == "telegram" and "disputes a payment of $1,000.00" in body


def test_an_event_for_no_job_of_ours_is_kept_and_changes_nothing(ctx, planned):
    assert apply_news(ctx, news(PAID, event="evt_x", job_ref="J-NOPE", reference="pi_x", amount=5_000)) == "unknown_job"
    assert Payment.select().count() == 0
    [record] = AuditRecord.select().where(AuditRecord.kind == "payment_event_unmatched")
    assert json.loads(record.new)["reference"] == "pi_x"


def test_money_for_a_cancelled_job_is_still_recorded_and_the_contractor_told(ctx, contractor, removal_due, gateway,
                                                                            outbox):
    start_checkout(ctx, gateway, removal_due, "due", "card", page_url=PAGE)
    cancel_job(ctx, contractor, removal_due)
    apply_news(ctx, news(PAID, Checkout.get(), reference="pi_c", method="card"))
    assert Payment.get(Payment.reference == "pi_c").amount == 1_000 * DOLLARS
    assert AuditRecord.select().where(AuditRecord.kind == "payment_on_cancelled_job").exists()
    assert outbox("payment_received")


def test_a_processing_bank_transfer_shows_in_bal_plan_and_the_job_card(ctx, contractor, removal_due, gateway):
    from core.wording import customer_replies as replies
    from core.wording.contractor_texts import job_card

    start_checkout(ctx, gateway, removal_due, "due", "bank", page_url=PAGE)
    apply_news(ctx, news(PROCESSING, Checkout.get(), reference="pi_p"))
    job = job_status(ctx, contractor, removal_due)
    assert "On its way: $1,000.00 by bank transfer (processing)." in replies.balance(job, "https://pay.example/p/x")
    assert "Nothing is due right now." in replies.balance(job, "https://pay.example/p/x")
    assert "bank transfer processing" in replies.plan(job, "https://pay.example/p/x")
    assert "bank transfer processing" in job_card(job)


def test_a_milestone_already_processing_is_not_offered_again(ctx, contractor, removal_due, gateway):
    start_checkout(ctx, gateway, removal_due, "due", "bank", page_url=PAGE)
    apply_news(ctx, news(PROCESSING, Checkout.get(), reference="pi_q"))
    options = pay_options(job_status(ctx, contractor, removal_due))
    assert [(o.choice, [m.label for m in o.milestones]) for o in options] == [("next", ["After Installation"])]
    with pytest.raises(Conflict):
        start_checkout(ctx, gateway, removal_due, "due", "card", page_url=PAGE)


def test_a_webhook_that_overtakes_the_sessions_own_answer_is_not_undone(ctx, contractor, removal_due, gateway):
    """Stripe may deliver an event before its answer to the create call reaches us: the event wins."""

    class Overtaken:  # the real gateway, with the customer paying while its answer is on the way back
        def create_session(self, request):
            session = gateway.create_session(request)
            apply_news(ctx, news(PAID, checkout_id=request.checkout_id, amount=request.amount, reference="pi_fast"))
            return session

    start_checkout(ctx, Overtaken(), removal_due, "due", "card", page_url=PAGE)
    assert Checkout.get().state == "paid" and Checkout.get().session_id
    assert state(ctx, contractor, removal_due)[1] == ("paid", 1_000 * DOLLARS)
