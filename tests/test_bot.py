"""The contractor's Telegram bot, through the real Application and a fake Bot API over real HTTP."""

import re

import pytest

from tests.bot_harness import Chat, buttons, invited, start_bot

NEWJOB = "/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000"


def ref_in(text: str) -> str:
    return re.search(r"J-[A-Z0-9]{4,6}", text).group()


def test_start_registers_the_contractor_and_help_lists_the_commands(chat):
    assert "Welcome, Granite & Co" in chat.sent()[0]["text"]
    [help_text] = chat.say("/help")
    assert "/newjob" in help_text["text"] and "/paid" in help_text["text"] and "/cancel" in help_text["text"]
    assert "/invite - invite someone to use this Paystage (its owner only)" in help_text["text"]


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


def test_an_event_on_a_day_shows_the_day_without_a_time(chat):
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    [added] = chat.say(f"/event {ref} Installation, Dec 17")
    assert "  Installation: Thu, Dec 17\n" in added["text"]  # not "Thu, Dec 17, 12:00 AM"
    chat.say(f"/plan {ref} 25% before installation, 75% after installation")
    [sent] = chat.tap("Send to customer")
    assert "before Installation (Thu, Dec 17) - upcoming, due Wed, Dec 16" in sent["text"]
    [moved] = chat.say(f"/move {ref} installation, tomorrow")
    assert "  Installation: Wed, Dec 2\n" in moved["text"]


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
    rival = invited(chat, chat_id=777, first_name="Rival Stone")
    for line in [f"/job {ref}", f"/paid {ref} 100 cash", f"/price {ref} 1", f"/link {ref}"]:
        assert "There is no job" in rival.say(line)[0]["text"]
    assert ref not in rival.say("/jobs")[0]["text"]


def test_someone_not_registered_is_asked_to_start(api, bot):
    stranger = Chat(api, bot, chat_id=888)
    assert "/start" in stranger.say("/jobs")[0]["text"]


def test_the_first_to_start_is_told_they_own_this_paystage_and_how_to_invite(chat):
    welcome = chat.sent()[0]["text"]
    assert "You own this Paystage: only you and the people you invite can use it." in welcome
    assert "/invite" in welcome


def test_a_stranger_is_told_this_paystage_is_private_how_to_get_in_and_their_telegram_id(api, bot, chat):
    from storage.models import Contractor

    stranger = Chat(api, bot, chat_id=999_888, first_name="Mallory Scam Ltd")
    [refused] = stranger.say("/start")
    assert "this Paystage is private" in refused["text"] and "ask the owner for an invite" in refused["text"]
    assert "999888" in refused["text"] and "PAYSTAGE_ALLOWED_TELEGRAM_IDS" in refused["text"]
    assert "Nothing was changed" in refused["text"]
    assert Contractor.select().count() == 1
    assert "/start" in stranger.say(NEWJOB)[0]["text"]  # still not a contractor: no job, no text to anyone


def test_the_owners_invite_link_lets_one_person_in_once(api, bot, chat):
    [invite] = chat.say("/invite")
    link = re.search(r"https://t\.me/paystage_test_bot\?start=([\w-]+)", invite["text"])
    assert link and "valid until" in invite["text"] and f"/start {link.group(1)}" in invite["text"]
    guest = Chat(api, bot, chat_id=777, first_name="Tile Masters")
    assert "Welcome, Tile Masters!" in guest.say(f"/start {link.group(1)}")[0]["text"]
    assert "created" in guest.say("/newjob Ann Lee, (415) 555-0177, Bathroom vanity, $900")[0]["text"]
    latecomer = Chat(api, bot, chat_id=888, first_name="Roof Pros")
    [refused] = latecomer.say(f"/start {link.group(1)}")
    assert "already used" in refused["text"] and "Nothing was changed" in refused["text"]
    assert "Welcome" not in latecomer.say("/start")[0]["text"]


def test_only_the_owner_can_invite_and_the_others_are_told_why(chat):
    guest = invited(chat, chat_id=777, first_name="Tile Masters")
    [refused] = guest.say("/invite")
    assert "Only the owner of this Paystage, Granite & Co, can invite people" in refused["text"]
    assert "https://t.me/" not in refused["text"]


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


def test_a_restart_in_the_middle_of_a_question_continues_where_it_was(api, ctx):
    from bot.app import PERSISTED
    from bot.persistence import DatabasePersistence
    from storage.models import Job

    first = start_bot(api, ctx, persistence=DatabasePersistence(PERSISTED))
    chat = Chat(api, first, chat_id=555)
    chat.say("/start")
    chat.say("/newjob")
    chat.say("Dana Whitfield")
    first.stop()  # the process goes down while the bot waits for the phone number

    second = start_bot(api, ctx, persistence=DatabasePersistence(PERSISTED))
    try:
        chat = Chat(api, second, chat_id=555)
        assert "What is the job" in chat.say("(415) 555-0134")[0]["text"]
        chat.say("Kitchen countertops")
        assert "created" in chat.say("$4,000")[0]["text"]
        assert Job.get().customer.name == "Dana Whitfield"
    finally:
        second.stop()


