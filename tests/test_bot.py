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
