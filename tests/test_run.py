"""`paystage run` as a user runs it: one process, the local Bot API and the local Twilio standing in for the world.

The countertop story (docs/design.md, "The countertop job") from /newjob to the last receipt, both ways:
the contractor in Telegram (polling), the customer by SMS (signed webhooks),
every text leaving through the worker's outbox to the local Twilio.
"""

import re
import signal
import time

import pytest

from sandbox import LocalBotAPI, LocalTwilioAPI
from tests.run_harness import paystage_run


@pytest.fixture
def running(tmp_path):
    with LocalBotAPI() as telegram, LocalTwilioAPI() as twilio, paystage_run(tmp_path, telegram, twilio) as started:
        yield started


def test_paystage_run_carries_the_countertop_story_both_ways(running, tmp_path):
    story, process = running
    assert "Welcome" in story.say("/start")["text"]
    created = story.say("/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000")["text"]
    ref = re.search(r"J-[A-Z0-9]{4,6}", created).group()
    for line in ("Measurement, in 3 days 9am", "Removal, in 10 days 8am", "Installation, in 17 days 9am"):
        assert "Added" in story.say(f"/event {ref} {line}")["text"]
    preview = story.say(f"/plan {ref} 25% before measurement, 25% after removal, 50% after installation")
    assert "$1,000.00" in preview["text"]
    assert "Plan sent" in story.tap(preview, "Send to customer")["text"]
    [consent, plan] = story.texts_after(0, 2)
    assert "Reply STOP to opt out" in consent
    assert "$4,000.00" in plan and "/p/" in plan

    balance = story.customer_texts("BAL")
    assert "$4,000.00" in balance and ref in balance

    assert "passed your message" in story.customer_texts("Can the crew come a bit earlier?")
    relayed = story.telegram.wait_for_sent(len(story.telegram.sent), timeout=20)[-1]
    deadline = time.monotonic() + 20
    while "a bit earlier" not in relayed["text"] and time.monotonic() < deadline:
        time.sleep(0.1)
        relayed = story.telegram.sent[-1]
    assert "Dana Whitfield" in relayed["text"]
    assert "Sent to Dana" in story.say("Sure, 8am works.", reply_to=relayed["message_id"])["text"]
    assert story.texts_after(2) == ["Sure, 8am works."]

    asked = story.say(f"/done {ref} removal")  # Measurement is still to do: asked once
    assert "Measurement is scheduled before Removal" in asked["text"]
    assert "texted" in story.tap(asked, "Mark Removal done anyway")["text"]
    [due] = story.texts_after(3)
    assert "$1,000.00 is now due" in due
    assert "Recorded $1,000.00" in story.say(f"/paid {ref} 1000 check")["text"]
    [receipt] = story.texts_after(4)
    assert "We received $1,000.00" in receipt

    preview = story.say(f"/price {ref} 4850")
    assert "$4,000.00 -> $4,850.00" in preview["text"]
    assert "Change order 1" in story.tap(preview, "Send for approval")["text"]
    [asked] = story.texts_after(5)
    assert "please approve a new price" in asked and "Reply YES to approve" in asked
    assert "waits for your YES or NO" in story.customer_texts("BAL")  # nothing changed before the answer
    before = len(story.telegram.sent)
    assert "You approved the new price" in story.customer_texts("YES")
    told = story.telegram.wait_for_sent(before + 1, timeout=20)[before]
    assert "approved change order 1 by text: the price is now $4,850.00" in told["text"]

    story.say(f"/done {ref} measure")
    story.say(f"/done {ref} install")
    dues = story.texts_after(6, 2)
    # the $1,000.00 paid went to the removal payment that was due; the rest spread over the other two
    assert any("$1,283.33" in d for d in dues) and any("$2,566.67" in d for d in dues)
    story.say(f"/paid {ref} 3850 transfer")
    [last] = story.texts_after(8)
    assert "paid in full" in last

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert "stopping" in (tmp_path / "run.log").read_text()


