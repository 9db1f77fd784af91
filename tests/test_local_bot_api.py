"""The local Bot API answers like the real one: checked with the real python-telegram-bot 22 and a plain HTTP client."""

import asyncio
import threading
import time

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from sandbox import LocalBotAPI
from sandbox.telegram_api import BLOCKED

TOKEN = "7200111222:AAH-test-token"
DANA = 555  # a contractor's private chat: chat id == user id
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Mark Measurement done", callback_data="done:J-7K2Q:1")],
                                 [InlineKeyboardButton("Payment page", url="https://pay.example/p/abc")]])


@pytest.fixture
def api():
    with LocalBotAPI(TOKEN) as api:
        yield api


def application(api, token=TOKEN):
    return ApplicationBuilder().token(token).base_url(api.base_url + "/bot").build()


def run(api, scenario, token=TOKEN):
    """Run `scenario(app)` against an initialized Application, shut down afterwards."""
    async def main():
        app = application(api, token)
        await app.initialize()
        try:
            return await scenario(app)
        finally:
            await app.shutdown()
    return asyncio.run(main())


def call(api, method, *, token=TOKEN, **kwargs):
    """(status, JSON body) of one plain HTTP call."""
    response = httpx.post(f"{api.base_url}/bot{token}/{method}", timeout=5, **kwargs)
    return response.status_code, response.json()


def test_initialize_asks_get_me_and_learns_the_bots_username(api):
    async def scenario(app):
        return app.bot.username, app.bot.id

    assert run(api, scenario) == ("paystage_test_bot", 7200111222)
    assert api.calls[0] == ("getMe", {})


def test_a_wrong_token_is_refused_with_401_and_ptb_raises_invalid_token(api):
    with pytest.raises(InvalidToken):
        run(api, lambda app: None, token="7200111222:wrong")

    assert api.requests[0]["status"] == 401 and api.calls == []


def test_a_sent_message_with_an_inline_keyboard_round_trips(api):
    async def scenario(app):
        return await app.bot.send_message(DANA, "J-7K2Q: what next?", reply_markup=KEYBOARD)

    message = run(api, scenario)

    assert message.message_id == 1 and message.chat.id == DANA and message.text == "J-7K2Q: what next?"
    assert message.reply_markup == KEYBOARD and message.from_user.username == "paystage_test_bot"
    [sent] = api.sent
    assert sent["chat_id"] == DANA and sent["reply_markup"] == KEYBOARD.to_dict()
    params = api.calls_to("sendMessage")[0]
    assert params["chat_id"] == "555"  # form-encoded, as PTB sends it
    assert params["reply_markup"] == KEYBOARD.to_dict()  # a JSON string on the wire, a dict in the record


def test_message_ids_count_up_per_chat(api):
    async def scenario(app):
        return [(await app.bot.send_message(chat, "hi")).message_id for chat in (DANA, DANA, 777, DANA)]

    assert run(api, scenario) == [1, 2, 1, 3]


def test_a_command_update_reaches_a_command_handler_with_its_arguments(api):
    seen = []

    async def job(update, context):
        seen.append((update.effective_user.id, context.args))
        await update.message.reply_text("J-7K2Q Kitchen countertops")

    async def scenario(app):
        app.add_handler(CommandHandler("job", job))
        await app.process_update(Update.de_json(api.make_message_update(DANA, "/job J-7K2Q"), app.bot))

    run(api, scenario)

    assert seen == [(DANA, ["J-7K2Q"])]
    [reply] = api.sent
    assert reply["chat_id"] == DANA and reply["message_id"] == 2  # the command was message 1 in Dana's chat


def test_a_reply_to_the_bots_message_carries_that_message(api):
    async def scenario(app):
        relay = await app.bot.send_message(DANA, "Dana Whitfield (J-7K2Q): Can they come after 10am?")
        update = Update.de_json(api.make_message_update(DANA, "Yes, 10:30", reply_to=relay.message_id), app.bot)
        return relay, update

    relay, update = run(api, scenario)

    assert update.message.reply_to_message.message_id == relay.message_id
    assert update.message.reply_to_message.text == relay.text
    assert update.message.reply_to_message.from_user.is_bot


