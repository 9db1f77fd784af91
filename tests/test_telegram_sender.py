"""TelegramSender against a local Bot API over real HTTP: what it sends, and how each refusal is classified."""

import logging

import pytest

from bot.sender import TelegramSender
from core.delivery import DeliveryError, Outgoing
from paystage.logs import RedactingFormatter
from sandbox import LocalBotAPI
from sandbox.server import closed_port
from sandbox.telegram_api import CHAT_NOT_FOUND, DEACTIVATED

TOKEN = "7200111222:AAH-secret-token-do-not-log"
CHAT = 555


@pytest.fixture
def api():
    with LocalBotAPI(TOKEN) as api:
        yield api


def sender_for(api: LocalBotAPI, token: str = TOKEN, **options) -> TelegramSender:
    return TelegramSender(token, api_base_url=api.base_url, **{"timeout": 5, **options})


def message(body="Dana Whitfield (J-7K2Q): Can the installers come after 10am?", to=str(CHAT)):
    return Outgoing(id=1, channel="telegram", recipient=to, body=body, kind="relay")


def refusal(sender: TelegramSender, outgoing: Outgoing | None = None) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        sender.send(outgoing or message())
    return caught.value


def test_a_send_posts_the_chat_and_text_and_returns_the_message_id(api):
    message_id = sender_for(api).send(message())

    [sent] = api.sent
    assert message_id == str(sent["message_id"]) == "1"
    assert sent["chat_id"] == CHAT and sent["text"] == message().body
    [(method, params)] = api.calls
    assert method == "sendMessage" and params["chat_id"] == "555"
    assert params["link_preview_options"] == {"is_disabled": True}
    assert "parse_mode" not in params  # a customer's "<" or "*" reaches the contractor as written


def test_each_send_returns_the_id_of_its_own_message(api):
    sender = sender_for(api)

    ids = [sender.send(message(body=f"text {n}")) for n in range(3)]

    assert ids == ["1", "2", "3"]
    assert [s["text"] for s in api.sent] == ["text 0", "text 1", "text 2"]


def test_a_text_longer_than_telegram_takes_is_shortened_with_a_note_into_one_message(api):
    long = "Line of the job timeline.\n" * 400  # 10,400 characters

    message_id = sender_for(api).send(message(body=long))

    [sent] = api.sent
    assert message_id == str(sent["message_id"])
    assert len(sent["text"]) <= 4096 and sent["text"].endswith(TelegramSender.SHORTENED)
    assert sent["text"].startswith("Line of the job timeline.\nLine")


def test_shortening_counts_emoji_as_telegram_does_and_never_cuts_one_in_half(api):
    long = "\N{HAMMER}\N{WRENCH}" + "\N{HOUSE BUILDING}" * 3000  # each house is two UTF-16 code units

    sender_for(api).send(message(body=long))

    text = api.sent[0]["text"]
    assert len(text.encode("utf-16-le")) // 2 <= 4096
    assert text.endswith(TelegramSender.SHORTENED) and "\ufffd" not in text


def test_a_text_that_fits_is_sent_unchanged():
    exact = "x" * 4096
    assert TelegramSender("1:t").fit(exact) == exact


def test_a_rate_limit_waits_as_long_as_retry_after_says(api):
    api.fail_next("sendMessage", status=429, retry_after=17)
    sender = sender_for(api)

    error = refusal(sender)
    assert not error.permanent and error.retry_after == 17
    assert "429" in str(error)

    assert sender.send(message()) == "1"  # and the retry goes through


@pytest.mark.parametrize("status, description", [
    (403, "Forbidden: bot was blocked by the user"),
    (403, DEACTIVATED),
    (400, CHAT_NOT_FOUND),
])
def test_a_chat_that_cannot_take_messages_is_a_permanent_failure(api, status, description):
    api.refuse(CHAT, status, description)

    error = refusal(sender_for(api))

    assert error.permanent and not error.opted_out and error.retry_after is None
    assert str(status) in str(error) and description in str(error)
    assert api.sent == []


def test_a_contractor_who_blocked_the_bot_is_never_retried(api):
    api.block(CHAT)

    error = refusal(sender_for(api))

    assert error.permanent and "bot was blocked by the user" in str(error)


def test_a_wrong_token_is_retried_later_and_never_shows_the_token(api):
    wrong = "7200111222:AAH-wrong-token-also-secret"

    error = refusal(sender_for(api, token=wrong))

    assert not error.permanent
    assert "401" in str(error) and "TELEGRAM_BOT_TOKEN" in str(error)
    assert wrong not in str(error) and TOKEN not in str(error)
    assert api.sent == []


def test_a_telegram_server_error_is_transient(api):
    api.fail_next("sendMessage", status=502)
    sender = sender_for(api)

    error = refusal(sender)
    assert not error.permanent and error.retry_after is None and "502" in str(error)

    assert sender.send(message()) == "1"


def test_an_unreachable_api_is_transient_and_never_shows_the_token():
    sender = TelegramSender(TOKEN, api_base_url=f"http://127.0.0.1:{closed_port()}", timeout=2)

    error = refusal(sender)

    assert not error.permanent and "could not reach Telegram" in str(error)
    assert TOKEN not in str(error)


def test_a_slow_api_is_a_transient_timeout(api):
    api.latency = 2

    error = refusal(sender_for(api, timeout=0.3))

    assert not error.permanent and "did not answer within 0.3 s" in str(error)


def test_the_bot_token_never_reaches_a_log_line(api, caplog):
    """httpx logs each request's URL, which carries the token: the process's log formatter takes it out."""
    caplog.set_level(logging.DEBUG)
    caplog.handler.setFormatter(RedactingFormatter([TOKEN]))
    sender = sender_for(api)
    api.block(CHAT)

    with pytest.raises(DeliveryError):
        sender.send(message())
    api.unblock(CHAT)
    sender.send(message())

    assert any("sendMessage" in record.getMessage() for record in caplog.records)  # httpx did log the requests
    assert TOKEN not in caplog.text and "[redacted]" in caplog.text
