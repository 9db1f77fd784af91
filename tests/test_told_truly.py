"""What the contractor is told about a text to the customer is what really happens (issue 10, item 4): texted
now, held for the customer's quiet hours until a time, or not texted at all because they replied STOP."""

from dataclasses import replace
from datetime import timedelta

from core.quiet_hours import QuietHours
from core.reach import Reach, reach
from storage.models import Customer
from tests.test_bot import NEWJOB, ref_in
from tests.test_messages import kitchen_job


def a_planned_job(chat) -> str:
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    for line in (f"/event {ref} Measurement, Dec 3 9am", f"/event {ref} Removal, Dec 10 8am"):
        chat.say(line)
    chat.say(f"/plan {ref} 50% before measurement, 50% after removal")
    return ref


def done_removal(chat, ref: str) -> list[dict]:
    """/done removal while Measurement is still to do: asked once, and marked done anyway."""
    chat.say(f"/done {ref} removal")
    return chat.tap("Mark Removal done anyway")


def test_by_day_the_contractor_hears_the_customer_was_texted(chat, clock, utc):
    ref = a_planned_job(chat)
    [sent] = chat.tap("Send to customer")
    assert "Plan sent to Dana Whitfield" in sent["text"]
    clock.set(utc(2026, 12, 10, 15))  # 10 AM in New York, where Dana is
    [done] = done_removal(chat, ref)
    assert "Dana Whitfield was texted the amount and the payment link." in done["text"]


def test_at_night_the_contractor_hears_when_the_text_will_go(chat, clock, utc):
    ref = a_planned_job(chat)
    chat.tap("Send to customer")
    clock.set(utc(2026, 12, 11, 3))  # 10 PM in New York
    [done] = done_removal(chat, ref)
    assert "was texted" not in done["text"]
    assert "Dana Whitfield will be texted the amount and the payment link at Fri, Dec 11, 8:00 AM their time" \
        in done["text"]


def test_after_stop_the_contractor_hears_nothing_was_sent_and_what_to_do(chat, clock, utc):
    ref = a_planned_job(chat)
    chat.tap("Send to customer")
    Customer.update(opted_out_at=utc(2026, 12, 2, 16)).execute()
    clock.set(utc(2026, 12, 10, 15))
    [done] = done_removal(chat, ref)
    assert "was texted" not in done["text"]
    assert ("Not texted: Dana Whitfield replied STOP on Wed, Dec 2; send them the amount and the payment link "
            "another way.") in done["text"]
    [paid] = chat.say(f"/paid {ref} 2000 check")
    assert "Not texted" in paid["text"] and "a receipt another way" in paid["text"]


def test_reach_follows_stop_then_quiet_hours(utc):
    job = replace(kitchen_job(), now=utc(2026, 12, 2, 20), timezone="America/New_York")
    assert reach(job, QuietHours()) == Reach()
    late = replace(job, now=utc(2026, 12, 3, 3))
    assert reach(late, QuietHours()) == Reach(held_until=utc(2026, 12, 3, 13))
    assert reach(late, QuietHours.parse("off")) == Reach()
    stopped = replace(late, opted_out_at=late.now - timedelta(days=1))
    assert reach(stopped, QuietHours()) == Reach(opted_out_at=stopped.opted_out_at)
