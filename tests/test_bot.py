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
    [asked] = chat.say(f"/done {ref} removal")  # Measurement is still to do: asked once
    assert "Measurement is scheduled before Removal" in asked["text"]
    [done] = chat.tap("Mark Removal done anyway")
    assert "Removal is done" in done["text"] and "texted" in done["text"]
    [paid] = chat.say(f"/paid {ref} 1000 check")
    assert "Recorded $1,000.00 (check)" in paid["text"]
    [price] = chat.say(f"/price {ref} 4850")
    assert "$4,000.00 -> $4,850.00" in price["text"] and "for approval" in price["text"]
    [sent] = chat.tap("Send for approval")
    assert "Change order 1: $4,000.00 -> $4,850.00" in sent["text"] and "Dana Whitfield was texted" in sent["text"]
    assert len(outbox("change_order")) == 1 and "/apply" in sent["text"]
    assert "Change order 1 ($4,000.00 -> $4,850.00) waits for Dana Whitfield's answer" in chat.say(
        f"/job {ref}")[0]["text"]
    [again] = chat.say(f"/price {ref} 4900")  # a second change while the first waits: replace it, or wait
    assert {"Replace change order 1", "Send once 1 is answered"} <= set(buttons(again))
    [why] = chat.tap("Apply without approval")
    assert "Why does it apply without the customer's approval" in why["text"]
    [applied] = chat.say("signed on paper at the site")
    assert "Price of" in applied["text"] and "$4,900.00" in applied["text"]
    assert "because: signed on paper at the site" in outbox("plan_changed")[0][2]


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
    [done] = chat.tap("Measurement")
    assert "Measurement is done" in done["text"]


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


# -- guided questions: each answer checked as it is given --------------------------------------------------------


def test_a_wrong_price_is_asked_again_and_the_earlier_answers_are_kept(chat):
    from storage.models import Job

    chat.say("/newjob")
    chat.say("Dana Whitfield")
    chat.say("(415) 555-0134")
    [price] = chat.say("Kitchen countertops")
    wrong, again = chat.say("18.5k")
    assert "'18.5k' is not an amount of money" in wrong["text"]
    assert again["text"] == price["text"]
    assert Job.select().count() == 0
    [created] = chat.say("$18,500")
    assert "created: Kitchen countertops for Dana Whitfield" in created["text"] and "$18,500.00" in created["text"]
    job = Job.get()
    assert (job.customer.name, job.customer.phone, job.title) == ("Dana Whitfield", "+14155550134",
                                                                 "Kitchen countertops")


def test_a_phone_number_that_cannot_be_texted_is_asked_for_again(chat):
    from storage.models import Job

    chat.say("/newjob")
    [phone] = chat.say("Dana Whitfield")
    wrong, again = chat.say("555-01")
    assert "'555-01' is not a phone number I can text" in wrong["text"] and again["text"] == phone["text"]
    assert "What is the job" in chat.say("(415) 555-0134")[0]["text"]
    chat.say("Kitchen countertops")
    assert "created" in chat.say("$4,000")[0]["text"]
    assert Job.get().customer.name == "Dana Whitfield"


def test_a_time_that_cannot_be_read_is_asked_for_again(chat):
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    chat.say("/event")  # the only job is taken as meant
    [when] = chat.say("Measurement")
    wrong, again = chat.say("someday soonish")
    assert "could not read 'someday soonish'" in wrong["text"] and again["text"] == when["text"]
    past, again = chat.say("Nov 20 2026 9am")
    assert "is in the past" in past["text"] and again["text"] == when["text"]
    [added] = chat.say("Dec 3 9am")
    assert f"Added Measurement to {ref}" in added["text"]
    chat.say("/move")
    chat.tap("Measurement")
    wrong, again = chat.say("whenever")
    assert "could not read 'whenever'" in wrong["text"] and "To when?" in again["text"]
    assert "Measurement moved" in chat.say("Dec 4 9am")[0]["text"]


