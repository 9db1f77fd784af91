"""Malformed and forged input to the bot: a friendly refusal or a quiet 200, never a traceback or a 500."""

import logging
import re

import pytest
from flask import Flask

from bot.runner import BotRunner
from bot.webhook import webhook_blueprint

SECRET = "s3cret-token"
NEWJOB = "/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000"


@pytest.fixture
def webhook(bot):
    app = Flask(__name__)
    app.register_blueprint(webhook_blueprint(SECRET, bot))
    return app.test_client()


def errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("body", [
    b'{"update_id":10,"message":"x"}',
    b'{"update_id":11,"callback_query":{"id":"1","from":{"id":5,"is_bot":false,"first_name":"M"},"data":"x"}}',
    b'{"update_id":"twelve","message":{"message_id":1}}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"update_id":13,"message":' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}",
    b"not json at all",
    b"[1, 2, 3]",
])
def test_a_malformed_update_is_acknowledged_with_one_log_line(webhook, api, body, caplog):
    caplog.set_level(logging.INFO)
    response = webhook.post("/telegram/webhook", data=body, content_type="application/json",
                            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 200  # anything else and Telegram retries it for a day
    assert errors(caplog) == []
    assert api.sent == []


def test_a_malformed_update_fed_to_the_runner_is_dropped_with_a_warning(bot: BotRunner, caplog):
    bot.feed({"update_id": 10, "message": "x"})
    [warning] = [r for r in caplog.records if r.name == "bot.runner"]
    assert warning.levelno == logging.WARNING and warning.exc_info is None and "10" in warning.getMessage()


@pytest.mark.parametrize("data", [
    "ask:nosuchcommand:J-7K2Q",
    "ask:paid",
    "done:J-ZZZZ:0",
    "done:{ref}:99",
    "done:{ref}:x",
    "done:{ref}:e0",
    "done:{ref}:e99999999",
    "done:{ref}:e" + "9" * 40,
    "ask:paid:J-ZZZZ",
    "job:J-ZZZZ",
    "link:J-ZZZZ",
    "send:J-ZZZZ",
    "apply:",
    "what:ever",
    "ans:J-ZZZZ",
    "ans:job:J-ZZZZ",
])
def test_forged_button_data_gets_a_friendly_refusal(api, chat, data, caplog):
    [created] = chat.say(NEWJOB)
    ref = _ref(created["text"])
    update = api.make_callback_update(555, created["message_id"], data.format(ref=ref))
    before = len(chat.sent())
    chat.runner.process(update)
    answers = chat.sent()[before:]
    assert errors(caplog) == []
    assert answers and all("Sorry, something went wrong" not in m["text"] for m in answers)


def test_an_unknown_job_in_a_guided_answer_is_refused_like_a_typed_one(chat, caplog):
    chat.say(NEWJOB)
    chat.say("/newjob Sam Lee, (415) 555-0177, Deck, $2,000")  # two jobs: the first question asks which
    [question] = chat.say("/paid")
    assert "job" in question["text"].lower()
    refusal, again = chat.say("J-ZZZZ")
    assert "There is no job 'J-ZZZZ' among your jobs" in refusal["text"]
    assert again["text"] == question["text"]  # asked again; the contractor can type the right one
    assert errors(caplog) == []


@pytest.mark.parametrize("data", [
    "ans:event:99999999",
    "ans:event:{cancelled}",
    "ans:event:{elsewhere}",
    "ans:event:Measurement",
    "ans:job:{ref}",
    "ans:event:",
    "ans:",
    "ans:Measurement",
])
def test_a_forged_or_stale_tap_on_a_guided_question_is_refused_and_the_question_asked_again(chat, data, caplog):
    from storage.models import Event

    ref = _ref(chat.say(NEWJOB)[0]["text"])
    for line in (f"/event {ref} Measurement, Dec 3 9am", f"/event {ref} Removal, Dec 10 8am",
                 f"/cancelevent {ref} Removal"):
        chat.say(line)
    elsewhere = _ref(chat.say("/newjob Sam Lee, (415) 555-0177, Deck, $2,000")[0]["text"])
    chat.say(f"/event {elsewhere} Pour, Dec 5 9am")
    [which] = chat.say("/done")
    [asked] = chat.press(f"ans:job:{ref}", which)
    assert "Which event is done?" in asked["text"]
    ids = {"ref": ref, "cancelled": Event.get(Event.name == "Removal").id,
           "elsewhere": Event.get(Event.name == "Pour").id}
    refusal, again = chat.press(data.format(**ids), asked)
    assert "not one of the choices" in refusal["text"] and again["text"] == asked["text"]
    assert errors(caplog) == []
    assert {e.name: e.state for e in Event.select()} == {"Measurement": "scheduled", "Removal": "cancelled",
                                                         "Pour": "scheduled"}
    assert "Measurement is done" in chat.say("measurement")[0]["text"]


def _ref(text: str) -> str:
    return re.search(r"J-[A-Z0-9]{4,6}", text).group()