def test_a_button_tap_is_answered_and_the_message_edited(api):
    async def tapped(update, context):
        await update.callback_query.answer("Recorded")
        await update.callback_query.edit_message_text(f"Done: {update.callback_query.data}")

    async def scenario(app):
        app.add_handler(CallbackQueryHandler(tapped))
        card = await app.bot.send_message(DANA, "J-7K2Q", reply_markup=KEYBOARD)
        await app.process_update(Update.de_json(api.make_callback_update(DANA, card.message_id, "done:J-7K2Q:1"),
                                                app.bot))
        return card

    card = run(api, scenario)

    assert api.calls_to("answerCallbackQuery")[0]["text"] == "Recorded"
    assert [s["method"] for s in api.sent] == ["sendMessage", "editMessageText"]
    edited = api.message(DANA, card.message_id)
    assert edited["text"] == "Done: done:J-7K2Q:1" and "reply_markup" not in edited and edited["edit_date"]


def test_polling_gets_pushed_updates_in_order_and_confirms_them(api):
    api.push_message(DANA, "/start")

    async def echo(update, context):
        await update.message.reply_text(f"echo {update.message.text}")

    async def scenario(app):
        app.add_handler(MessageHandler(filters.TEXT, echo))
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=5)
        await asyncio.to_thread(api.wait_for_sent, 1)
        api.push_message(DANA, "second")  # arrives during a long poll
        sent = await asyncio.to_thread(api.wait_for_sent, 2)
        await app.updater.stop()
        await app.stop()
        return sent

    sent = run(api, scenario)

    assert [s["text"] for s in sent] == ["echo /start", "echo second"]
    assert api.webhook["url"] == "" and api.calls_to("deleteWebhook")  # polling starts by dropping any webhook
    assert call(api, "getWebhookInfo")[1]["result"]["pending_update_count"] == 0


@pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")  # PTB's own, raised as it builds RetryAfter
def test_a_scripted_429_raises_retry_after(api):
    api.fail_next("sendMessage", status=429, retry_after=3)

    async def scenario(app):
        with pytest.raises(RetryAfter) as caught:
            await app.bot.send_message(DANA, "hi")
        return str(caught.value), (await app.bot.send_message(DANA, "hi again")).message_id

    error, message_id = run(api, scenario)

    assert "Retry in 3 seconds" in error
    assert message_id == 1  # the refused send took no message id


def test_a_chat_that_blocked_the_bot_raises_forbidden(api):
    api.block(DANA)

    async def scenario(app):
        with pytest.raises(Forbidden) as caught:
            await app.bot.send_message(DANA, "hi")
        return str(caught.value)

    assert run(api, scenario) == BLOCKED
    assert api.sent == []


def test_editing_a_message_to_what_it_already_says_is_a_bad_request(api):
    async def scenario(app):
        card = await app.bot.send_message(DANA, "J-7K2Q", reply_markup=KEYBOARD)
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await card.edit_text("J-7K2Q", reply_markup=KEYBOARD)

    run(api, scenario)


def test_callback_data_over_64_bytes_is_refused_as_telegram_does(api):
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("Apply", callback_data="x" * 65)]])

    async def scenario(app):
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await app.bot.send_message(DANA, "J-7K2Q", reply_markup=too_long)

    run(api, scenario)


def test_get_updates_is_a_conflict_while_a_webhook_is_set(api):
    async def scenario(app):
        await app.bot.set_webhook("https://pay.example/telegram/webhook", secret_token="s3cret")
        with pytest.raises(Conflict):
            await app.bot.get_updates()
        info = await app.bot.get_webhook_info()
        await app.bot.delete_webhook()
        return info.url

    assert run(api, scenario) == "https://pay.example/telegram/webhook"
    assert api.calls_to("setWebhook")[0]["secret_token"] == "s3cret" and api.webhook["url"] == ""