def test_an_event_the_job_does_not_have_is_asked_for_again_with_its_buttons(chat):
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    chat.say(f"/event {ref} Measurement, Dec 3 9am")
    chat.say(f"/event {ref} Installation, Dec 17 9am")
    [question] = chat.say("/done")
    wrong, again = chat.say("pour")
    assert "There is no event 'pour' on this job" in wrong["text"]
    assert again["text"] == question["text"] and set(buttons(again)) == {"Measurement", "Installation"}
    assert "Measurement is done" in chat.say("measure")[0]["text"]


def test_a_wrong_amount_for_a_payment_keeps_the_job_it_was_for(chat):
    first = ref_in(chat.say(NEWJOB)[0]["text"])
    chat.say("/newjob Sam Lee, (415) 555-0177, Deck, $2,000")
    chat.say("/paid")
    [amount] = chat.tap(f"{first} Dana Whitfield")
    wrong, again = chat.say("lots")
    assert "'lots' is not an amount" in wrong["text"] and again["text"] == amount["text"]
    chat.say("1,000")
    [recorded] = chat.tap("cash")
    assert f"Recorded $1,000.00 (cash) on {first}" in recorded["text"]


def test_a_button_of_an_earlier_question_is_not_taken_as_this_ones_answer(chat):
    first = ref_in(chat.say(NEWJOB)[0]["text"])
    second = ref_in(chat.say("/newjob Sam Lee, (415) 555-0177, Deck, $2,000")[0]["text"])
    [which] = chat.say("/paid")
    [amount] = chat.tap(f"{first} Dana Whitfield", which)
    refused, again = chat.tap(f"{second} Sam Lee", which)  # the job question's button, while asked how much
    assert "not one of the choices" in refused["text"] and again["text"] == amount["text"]
    chat.say("250")
    assert f"Recorded $250.00 (check) on {first}" in chat.tap("check")[0]["text"]


def test_a_part_of_the_profile_it_does_not_have_is_asked_for_again(chat):
    [question] = chat.say("/profile")
    wrong, again = chat.say("colour")
    assert "Which part? name, phone" in wrong["text"] and again["text"] == question["text"]
    assert "The new value?" in chat.tap("Phone")[0]["text"]
    assert "Phone: +14155550100" in chat.say("(415) 555-0100")[0]["text"]


def test_a_rule_that_needs_every_answer_still_refuses_at_the_end(chat):
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    chat.say(f"/price {ref}")
    chat.say("/price")
    [refused] = chat.say("$4,000")
    assert "already $4,000.00" in refused["text"] and "Nothing was changed" in refused["text"]
    assert "Nothing to cancel" in chat.say("/cancel")[0]["text"]  # the conversation is over, as before


def test_after_a_restart_a_wrong_answer_is_asked_again_with_the_answers_before_the_restart(api, ctx):
    from bot.app import PERSISTED
    from bot.persistence import DatabasePersistence
    from storage.models import Job

    first = start_bot(api, ctx, persistence=DatabasePersistence(PERSISTED))
    chat = Chat(api, first, chat_id=555)
    chat.say("/start")
    chat.say("/newjob")
    chat.say("Dana Whitfield")
    wrong, _ = chat.say("not a phone")
    assert "not a phone number" in wrong["text"]
    chat.say("(415) 555-0134")
    chat.say("Kitchen countertops")
    first.stop()  # down while the bot waits for the price

    second = start_bot(api, ctx, persistence=DatabasePersistence(PERSISTED))
    try:
        chat = Chat(api, second, chat_id=555)
        wrong, again = chat.say("18.5k")
        assert "not an amount of money" in wrong["text"] and "The price?" in again["text"]
        assert "created" in chat.say("$18,500")[0]["text"]
        job = Job.get()
        assert (job.customer.name, job.customer.phone, job.title) == ("Dana Whitfield", "+14155550134",
                                                                     "Kitchen countertops")
    finally:
        second.stop()


# -- buttons carry ids ----------------------------------------------------------------------------------------


