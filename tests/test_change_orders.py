"""Change orders (core.change_orders): a price change waits for the customer's YES before any amount changes.

Through the real use cases on every database; the customer's answers by text go through core.inbound as the
webhook calls it, and the page's Approve and Decline through the Flask app.
"""

import json
import re
from datetime import timedelta

import pytest

from core.change_orders import apply_price_change, propose_price_change
from core.context import Actor
from core.errors import Conflict, InvalidInput
from core.events import mark_event_done
from core.export import job_history
from core.inbound import answer_text
from core.jobs import cancel_job, job_status
from core.loop import turn
from core.payments import record_payment
from core.plans import set_plan
from core.pricing import PriceChange
from core.reminders import next_moment
from sms.app import create_app
from storage.models import AuditRecord, ChangeOrder, OutboxMessage

DANA = "+14155550134"
SINK = PriceChange.add("Undermount sink", 35_000)  # $4,000.00 -> $4,350.00


def texted(ctx, body, sid):
    return answer_text(ctx, DANA, body, sid).text


def amounts(ctx, contractor, ref):
    return [m.amount for m in job_status(ctx, contractor, ref).milestones]


def messages(kind):
    return [m.body for m in OutboxMessage.select().where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)]


def test_the_plan_stands_until_the_customer_says_yes_and_the_yes_is_kept_as_evidence(ctx, contractor, planned):
    proposed = propose_price_change(ctx, contractor, planned, SINK)
    assert (proposed.outcome, proposed.number) == ("sent", 1)
    assert amounts(ctx, contractor, planned) == [100_000, 100_000, 200_000]  # nothing changed yet
    [text] = messages("change_order")
    assert "please approve a new price for Kitchen countertops" in text and "$4,000.00 to $4,350.00" in text
    assert "Reply YES to approve or NO to decline" in text
    assert "waits for your YES or NO" in texted(ctx, "BAL", "SM1")

    reply = texted(ctx, "Yes", "SM2")
    assert "You approved the new price" in reply and "$4,350.00" in reply
    assert amounts(ctx, contractor, planned) == [108_750, 108_750, 217_500]
    order = ChangeOrder.get()
    assert (order.state, order.answered_via, order.answered_by, order.message_id) == ("approved", "sms", DANA, "SM2")
    assert order.answered_at == ctx.clock() and order.shown == text  # the exact words they said YES to
    [told] = messages("change_order_approved")
    assert "approved change order 1 by text: the price is now $4,350.00" in told


def test_no_keeps_the_old_plan_and_tells_the_contractor(ctx, contractor, planned):
    propose_price_change(ctx, contractor, planned, SINK)
    assert "you declined the price change" in texted(ctx, "NO", "SM1")
    assert amounts(ctx, contractor, planned) == [100_000, 100_000, 200_000]
    assert ChangeOrder.get().state == "declined"
    assert "declined change order 1 ($4,000.00 -> $4,350.00) by text: the price stays $4,000.00" in messages(
        "change_order_declined")[0]
    assert "nothing to approve" in texted(ctx, "YES", "SM2")  # nothing waits any more


def test_an_unanswered_change_order_is_reminded_once_then_expires_and_the_contractor_is_told(ctx, clock, contractor,
                                                                                             planned):
    propose_price_change(ctx, contractor, planned, SINK)
    sent = ChangeOrder.get()
    assert next_moment(sent.remind_at - timedelta(seconds=1)) == sent.remind_at  # the loop wakes for it
    clock.advance(days=3)
    assert turn(ctx).change_orders == ()
    clock.advance(hours=12)  # halfway through the 7 days
    assert turn(ctx).change_orders == (sent.id,)
    assert turn(ctx).change_orders == ()  # once
    [reminder] = messages("change_order_reminder")
    assert "a reminder: the price change for Kitchen countertops (J-" in reminder
    clock.advance(days=3, hours=12)
    assert turn(ctx).change_orders == (sent.id,)
    assert ChangeOrder.get().state == "expired" and amounts(ctx, contractor, planned) == [100_000, 100_000, 200_000]
    assert "expired without an answer from Dana Whitfield: the price stays $4,000.00" in messages(
        "change_order_expired")[0]
    reply = texted(ctx, "YES", "SM1")  # too late: said so, nothing changes
    assert "expired on" in reply and "the price stays $4,000.00" in reply
    assert amounts(ctx, contractor, planned) == [100_000, 100_000, 200_000]


def test_a_yes_after_the_time_is_up_expires_it_even_before_the_loop_comes(ctx, clock, contractor, planned):
    propose_price_change(ctx, contractor, planned, SINK)
    clock.advance(days=7)
    assert "expired on" in texted(ctx, "YES", "SM1")
    assert ChangeOrder.get().state == "expired" and job_status(ctx, contractor, planned).total == 400_000


def test_the_expiry_follows_the_setting(ctx, contractor, planned):
    from dataclasses import replace

    propose_price_change(replace(ctx, change_order_days=2), contractor, planned, SINK)
    order = ChangeOrder.get()
    assert (order.expires_at - order.sent_at).days == 2