def test_a_customers_text_reaches_the_contractor_and_the_reply_goes_back_by_sms(api, chat, ctx, clock, outbox):
    from bot.sender import TelegramSender
    from core.delivery import LoggingSender
    from core.dispatcher import DeliveryPolicy, Dispatcher
    from core.inbound import answer_text
    from tests.bot_harness import TOKEN

    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    answer_text(ctx, "+14155550134", "Can you come Friday instead?", "SM" + "7" * 32)
    dispatcher = Dispatcher(clock, {"telegram": TelegramSender(TOKEN, api_base_url=api.base_url),
                                    "sms": LoggingSender("sms")},
                            DeliveryPolicy(sms_interval=None, telegram_chat_interval=None, telegram_interval=None))
    dispatcher.drain()
    relayed = next(m for m in chat.sent() if "Can you come Friday" in m["text"])
    assert "Dana Whitfield" in relayed["text"] and ref in relayed["text"]
    [confirmation] = chat.say("Yes, Friday 9am works.", reply_to=relayed["message_id"])
    assert "Sent to Dana Whitfield by SMS" in confirmation["text"]
    [(channel, kind, body)] = outbox("relay_reply")
    assert (channel, body) == ("sms", "Yes, Friday 9am works.")
    from storage.models import OutboxMessage

    assert OutboxMessage.get(OutboxMessage.kind == "relay_reply").reply  # quiet hours do not hold an answer
    chat.say("Yes, Friday 9am works.", reply_to=relayed["message_id"])
    assert len(outbox("relay_reply")) == 2  # a second reply is a second message; the same update would not be


def test_a_reply_to_something_else_is_not_sent_to_anyone(chat, outbox):
    [created] = chat.say(NEWJOB)
    chat.say("hello there", reply_to=created["message_id"])
    assert outbox("relay_reply") == []


def test_webhook_mode_takes_updates_only_with_the_right_secret(api, ctx):
    from flask import Flask

    from bot.app import build_application
    from bot.commands import Services
    from bot.runner import BotRunner
    from bot.webhook import webhook_blueprint
    from tests.bot_harness import TOKEN

    runner = BotRunner(build_application(TOKEN, Services(ctx), api_base_url=api.base_url, polling=False),
                       webhook_url="https://pay.example/telegram/webhook", webhook_secret="s3cret-token")
    runner.start()
    try:
        assert api.webhook["url"] == "https://pay.example/telegram/webhook"
        web = Flask(__name__)
        web.register_blueprint(webhook_blueprint("s3cret-token", runner))
        client = web.test_client()
        update = api.make_message_update(555, "/start", first_name="Granite & Co")
        assert client.post("/telegram/webhook", json=update).status_code == 403
        assert client.post("/telegram/webhook", json=update,
                           headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}).status_code == 403
        assert api.sent == []
        ok = client.post("/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
        assert ok.status_code == 200
        assert "Welcome" in api.wait_for_sent(1, timeout=10)[0]["text"]
    finally:
        runner.stop()


def test_cancelling_an_event_asks_where_its_payments_go(chat, outbox):
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    for line in (f"/event {ref} Removal, Dec 10 8am", f"/event {ref} Installation, Dec 17 9am"):
        chat.say(line)
    chat.say(f"/plan {ref} 50% after removal, 50% after installation")
    chat.tap("Send to customer")
    [refused] = chat.say(f"/cancelevent {ref} Removal")
    assert "tied to Removal" in refused["text"] and "Nothing was changed" in refused["text"]
    chat.say("/cancelevent")
    [where] = chat.tap("Removal")
    assert {"Due now", "Move to Installation"} <= set(buttons(where))
    [moved] = chat.tap("Move to Installation")
    assert "Removal is cancelled" in moved["text"] and outbox("payment_due") == []
    assert "2. $2,000.00 after Installation" in moved["text"]


def test_names_show_as_typed_in_the_bot_and_are_transliterated_only_in_the_sms(chat, outbox):
    [created] = chat.say("/newjob Đặng Zoë, (415) 555-0134, “Zoë’s” kitchen 🏠, $4,000")
    ref = ref_in(created["text"])
    chat.say(f"/event {ref} Монтаж, Dec 17")
    chat.say(f"/plan {ref} 25% before монтаж, 75% after монтаж")
    [sent] = chat.tap("Send to customer")
    assert "after Монтаж" in sent["text"] and "?" not in sent["text"]
    [card] = chat.say(f"/job {ref}")
    assert "Монтаж: Thu, Dec 17" in card["text"] and "after Монтаж" in card["text"]
    assert "Đặng Zoë" in card["text"] and "“Zoë’s” kitchen 🏠" in card["text"] and "?" not in card["text"]
    [(_, _, sms)] = outbox("plan")
    assert "Hi Dang, " in sms and "\"Zoe's\" kitchen (" in sms and "after Montazh" in sms and "?" not in sms