def test_a_cards_done_button_marks_its_event_whatever_was_added_or_cancelled_since(chat):
    from storage.models import Event

    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    for line in (f"/event {ref} Measurement, Dec 3 9am", f"/event {ref} Removal, Dec 10 8am",
                 f"/event {ref} Installation, Dec 17 9am"):
        chat.say(line)
    [card] = chat.say(f"/job {ref}")
    assert "Measurement is cancelled" in chat.say(f"/cancelevent {ref} Measurement")[0]["text"]
    chat.say(f"/event {ref} Sealing, Dec 20 9am")
    [done] = chat.tap("Removal done", card)
    assert "Removal is done" in done["text"]
    assert {e.name: e.state for e in Event.select()} == {
        "Measurement": "cancelled", "Removal": "done", "Installation": "scheduled", "Sealing": "scheduled"}
    [cancelled] = chat.tap("Measurement done", card)
    assert "Measurement is cancelled already" in cancelled["text"] and "Nothing was changed" in cancelled["text"]
    [again] = chat.tap("Removal done", card)
    assert "Removal is done already" in again["text"] and "Nothing was changed" in again["text"]
    [newer] = chat.say(f"/job {ref}")
    assert set(buttons(newer)) == {"Installation done", "Sealing done", "Record payment", "Payment link",
                                   "Texts in Spanish"}
    [asked] = chat.tap("Sealing done", newer)  # Installation comes first and is still to do: asked, as /done asks
    assert "Installation is scheduled before Sealing" in asked["text"]
    assert Event.get(Event.name == "Sealing").state == "scheduled"
    assert "Sealing is done" in chat.tap("Mark Sealing done anyway", asked)[0]["text"]
    assert Event.get(Event.name == "Installation").state == "scheduled"


def events_elsewhere(chat):
    """Another job of this contractor with its event Pour, and a rival contractor's job with its event Tear-off:
    (the rival's chat, the rival's job, Pour's id, Tear-off's id), for buttons forged to name them."""
    from storage.models import Event

    other = ref_in(chat.say("/newjob Sam Lee, (415) 555-0177, Deck, $2,000")[0]["text"])
    chat.say(f"/event {other} Pour, Dec 5 9am")
    rival = invited(chat, chat_id=777, first_name="Rival Stone")
    rivals = ref_in(rival.say("/newjob Ann Lee, (415) 555-0199, Roof, $9,000")[0]["text"])
    rival.say(f"/event {rivals} Tear-off, Dec 6 9am")
    return rival, rivals, Event.get(Event.name == "Pour").id, Event.get(Event.name == "Tear-off").id


def test_a_forged_event_id_on_a_done_button_is_refused_and_changes_nothing(chat):
    from storage.models import Event

    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    chat.say(f"/event {ref} Measurement, Dec 3 9am")
    _rival, rivals, pour, tear_off = events_elsewhere(chat)
    [card] = chat.say(f"/job {ref}")
    for data in (f"done:{ref}:e{pour}", f"done:{ref}:e{tear_off}", f"done:{ref}:e99999999"):
        [refused] = chat.press(data, card)
        assert "That event is no longer on the job" in refused["text"] and "Nothing was changed" in refused["text"]
    [refused] = chat.press(f"done:{rivals}:e{tear_off}", card)
    assert "There is no job" in refused["text"]
    [refused] = chat.press(f"done:{ref}:0", card)  # a card from before buttons carried ids: its place in a list
    assert "That button no longer works" in refused["text"]
    assert {e.state for e in Event.select()} == {"scheduled"}


def test_buttons_stay_within_64_bytes_however_long_the_names_and_pick_the_right_one(chat):
    from storage.models import LineItem

    long_event = "Final walkthrough with the customer once the quartz countertops are all in place"
    assert len(long_event) == 80  # the longest name an event keeps
    shared = "Undermount sink, stainless steel, 32 inch "  # the first 40 characters of two line items
    first_item, second_item = shared + "single bowl with grid and strainer", shared + "double bowl, low divide"
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    chat.say(f"/event {ref} Measurement, Dec 3 9am")
    chat.say(f"/event {ref} {long_event}, Dec 17 9am")
    for description, amount in ((first_item, "$350"), (second_item, "$420")):
        chat.say(f"/add {ref} {description}, {amount}")
        chat.tap("Apply")

    [question] = chat.say("/remove")
    assert set(buttons(question)) == {"Kitchen countertops $4,000.00", f"{shared[:40]} $350.00",
                                      f"{shared[:40]} $420.00"}
    [preview] = chat.tap(f"{shared[:40]} $420.00")
    assert f"Removed: {second_item} ($420.00)" in preview["text"]
    chat.tap("Apply", preview)
    assert [i.description for i in LineItem.select().order_by(LineItem.position)] == ["Kitchen countertops",
                                                                                      first_item]
    chat.say("/cancelevent")
    [where] = chat.tap("Measurement")
    assert set(buttons(where)) == {"Due now", f"Move to {long_event}"}
    assert "Measurement is cancelled" in chat.tap(f"Move to {long_event}")[0]["text"]
    [card] = chat.say(f"/job {ref}")
    assert f"{long_event} done" in buttons(card)
    chat.say("/done")
    assert f"{long_event} is done" in chat.tap(long_event)[0]["text"]
    data = [d for m in chat.sent() for d in buttons(m).values()]
    assert data and max(len(d.encode()) for d in data) <= 64
    assert not any(long_event in d or shared.strip() in d for d in data)  # ids, never names