def test_applying_without_approval_needs_a_reason_which_is_kept_and_shown(ctx, contractor, planned):
    with pytest.raises(InvalidInput, match="Say why"):
        apply_price_change(ctx, contractor, planned, SINK)
    with pytest.raises(InvalidInput):
        apply_price_change(ctx, contractor, planned, SINK, because="   ")
    assert not ChangeOrder.select().exists() and job_status(ctx, contractor, planned).total == 400_000

    apply_price_change(ctx, contractor, planned, SINK, because="Signed on paper at the site")
    order = ChangeOrder.get()
    assert (order.state, order.applied_because, order.answered_via) == ("applied", "Signed on paper at the site",
                                                                         "telegram")
    assert job_status(ctx, contractor, planned).total == 435_000
    [text] = messages("plan_changed")
    assert "Applied without your reply because: Signed on paper at the site." in text
    record = AuditRecord.get(AuditRecord.kind == "price_changed")
    assert json.loads(record.new)["because"] == "Signed on paper at the site"


def test_the_change_order_waiting_can_be_applied_without_an_answer(ctx, contractor, planned):
    propose_price_change(ctx, contractor, planned, SINK)
    apply_price_change(ctx, contractor, planned, because="customer agreed on the phone")
    order = ChangeOrder.get()
    assert order.state == "applied" and job_status(ctx, contractor, planned).total == 435_000
    assert "is closed: the price is $4,350.00" in texted(ctx, "YES", "SM1")
    with pytest.raises(Conflict, match="No change order"):
        apply_price_change(ctx, contractor, planned, because="again")


def test_a_payment_while_a_change_order_waits_goes_to_the_old_plan_and_the_approval_recalculates(ctx, contractor,
                                                                                               planned):
    propose_price_change(ctx, contractor, planned, PriceChange.total(500_000))
    record_payment(ctx, contractor, planned, 100_000, "check")  # the deposit, at the old price
    assert amounts(ctx, contractor, planned) == [100_000, 100_000, 200_000]
    texted(ctx, "YES", "SM1")
    # the paid deposit keeps its amount; the other $4,000.00 is spread 25:50 over the open ones
    assert amounts(ctx, contractor, planned) == [100_000, 133_333, 266_667]
    assert job_status(ctx, contractor, planned).remaining == 400_000


def test_a_second_change_order_waits_its_turn_or_replaces_the_first(ctx, contractor, planned):
    propose_price_change(ctx, contractor, planned, SINK)
    with pytest.raises(Conflict, match="Change order 1 .* waits for Dana Whitfield's answer"):
        propose_price_change(ctx, contractor, planned, PriceChange.total(450_000))
    waiting = propose_price_change(ctx, contractor, planned, PriceChange.add("Faucet", 20_000), wait=True)
    assert (waiting.outcome, waiting.number) == ("waiting", 2)
    assert len(messages("change_order")) == 1  # never two asking at once
    assert job_status(ctx, contractor, planned).change_order.number == 1

    texted(ctx, "YES", "SM1")  # the first applies; then the second goes out, worked out on the new price
    assert job_status(ctx, contractor, planned).total == 435_000
    second = messages("change_order")[1]
    assert "$4,350.00 to $4,550.00" in second
    assert "Change order 2: $4,350.00 -> $4,550.00" in messages("change_order_sent")[0]

    replaced = propose_price_change(ctx, contractor, planned, PriceChange.total(460_000), replace=True)
    assert replaced.number == 3
    states = {o.number: o.state for o in ChangeOrder.select()}
    assert states == {1: "approved", 2: "replaced", 3: "pending"}
    assert "It replaces our change of" in messages("change_order")[2]
    texted(ctx, "YES", "SM2")
    assert job_status(ctx, contractor, planned).total == 460_000


def test_a_change_order_is_refused_on_a_cancelled_or_fully_paid_job(ctx, contractor, planned, countertop_job):
    record_payment(ctx, contractor, planned, 400_000, "check")
    with pytest.raises(Conflict, match="paid in full"):
        propose_price_change(ctx, contractor, planned, SINK)
    assert not ChangeOrder.select().exists() and job_status(ctx, contractor, planned).total == 400_000
    cancel_job(ctx, contractor, planned)
    with pytest.raises(Conflict, match="cancelled"):
        propose_price_change(ctx, contractor, planned, SINK)


def test_cancelling_the_job_withdraws_its_change_order(ctx, contractor, planned):
    propose_price_change(ctx, contractor, planned, SINK)
    cancel_job(ctx, contractor, planned)
    assert ChangeOrder.get().state == "withdrawn"


def test_before_the_plan_is_sent_the_price_simply_changes(ctx, contractor, countertop_job):
    set_plan(ctx, contractor, countertop_job, "25% before measurement, 25% after removal, 50% after installation")
    proposed = propose_price_change(ctx, contractor, countertop_job, SINK)
    assert proposed.outcome == "written" and not ChangeOrder.select().exists()
    assert amounts(ctx, contractor, countertop_job) == [108_750, 108_750, 217_500]
    assert not messages("change_order") and not messages("plan_changed")  # the customer has seen no plan