def test_get_updates_confirms_everything_before_the_offset(api):
    first, second = api.push_message(DANA, "one"), api.push_message(DANA, "two")

    status, body = call(api, "getUpdates", data={"offset": str(second["update_id"])})

    assert status == 200 and [u["update_id"] for u in body["result"]] == [second["update_id"]]
    assert first["update_id"] < second["update_id"]
    assert call(api, "getUpdates", data={"offset": str(second["update_id"] + 1)})[1]["result"] == []


def test_get_updates_long_polls_until_an_update_comes_and_never_past_the_cap(api):
    threading.Timer(0.2, api.push_message, (DANA, "late")).start()
    started = time.monotonic()
    _, body = call(api, "getUpdates", data={"timeout": "30"})
    assert [u["message"]["text"] for u in body["result"]] == ["late"]
    assert time.monotonic() - started < 1

    started = time.monotonic()
    _, body = call(api, "getUpdates", data={"timeout": "30", "offset": str(body["result"][0]["update_id"] + 1)})
    assert body["result"] == [] and 0.9 < time.monotonic() - started < 2  # capped at long_poll_cap = 1 s


def test_json_bodies_are_accepted_like_form_bodies(api):
    status, body = call(api, "sendMessage", json={"chat_id": DANA, "text": "hi", "reply_markup": KEYBOARD.to_dict()})

    assert status == 200 and body["result"]["reply_markup"] == KEYBOARD.to_dict()
    assert api.sent[0]["chat_id"] == DANA


def test_a_command_message_has_a_bot_command_entity_as_long_as_the_command(api):
    update = api.make_message_update(DANA, "/newjob Dana Whitfield, (415) 555-0134, Kitchen, $4,000")

    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 7}]
    assert update["message"]["chat"] == {"id": DANA, "type": "private", "first_name": "Dana"}
    assert "entities" not in api.make_message_update(DANA, "just text")["message"]


@pytest.mark.parametrize("token, method, status, description", [
    (TOKEN, "sendPigeon", 404, "Not Found"),
    ("7200111222:wrong", "getMe", 401, "Unauthorized"),
])
def test_errors_carry_their_real_http_status(api, token, method, status, description):
    assert call(api, method, token=token) == (status, {"ok": False, "error_code": status, "description": description})


def test_a_429_carries_retry_after_in_its_parameters(api):
    api.fail_next("sendMessage", status=429, retry_after=5)

    status, body = call(api, "sendMessage", data={"chat_id": "555", "text": "hi"})

    assert status == 429 and body["parameters"] == {"retry_after": 5} and body["ok"] is False
    assert api.calls == [("sendMessage", {"chat_id": "555", "text": "hi"})]  # a refused call is still recorded


def test_closing_ends_a_long_poll_at_once():
    api = LocalBotAPI(TOKEN, long_poll_cap=30).start()
    answers = []
    poller = threading.Thread(target=lambda: answers.append(call(api, "getUpdates", data={"timeout": "30"})))
    poller.start()
    deadline = time.monotonic() + 5
    while not api.calls_to("getUpdates") and time.monotonic() < deadline:  # the poll is waiting in the server
        time.sleep(0.01)
    started = time.monotonic()

    api.close()
    poller.join(timeout=5)

    assert time.monotonic() - started < 2 and answers and answers[0][1]["result"] == []


# --- files: sendDocument as PTB uploads it (multipart/form-data) --------------------------------------------------

CSV = "\ufefftime,what\r\n2026-12-01T13:30:00Z,\"Job created: Kitchen, \"\"quartz\"\"\r\nsecond line\"\r\n".encode()