# -- /export: the job's paper trail as a CSV file ----------------------------------------------------------------


def history_of(ctx, ref: str) -> list[dict]:
    """job_history's rows for the owner's job `ref`, as its CSV says them."""
    import csv
    import io

    from core.context import Actor
    from core.export import job_history, to_csv
    from storage.models import Contractor

    owner = Actor.contractor(Contractor.get(Contractor.telegram_id == 555).id)
    return list(csv.DictReader(io.StringIO(to_csv(job_history(ctx, owner, ref)).decode("utf-8-sig"), newline="")))


def test_export_sends_the_jobs_paper_trail_as_a_csv_file(api, chat, ctx, clock):
    import csv
    import io

    from core.export import COLUMNS

    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    chat.say(f"/event {ref} Removal, Dec 10 8am")
    chat.say(f"/plan {ref} 50% now, 50% after removal")
    chat.tap("Send to customer")
    clock.advance(hours=2)
    chat.say(f"/paid {ref} 2000 check")
    [sent] = chat.say(f"/export {ref.lower()}")
    assert sent["method"] == "sendDocument" and sent["document"]["file_name"] == f"{ref}.csv"
    assert f"{ref} Dana Whitfield: the job's paper trail" in sent["text"]  # the caption
    [document] = api.documents
    assert (document["chat_id"], document["filename"], document["caption"]) == (555, f"{ref}.csv", sent["text"])
    assert document["content"].startswith(b"\xef\xbb\xbf")  # UTF-8 with its byte order mark, as to_csv writes it
    reader = csv.DictReader(io.StringIO(document["content"].decode("utf-8-sig"), newline=""))
    rows = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS
    assert rows == history_of(ctx, ref)
    kinds = [row["kind"] for row in rows]
    assert {"job_created", "event_added", "plan_set", "plan_sent", "payment_recorded", "payment"} <= set(kinds)


def test_export_bare_asks_which_job_as_link_does(api, chat, ctx):
    first = ref_in(chat.say(NEWJOB)[0]["text"])
    chat.say("/newjob Sam Lee, (415) 555-0177, Deck, $2,000")
    [which] = chat.say("/export")
    assert "Which job?" in which["text"] and f"{first} Dana Whitfield" in buttons(which)
    [sent] = chat.tap(f"{first} Dana Whitfield")
    assert sent["document"]["file_name"] == f"{first}.csv"
    content = api.document(555, sent["message_id"])["content"]
    assert "Kitchen countertops" in content.decode("utf-8-sig") and "Deck" not in content.decode("utf-8-sig")
    assert "Nothing to cancel" in chat.say("/cancel")[0]["text"]  # the conversation is over


def test_another_contractors_job_is_not_exported(api, chat):
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    rival = invited(chat, chat_id=777, first_name="Rival Stone")
    [refused] = rival.say(f"/export {ref}")
    assert "There is no job" in refused["text"] and "Nothing was changed" in refused["text"]
    rival.say("/newjob Ann Lee, (415) 555-0199, Roof, $9,000")  # their own: the question would pick it alone
    [refused] = rival.say("/export J-ZZZZ")
    assert "There is no job" in refused["text"]
    assert api.documents == [] and not any(m["method"] == "sendDocument" for m in rival.sent())


# -- /start asks a new contractor their business's name --------------------------------------------------------