def test_another_contractor_cannot_touch_the_change_order(ctx, planned):
    from core.errors import NotFound
    from core.jobs import register_contractor

    rival = Actor.contractor(register_contractor(ctx, business_name="Rival", telegram_id=777).id)
    with pytest.raises(NotFound):
        propose_price_change(ctx, rival, planned, SINK)
    with pytest.raises(NotFound):
        apply_price_change(ctx, rival, planned, SINK, because="mine now")


def test_the_export_holds_each_change_order_with_its_evidence(ctx, contractor, planned):
    propose_price_change(ctx, contractor, planned, SINK)
    texted(ctx, "YES", "SM42")
    rows = job_history(ctx, contractor, planned)
    [order] = [r for r in rows if r.source == "change_order"]
    assert (order.kind, order.status, order.actor, order.amount) == ("change_order", "approved", f"customer:{DANA}",
                                                                     435_000)
    assert order.what == (f"Change order 1: $4,000.00 -> $4,350.00, approved by text from {DANA}, message SM42")
    assert order.detail["message_id"] == "SM42" and order.detail["shown"] == messages("change_order")[0]
    kinds = [r.kind for r in rows]
    assert kinds.index("change_order_sent") < kinds.index("change_order_approved") < kinds.index("price_changed")


# --- the page ----------------------------------------------------------------------------------------------------


@pytest.fixture
def client(ctx):
    return create_app(ctx, public_base_url="https://pay.example", twilio_auth_token="t").test_client()


def form_of(html):
    action = re.search(r'<form class="card pay change-order" method="post" action="([^"]+)"', html)
    digest = re.search(r'name="shown" value="([0-9a-f]+)"', html)
    return action and action.group(1), digest and digest.group(1)


def test_approve_on_the_page_applies_it_keeping_the_request_and_the_words_shown(client, ctx, contractor, planned):
    url = "/p/" + ctx.links.token(planned, ctx.clock())
    propose_price_change(ctx, contractor, planned, SINK)
    html = client.get(url).get_data(as_text=True)
    assert "A price change for you to approve" in html and "Change order 1: the price for Kitchen countertops" in html
    action, digest = form_of(html)
    response = client.post(action, data={"answer": "approve", "shown": digest},
                           headers={"User-Agent": "TestBrowser/1.0"})
    assert response.status_code == 303 and "change=approved" in response.headers["Location"]
    order = ChangeOrder.get()
    assert (order.state, order.answered_via, order.answered_by) == ("approved", "page", DANA)
    assert "TestBrowser/1.0" in order.request and ctx.links.token(planned, ctx.clock()) not in order.request
    assert order.shown.startswith("Change order 1: the price for Kitchen countertops from $4,000.00 to $4,350.00")
    assert job_status(ctx, contractor, planned).total == 435_000
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "you approved the new price, $4,350.00" in after and "approved by you on your page" in after
    assert "A price change for you to approve" not in after
    again = client.post(action, data={"answer": "approve", "shown": digest})  # a second tap changes nothing
    assert "change=nothing" in again.headers["Location"] and job_status(ctx, contractor, planned).total == 435_000


def test_decline_on_the_page_and_an_answer_to_words_no_longer_shown(client, ctx, contractor, planned):
    url = "/p/" + ctx.links.token(planned, ctx.clock())
    propose_price_change(ctx, contractor, planned, PriceChange.total(500_000))
    action, digest = form_of(client.get(url).get_data(as_text=True))
    record_payment(ctx, contractor, planned, 100_000, "check")  # the amounts the page showed move
    moved = client.post(action, data={"answer": "approve", "shown": digest})
    assert "change=moved" in moved.headers["Location"] and ChangeOrder.get().state == "pending"
    action, digest = form_of(client.get(url).get_data(as_text=True))
    declined = client.post(action, data={"answer": "decline", "shown": digest})
    assert "change=declined" in declined.headers["Location"]
    assert ChangeOrder.get().state == "declined" and job_status(ctx, contractor, planned).total == 400_000


def test_a_change_applied_without_approval_is_shown_on_the_page_with_its_reason(client, ctx, contractor, planned):
    apply_price_change(ctx, contractor, planned, SINK, because="signed on paper")
    html = client.get("/p/" + ctx.links.token(planned, ctx.clock())).get_data(as_text=True)
    assert "applied by Granite &amp; Co without your approval: signed on paper" in html


def test_the_event_flow_is_untouched_while_a_change_order_waits(ctx, contractor, planned):
    propose_price_change(ctx, contractor, planned, SINK)
    mark_event_done(ctx, contractor, planned, "Removal")
    assert [m.status.value for m in job_status(ctx, contractor, planned).milestones][1] == "due"
    assert amounts(ctx, contractor, planned) == [100_000, 100_000, 200_000]