def test_paystage_run_tells_the_countertop_story_in_spanish_to_a_customer_who_texted_espanol(running):
    """The same story for a customer who reads Spanish: every text they get and every answer, in Spanish (es_US:
    the same dollar amounts), their keywords in Spanish; the contractor's chat stays as it was."""
    story, _process = running
    story.say("/start")
    created = story.say("/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000")["text"]
    ref = re.search(r"J-[A-Z0-9]{4,6}", created).group()
    for line in ("Measurement, in 3 days 9am", "Removal, in 10 days 8am", "Installation, in 17 days 9am"):
        story.say(f"/event {ref} {line}")
    preview = story.say(f"/plan {ref} 25% before measurement, 25% after removal, 50% after installation")
    story.tap(preview, "Send to customer")
    [_consent, plan] = story.texts_after(0, 2)
    assert "Reply BAL, NEXT, PLAN or HELP." in plan  # in English until they say otherwise

    before = len(story.telegram.sent)
    switched = story.customer_texts("ESPAÑOL")
    assert "ENGLISH" in switched and ref in switched
    told = story.telegram.wait_for_sent(before + 1, timeout=20)[before]
    assert "Dana Whitfield asked for texts in Spanish" in told["text"]  # the contractor reads English
    balance = story.customer_texts("SALDO")
    assert "$4,000.00" in balance and "Paid so far" not in balance
    assert story.customer_texts("Próximo") == story.customer_texts("NEXT")

    story.tap(story.say(f"/done {ref} removal"), "Mark Removal done anyway")
    [due] = story.texts_after(2)
    assert "$1,000.00" in due and "is now due" not in due and "/p/" in due
    story.say(f"/paid {ref} 1000 check")
    [receipt] = story.texts_after(3)
    assert "$1,000.00" in receipt and "We received" not in receipt
    preview = story.say(f"/price {ref} 4850")
    story.tap(preview, "Send for approval")
    [asked] = story.texts_after(4)
    assert "$4,850.00" in asked and "SI" in asked and "Reply YES" not in asked
    approved = story.customer_texts("Sí")
    assert "$4,850.00" in approved and "ha aprobado" in approved and "Thank you" not in approved


@pytest.fixture
def quick(tmp_path):
    """`paystage run` where a change order expires after 43.2 seconds, reminded at 21.6: after the worker's scan
    (every 30 seconds) has seen it, each at its moment."""
    with LocalBotAPI() as telegram, LocalTwilioAPI() as twilio, paystage_run(
            tmp_path, telegram, twilio, env={"PAYSTAGE_CHANGE_ORDER_DAYS": "0.0005"}) as started:
        yield started


def test_paystage_run_carries_change_orders_declined_waiting_applied_with_a_reason_and_expired(quick):
    """The change order story the other ways: NO; a second change order waiting its turn; a payment while one
    waits; applied without an answer for a reason; and one the customer lets expire, reminded once."""
    story, _process = quick
    story.say("/start")
    ref = re.search(r"J-[A-Z0-9]{4,6}", story.say(
        "/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000")["text"]).group()
    story.tap(story.say(f"/plan {ref} 50% now, 50% on Dec 15"), "Send to customer")
    story.texts_after(0, 3)  # the consent, the plan, the deposit due

    story.tap(story.say(f"/add {ref} Undermount sink, $400"), "Send for approval")
    assert "$4,000.00 to $4,400.00" in story.texts_after(3)[0]
    waiting = story.tap(story.say(f"/price {ref} 5000"), "Send once 1 is answered")
    assert "Change order 2 is sent to Dana Whitfield once change order 1 is answered" in waiting["text"]
    assert "Recorded $2,000.00" in story.say(f"/paid {ref} 2000 check")["text"]  # at the old price
    story.texts_after(4)  # its receipt
    assert "you declined" in story.customer_texts("NO")
    second = story.texts_after(5)[0]  # the second goes out now, on the price as it stands
    assert "$4,000.00 to $5,000.00" in second and "Already paid: $2,000.00" in second

    asked = story.tap(story.say(f"/price {ref} 4500"), "Replace change order 2")
    assert "Change order 3" in asked["text"]
    story.texts_after(6)
    why = story.tap(story.say(f"/price {ref} 4600"), "Apply without approval")
    assert "Why does it apply without the customer's approval" in why["text"]
    assert "$4,600.00" in story.say("agreed on site with both owners")["text"]
    [applied] = story.texts_after(7)
    assert "because: agreed on site with both owners" in applied and "$4,600.00" in applied
    assert "Paid so far: $2,000.00 of $4,600.00" in story.customer_texts("BAL")

    before = len(story.telegram.sent)
    story.tap(story.say(f"/price {ref} 4700"), "Send for approval")
    reminder = story.twilio.wait_for(10, timeout=60)[9]["body"]  # the change order, then its reminder, halfway
    assert "a reminder: the price change" in reminder
    deadline = time.monotonic() + 60
    while not any("expired without an answer" in m["text"] for m in story.telegram.sent[before:]):
        assert time.monotonic() < deadline, "the contractor was not told of the expiry"
        time.sleep(0.2)
    assert "expired on" in story.customer_texts("YES")
    assert "Paid so far: $2,000.00 of $4,600.00" in story.customer_texts("BAL")  # the price stayed