ASKED_NAME = "What is your business called? Customers see it on every text."


def owner_name() -> str:
    from storage.models import Contractor

    return Contractor.get(Contractor.telegram_id == 555).business_name


def test_a_new_contractor_is_asked_their_business_name_and_the_answer_is_kept(api, bot):
    from storage.models import AuditRecord

    chat = Chat(api, bot, chat_id=555)
    [welcome] = chat.say("/start")
    assert "Welcome, Granite & Co!" in welcome["text"] and welcome["text"].rstrip().endswith(
        f"{ASKED_NAME}\nOr /skip to keep Granite & Co.")
    [named] = chat.say("Whitfield Stone & Tile")
    assert "Customers see Whitfield Stone & Tile on every text." in named["text"] and "/newjob" in named["text"]
    assert owner_name() == "Whitfield Stone & Tile"
    assert AuditRecord.get(AuditRecord.kind == "profile_changed").new == '{"business_name": "Whitfield Stone & Tile"}'
    chat.say("Some other words")  # the question was answered: nothing takes them as a name now
    assert owner_name() == "Whitfield Stone & Tile"
    [again] = chat.say("/start")  # a returning contractor is not asked
    assert "Welcome, Whitfield Stone & Tile!" in again["text"] and ASKED_NAME not in again["text"]
    chat.say("Yet Another Name")
    assert owner_name() == "Whitfield Stone & Tile"
    assert chat.say("/profile name Whitfield Stone")[0]["text"].startswith("Whitfield Stone\nPhone:")  # as before
    assert owner_name() == "Whitfield Stone"


def test_skip_or_any_command_keeps_the_telegram_name(api, bot):
    chat = Chat(api, bot, chat_id=555)
    chat.say("/start")
    [kept] = chat.say("/skip")
    assert "Your business name stays Granite & Co." in kept["text"]
    assert "Nothing to skip." in chat.say("/skip")[0]["text"]
    chat.say("Whitfield Stone & Tile")
    assert owner_name() == "Granite & Co"

    guest = invited(chat, chat_id=777, first_name="Tile Masters")  # someone invited is asked too
    assert ASKED_NAME in guest.sent()[-1]["text"]
    assert "created" in guest.say("/newjob Ann Lee, (415) 555-0177, Bathroom vanity, $900")[0]["text"]
    guest.say("Ann's Vanity Co")  # the command left the question: this is not a name
    from storage.models import Contractor

    assert Contractor.get(Contractor.telegram_id == 777).business_name == "Tile Masters"


def test_skip_does_not_leave_a_question_that_must_be_answered(chat):
    chat.say("/newjob")
    [refused] = chat.say("/skip")
    assert "This question cannot be skipped" in refused["text"]
    assert "mobile number" in chat.say("Dana Whitfield")[0]["text"]  # still asking, the answer kept


def test_a_restart_while_the_name_is_asked_keeps_asking_it(api, ctx):
    from bot.app import PERSISTED
    from bot.persistence import DatabasePersistence

    first = start_bot(api, ctx, persistence=DatabasePersistence(PERSISTED))
    Chat(api, first, chat_id=555).say("/start")
    first.stop()
    second = start_bot(api, ctx, persistence=DatabasePersistence(PERSISTED))
    try:
        assert "Customers see Whitfield Stone & Tile" in Chat(api, second, chat_id=555).say(
            "Whitfield Stone & Tile")[0]["text"]
        assert owner_name() == "Whitfield Stone & Tile"
    finally:
        second.stop()


# -- events done out of order: asked once ----------------------------------------------------------------------


def planned_countertops(chat) -> str:
    """The countertop job with its three events, a "permit" not scheduled yet, and its plan sent."""
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    for line in (f"/event {ref} Measurement, Dec 3 9am", f"/event {ref} Removal, Dec 10 8am",
                 f"/event {ref} Installation, Dec 17 9am", f"/event {ref} Permit, -"):
        chat.say(line)
    chat.say(f"/plan {ref} 25% before measurement, 25% after removal, 50% after installation")
    chat.tap("Send to customer")
    return ref


