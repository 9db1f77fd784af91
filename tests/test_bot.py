"""The contractor's Telegram bot, through the real Application and a fake Bot API over real HTTP."""

import pytest

from tests.bot_harness import Chat, buttons, start_bot
from tests.fakes import FakeBotAPI

NEWJOB = "/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000"


@pytest.fixture
def api():
    with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
def bot(api, ctx):
    runner = start_bot(api, ctx)
    yield runner
    runner.stop()


@pytest.fixture
def chat(api, bot):
    chat = Chat(api, bot, chat_id=555)
    chat.say("/start")
    return chat


def ref_in(text: str) -> str:
    import re

    return re.search(r"J-[A-Z0-9]{4,6}", text).group()


def test_start_registers_the_contractor_and_help_lists_the_commands(chat):
    assert "Welcome, Granite & Co" in chat.sent()[0]["text"]
    [help_text] = chat.say("/help")
    assert "/newjob" in help_text["text"] and "/paid" in help_text["text"] and "/cancel" in help_text["text"]


def test_the_countertop_story_in_one_line_commands(chat, clock, outbox):
    [created] = chat.say(NEWJOB)
    ref = ref_in(created["text"])
    for line in [f"/event {ref} Measurement, Dec 3 9am", f"/event {ref} Removal, Dec 10 8am",
                 f"/event {ref} Installation, Dec 17 9am"]:
        assert "Added" in chat.say(line)[0]["text"]
    [preview] = chat.say(f"/plan {ref} 25% before measurement, 25% after removal, 50% after installation")
    assert "$1,000.00" in preview["text"] and "$2,000.00" in preview["text"] and "Send to customer" in buttons(preview)
    assert outbox("plan") == []  # a preview reaches no one
    [sent] = chat.tap("Send to customer")
    assert "Plan sent to Dana Whitfield" in sent["text"] and len(outbox("plan")) == 1
    clock.advance(days=9)
    [done] = chat.say(f"/done {ref} removal")
    assert "Removal is done" in done["text"] and "texted" in done["text"]
    [paid] = chat.say(f"/paid {ref} 1000 check")
    assert "Recorded $1,000.00 (check)" in paid["text"]
    [price] = chat.say(f"/price {ref} 4850")
    assert "$4,000.00 -> $4,850.00" in price["text"]
    [applied] = chat.tap("Apply")
    assert "$4,850.00" in applied["text"] and len(outbox("plan_changed")) == 1


def test_a_bare_command_asks_one_question_at_a_time(chat):
    assert "customer's name" in chat.say("/newjob")[0]["text"]
    assert "mobile number" in chat.say("Dana Whitfield")[0]["text"]
    assert "What is the job" in chat.say("(415) 555-0134")[0]["text"]
    assert "price" in chat.say("Kitchen countertops")[0]["text"]
    [created] = chat.say("$4,000")
    assert "created" in created["text"] and "$4,000.00" in created["text"]


def test_buttons_answer_questions_where_a_tap_beats_typing(chat):
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    chat.say(f"/event {ref} Measurement, Dec 3 9am")
    chat.say(f"/event {ref} Installation, Dec 17 9am")
    [question] = chat.say("/done")  # the only job is taken as meant; which event is asked with buttons
    assert set(buttons(question)) == {"Measurement", "Installation"}
    [done] = chat.tap("Installation")
    assert "Installation is done" in done["text"]


def test_cancel_always_leaves_and_changes_nothing(chat, database):
    from storage.models import Job

    chat.say("/newjob")
    chat.say("Dana Whitfield")
    assert "Stopped" in chat.say("/cancel")[0]["text"]
    assert Job.select().count() == 0
    assert "Nothing to cancel" in chat.say("/cancel")[0]["text"]


@pytest.mark.parametrize("line, complaint", [
    ("/newjob Dana, not-a-phone, Kitchen, $4,000", "not a phone number"),
    ("/newjob Dana, (415) 555-0134, Kitchen, four grand", "not an amount"),
    ("/newjob Dana Whitfield", "four things"),
])
def test_malformed_input_says_what_was_wrong_and_writes_nothing(chat, line, complaint):
    from storage.models import Job

    [reply] = chat.say(line)
    assert complaint in reply["text"] and "Nothing was changed" in reply["text"]
    assert Job.select().count() == 0


def test_malformed_dates_amounts_and_events_are_refused(chat):
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    assert "could not read" in chat.say(f"/event {ref} Measurement, someday soonish")[0]["text"]
    chat.say(f"/event {ref} Measurement, Dec 3 9am")
    assert "no event 'pour'" in chat.say(f"/done {ref} pour")[0]["text"].lower()
    assert "not an amount" in chat.say(f"/paid {ref} lots cash")[0]["text"]
    assert "There is no job" in chat.say("/job J-ZZZZ")[0]["text"]


def test_another_contractor_cannot_see_or_touch_the_job(api, bot, chat, outbox):
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    rival = Chat(api, bot, chat_id=777, first_name="Rival Stone")
    rival.say("/start")
    for line in [f"/job {ref}", f"/paid {ref} 100 cash", f"/price {ref} 1", f"/link {ref}"]:
        assert "There is no job" in rival.say(line)[0]["text"]
    assert ref not in rival.say("/jobs")[0]["text"]


def test_someone_not_registered_is_asked_to_start(api, bot):
    stranger = Chat(api, bot, chat_id=888)
    assert "/start" in stranger.say("/jobs")[0]["text"]


def test_only_allowed_telegram_users_may_register(api, ctx):
    from tests.bot_harness import start_bot

    runner = start_bot(api, ctx, allowed_ids=frozenset({555}))
    try:
        assert "private" in Chat(api, runner, chat_id=999).say("/start")[0]["text"]
        assert "Welcome" in Chat(api, runner, chat_id=555).say("/start")[0]["text"]
    finally:
        runner.stop()


def test_the_job_card_offers_a_button_per_open_event_and_a_payment_link(chat, clock, outbox):
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    chat.say(f"/event {ref} Removal, Dec 10 8am")
    chat.say(f"/plan {ref} 50% now, 50% after removal")
    chat.tap("Send to customer")
    [card] = chat.say(f"/job {ref}")
    assert {"Removal done", "Record payment", "Payment link"} <= set(buttons(card))
    assert "https://pay.example/p/" in chat.tap("Payment link", card)[0]["text"]
    chat.tap("Removal done", card)
    assert len(outbox("payment_due")) == 2  # the deposit when sent, the rest now
    [amount_question] = chat.tap("Record payment", card)
    assert "How much" in amount_question["text"]
    chat.say("2000")
    [recorded] = chat.tap("cash")
    assert "Recorded $2,000.00 (cash)" in recorded["text"]


def test_a_price_change_preview_can_be_dropped(chat, outbox):
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    chat.say(f"/add {ref} Undermount sink, $350")
    assert "Dropped" in chat.tap("Cancel")[0]["text"]
    assert "$4,000.00" in chat.say(f"/job {ref}")[0]["text"]