def test_a_document_ptb_uploads_is_kept_as_sent_with_its_caption_and_keyboard(api):
    async def scenario(app):
        return await app.bot.send_document(DANA, CSV, filename="J-7K2Q.csv", caption="J-7K2Q Dana: señal ✓",
                                           reply_markup=KEYBOARD)

    message = run(api, scenario)
    assert message.document.file_name == "J-7K2Q.csv" and message.document.file_size == len(CSV)
    assert message.caption == "J-7K2Q Dana: señal ✓" and message.text is None
    assert message.reply_markup.inline_keyboard[0][0].callback_data == "done:J-7K2Q:1"
    [document] = api.documents
    assert document == {"chat_id": DANA, "message_id": message.message_id, "file_id": message.document.file_id,
                        "filename": "J-7K2Q.csv", "mime_type": document["mime_type"], "content": CSV,
                        "caption": "J-7K2Q Dana: señal ✓"}
    assert api.document(DANA, message.message_id) == document
    [sent] = api.sent
    assert (sent["method"], sent["text"], sent["document"]["file_name"]) == ("sendDocument", "J-7K2Q Dana: señal ✓",
                                                                            "J-7K2Q.csv")
    assert api.chat(DANA)[0]["document"]["file_id"] == message.document.file_id


def test_binary_bytes_and_an_attach_reference_arrive_unchanged(api):
    content = bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
    files = {"report": ("report.bin", content, "application/octet-stream")}
    status, body = call(api, "sendDocument", data={"chat_id": str(DANA), "document": "attach://report"}, files=files)
    assert status == 200 and body["result"]["document"]["file_name"] == "report.bin"
    assert api.documents[0]["content"] == content and api.documents[0]["caption"] == ""


@pytest.mark.parametrize("data, files, description", [
    ({"chat_id": str(DANA), "document": "BQACfile-id-from-elsewhere"}, {"x": ("x.txt", b"x", "text/plain")},
     "wrong remote file identifier"),
    ({"chat_id": str(DANA)}, {"document": ("empty.csv", b"", "text/csv")}, "file must be non-empty"),
    ({"chat_id": str(DANA), "caption": "x" * 1025}, {"document": ("a.csv", b"a", "text/csv")},
     "caption is too long"),
    ({}, {"document": ("a.csv", b"a", "text/csv")}, "chat_id is empty"),
])
def test_a_document_telegram_would_refuse_is_refused(api, data, files, description):
    status, body = call(api, "sendDocument", data=data, files=files)
    assert status == 400 and description in body["description"]
    assert api.documents == [] and api.sent == []


def test_a_malformed_multipart_body_is_a_bad_request(api):
    status, body = call(api, "sendDocument", content=b"--x\r\nno headers, no end",
                        headers={"Content-Type": "multipart/form-data"})
    assert status == 400 and "boundary" in body["description"]


def test_a_body_over_the_bounds_is_refused_before_it_is_read(api, monkeypatch):
    from telegram.error import NetworkError

    from sandbox import telegram_api

    monkeypatch.setattr(telegram_api, "MAX_UPLOAD", 1000)
    monkeypatch.setattr(telegram_api, "MAX_FORM", 1000)

    async def scenario(app):
        with pytest.raises(NetworkError, match="(?i)too large"):
            await app.bot.send_document(DANA, b"x" * 3000, filename="big.csv")
        with pytest.raises(NetworkError, match="(?i)too large"):
            await app.bot.send_message(DANA, "y" * 2000)

    run(api, scenario)
    assert api.documents == [] and api.sent == []
    assert [name for name, _params in api.calls] == ["getMe"]  # refused unread: no method was called


def test_a_documents_caption_is_not_text_to_edit(api):
    async def scenario(app):
        sent = await app.bot.send_document(DANA, b"a,b\r\n", filename="a.csv", caption="first",
                                           reply_markup=KEYBOARD)
        with pytest.raises(BadRequest, match="(?i)no text in the message"):
            await app.bot.edit_message_text("second", chat_id=DANA, message_id=sent.message_id)
        edited = await app.bot.edit_message_reply_markup(DANA, sent.message_id, reply_markup=None)
        return edited

    edited = run(api, scenario)
    assert edited.document.file_name == "a.csv" and edited.reply_markup is None