def test_events_done_in_order_are_not_asked_about(chat, clock, outbox):
    ref = planned_countertops(chat)
    clock.advance(days=2)
    for name in ("Measurement", "Removal", "Installation"):
        [done] = chat.say(f"/done {ref} {name.lower()}")
        assert f"{name} is done." in done["text"] and "Mark" not in str(buttons(done))
    [done] = chat.say(f"/done {ref} permit")  # not scheduled: in no order, before or after the others
    assert "Permit is done." in done["text"]
    assert len(outbox("payment_due")) == 3  # the deposit when sent; removal's and installation's


def test_an_event_done_before_an_earlier_one_is_asked_once_and_changes_nothing_until_tapped(chat, clock, outbox):
    from storage.models import AuditRecord, Event

    ref = planned_countertops(chat)
    due_before = len(outbox("payment_due"))
    [asked] = chat.say(f"/done {ref} removal")
    assert asked["text"] == ("Measurement is scheduled before Removal and is not done yet. Marking Removal done now "
                             "makes the money due after it fall due first. Nothing changes until you tap the button.")
    removal = Event.get(Event.name == "Removal")
    assert buttons(asked) == {"Mark Removal done anyway": f"doneanyway:{ref}:e{removal.id}"}
    assert removal.state == "scheduled" and len(outbox("payment_due")) == due_before
    assert not AuditRecord.select().where(AuditRecord.kind == "event_done").exists()

    [done] = chat.tap("Mark Removal done anyway", asked)
    assert "Removal is done. $1,000.00 is now due." in done["text"]
    assert Event.get_by_id(removal.id).state == "done" and len(outbox("payment_due")) == due_before + 1
    assert Event.get(Event.name == "Measurement").state == "scheduled"
    assert chat.api.message(555, asked["message_id"]).get("reply_markup") is None  # its button is gone

    [next_one] = chat.say(f"/done {ref} installation")  # Removal is done: only Measurement is named now
    assert next_one["text"].startswith("Measurement is scheduled before Installation and is not done yet.")


def test_every_earlier_event_still_to_do_is_named_and_the_card_and_the_question_ask_too(chat):
    from storage.models import Event

    ref = planned_countertops(chat)
    [asked] = chat.say(f"/done {ref} installation")
    assert asked["text"].startswith("Measurement and Removal are scheduled before Installation and are not done yet.")
    [card] = chat.say(f"/job {ref}")
    [from_card] = chat.tap("Installation done", card)
    assert from_card["text"] == asked["text"] and buttons(from_card) == buttons(asked)
    chat.say("/done")
    [from_question] = chat.tap("Installation")
    assert from_question["text"] == asked["text"]
    assert Event.get(Event.name == "Installation").state == "scheduled"
    assert "Installation is done" in chat.tap("Mark Installation done anyway", from_question)[0]["text"]


def test_a_forged_or_stale_done_anyway_button_is_refused(chat):
    from storage.models import Event

    ref = planned_countertops(chat)
    rival, rivals, pour, tear_off = events_elsewhere(chat)
    [asked] = chat.say(f"/done {ref} removal")
    for data in (f"doneanyway:{ref}:e{pour}", f"doneanyway:{ref}:e{tear_off}", f"doneanyway:{ref}:e99999999"):
        [refused] = chat.press(data, asked)
        assert "That event is no longer on the job" in refused["text"] and "Nothing was changed" in refused["text"]
    [refused] = chat.press(f"doneanyway:{rivals}:e{tear_off}", asked)
    assert "There is no job" in refused["text"]
    [refused] = chat.press(f"doneanyway:{ref}:removal", asked)  # a name, which no button of ours carries
    assert "That button no longer works" in refused["text"]
    assert {e.state for e in Event.select()} == {"scheduled"}
    [refused] = rival.press(buttons(asked)["Mark Removal done anyway"], rival.sent()[-1])  # not theirs
    assert "There is no job" in refused["text"]
    assert Event.get(Event.name == "Removal").state == "scheduled"

    assert "Removal is done" in chat.tap("Mark Removal done anyway", asked)[0]["text"]
    [again] = chat.press(buttons(asked)["Mark Removal done anyway"], asked)  # tapped twice: stale
    assert "Removal is done already" in again["text"] and "Nothing was changed" in again["text"]
