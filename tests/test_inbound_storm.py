"""A storm of texts from one phone (core.inbound's pace): answers slow down, nothing said is lost."""

from core.inbound import ANSWER_BURST, ANSWER_EVERY, answer_text
from storage.models import Customer, OutboxMessage

DANA = "+14155550134"
STRANGER = "+14155550999"


def storm(ctx, phone, bodies, first=0):
    return [answer_text(ctx, phone, body, f"SM{first + n:032d}").text for n, body in enumerate(bodies)]


def test_a_phone_gets_a_burst_of_answers_then_one_polite_word_then_silence_until_the_pace_allows(ctx, clock,
                                                                                                 planned):
    answers = storm(ctx, DANA, ["BAL"] * (ANSWER_BURST + 5))
    assert all("Balance for Kitchen countertops" in a for a in answers[:ANSWER_BURST])
    assert answers[ANSWER_BURST] == ("We got your texts and will answer again in a few minutes. Anything you wrote "
                                     "is passed on. STOP and START always work.")
    assert answers[ANSWER_BURST + 1:] == [None] * 4
    clock.advance(seconds=ANSWER_EVERY.total_seconds())
    [again, over] = storm(ctx, DANA, ["NEXT", "NEXT"], first=100)
    assert again and "Kitchen countertops" in again and over is None  # one more, and still quiet after it
    clock.advance(seconds=ANSWER_EVERY.total_seconds() * ANSWER_BURST)
    assert all(storm(ctx, DANA, ["BAL"] * ANSWER_BURST, first=200))  # the bucket emptied: a burst again


def test_in_a_storm_every_text_is_still_handled_its_words_passed_on_stop_and_start_always_work(ctx, planned):
    storm(ctx, DANA, ["BAL"] * (ANSWER_BURST + 1))
    before = OutboxMessage.select().where(OutboxMessage.kind == "relay").count()
    assert storm(ctx, DANA, ["Is the crew coming at 8?", "Call me please"], first=50) == [None, None]
    assert OutboxMessage.select().where(OutboxMessage.kind == "relay").count() == before + 2  # nothing lost
    assert answer_text(ctx, DANA, "STOP", "SM-stop").text is None
    assert Customer.get(Customer.phone == DANA).opted_out_at is not None
    started = answer_text(ctx, DANA, "START", "SM-start").text
    assert started and "Reply STOP" in started  # confirmed however fast they text
    assert Customer.get(Customer.phone == DANA).opted_out_at is None


def test_the_pace_is_per_phone_and_a_stranger_is_paced_too(ctx, planned):
    storm(ctx, STRANGER, ["HI"] * (ANSWER_BURST + 3))
    assert storm(ctx, STRANGER, ["HI"], first=90) == [None]
    assert "Balance" in storm(ctx, DANA, ["BAL"], first=91)[0]  # another phone is not held back


def test_a_provider_retry_in_a_storm_gets_the_same_answer_it_got(ctx, planned):
    answers = storm(ctx, DANA, ["BAL"] * (ANSWER_BURST + 2))
    assert [answer_text(ctx, DANA, "BAL", f"SM{n:032d}").text for n in range(ANSWER_BURST + 2)] == answers


def test_a_pace_left_by_a_clock_ahead_of_now_does_not_hold_the_phone_back(ctx, clock, planned):
    storm(ctx, DANA, ["BAL"] * (ANSWER_BURST + 2))  # over the pace...
    clock.advance(days=-6)  # ...at a moment the clock then went back from (the demo's simulated days)
    assert "Balance" in storm(ctx, DANA, ["BAL"], first=300)[0]
