"""The bot's durable state: what python-telegram-bot hands its persistence comes back, in PTB's shapes, after a restart.

Each test runs on SQLite and, when PAYSTAGE_TEST_POSTGRES_URL is set, on PostgreSQL (the `database` fixture).
The persistence is async; these tests drive it with asyncio.run.
"""

import asyncio
import inspect
import threading
from datetime import datetime, timezone

import pytest
from telegram.ext import ApplicationBuilder, BasePersistence

from bot.persistence import DatabasePersistence
from storage.models import BotState

NEWJOB = "newjob"
DANA_CHAT, DANA = 100, 200  # a private chat: the chat id is the user's id in real life; distinct here on purpose


@pytest.fixture
def persistence(database):
    """Make persistence objects on the test database: persistence() -> a new one, as a restarted process would."""
    made = []

    def make(**options):
        made.append(DatabasePersistence(**options))
        return made[-1]

    yield make
    for each in made:
        asyncio.run(each.flush())


def rows():
    return sorted((r.kind, r.name, r.key, r.value) for r in BotState.select())


# -- PTB's contract -------------------------------------------------------------------------------------------


def test_every_method_ptb_requires_is_implemented_with_its_signature():
    required = BasePersistence.__abstractmethods__
    assert len(required) == 16
    assert not DatabasePersistence.__abstractmethods__
    for method in required:
        ours, theirs = getattr(DatabasePersistence, method), getattr(BasePersistence, method)
        assert inspect.iscoroutinefunction(ours), method
        assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters), method


def test_nothing_stored_gives_what_ptb_expects_of_a_first_start(persistence):
    async def first_start():
        p = persistence()
        return (await p.get_user_data(), await p.get_chat_data(), await p.get_bot_data(),
                await p.get_callback_data(), await p.get_conversations(NEWJOB))

    assert asyncio.run(first_start()) == ({}, {}, {}, None, {})


def test_ptbs_own_update_persistence_writes_through_and_a_new_process_reads_it_back(persistence):
    async def run_then_restart():
        app = ApplicationBuilder().token("123:TEST").persistence(persistence()).build()
        app.user_data[DANA]["draft"] = {"customer": "Dana Whitfield", "total": 400_000}
        app.chat_data[DANA_CHAT]["last_job"] = "J-7K2Q"
        app.bot_data["relay"] = {"9001": "J-7K2Q"}
        app.mark_data_for_update_persistence(chat_ids=DANA_CHAT, user_ids=DANA)
        await app.update_persistence()  # no stop(), no flush(): as if the process were killed now
        restarted = persistence()
        return await restarted.get_user_data(), await restarted.get_chat_data(), await restarted.get_bot_data()

    user_data, chat_data, bot_data = asyncio.run(run_then_restart())
    assert user_data == {DANA: {"draft": {"customer": "Dana Whitfield", "total": 400_000}}}
    assert chat_data == {DANA_CHAT: {"last_job": "J-7K2Q"}}
    assert bot_data == {"relay": {"9001": "J-7K2Q"}}


def test_data_json_cannot_keep_reaches_ptbs_error_handlers_and_the_rest_is_stored(persistence):
    errors = []

    async def on_error(update, context):
        errors.append(context.error)

    async def update_with_a_datetime():
        app = ApplicationBuilder().token("123:TEST").persistence(persistence()).build()
        app.add_error_handler(on_error)
        app.user_data[DANA]["when"] = datetime(2026, 12, 3, 14, tzinfo=timezone.utc)
        app.user_data[201]["step"] = "phone"
        app.mark_data_for_update_persistence(user_ids=[DANA, 201])
        await app.update_persistence()
        return await persistence().get_user_data()

    assert asyncio.run(update_with_a_datetime()) == {201: {"step": "phone"}}
    assert [type(e) for e in errors] == [TypeError]
    assert "user_data of user 200" in str(errors[0]) and "['when'] is a datetime" in str(errors[0])


# -- conversations --------------------------------------------------------------------------------------------


def test_a_conversation_survives_a_restart_with_its_tuple_key(persistence):
    async def talk_then_restart():
        await persistence().update_conversation(NEWJOB, (DANA_CHAT, DANA), 2)  # never flushed
        return await persistence().get_conversations(NEWJOB)

    conversations = asyncio.run(talk_then_restart())
    assert conversations == {(DANA_CHAT, DANA): 2}
    assert all(type(key) is tuple for key in conversations)
    assert rows() == [("conversation", NEWJOB, "[100,200]", "2")]


def test_conversation_keys_of_every_shape_ptb_builds_come_back_as_the_same_tuples(persistence):
    # per_chat/per_user/per_message in their combinations; a group's negative id; an inline message's string id
    states = {
        (DANA_CHAT, DANA): "ASK_PHONE",
        (-1001234567890, DANA): 1,
        (DANA_CHAT,): 0,
        (DANA,): 3,
        (DANA_CHAT, DANA, 5123): 4,
        (DANA, "BAAAAKf3qQABZ2t8"): -1,  # ConversationHandler.END is stored as a state too
    }

    async def store_then_restart():
        first = persistence()
        for key, state in states.items():
            await first.update_conversation(NEWJOB, key, state)
        return await persistence().get_conversations(NEWJOB)

    assert asyncio.run(store_then_restart()) == states


def test_a_new_state_replaces_the_old_one_in_the_same_row(persistence):
    async def advance():
        p = persistence()
        await p.update_conversation(NEWJOB, (DANA_CHAT, DANA), 1)
        await p.update_conversation(NEWJOB, (DANA_CHAT, DANA), 2)
        return await persistence().get_conversations(NEWJOB)

    assert asyncio.run(advance()) == {(DANA_CHAT, DANA): 2}
    assert len(rows()) == 1


def test_a_state_of_none_ends_the_conversation_and_deletes_its_row(persistence):
    async def start_then_end():
        p = persistence()
        await p.update_conversation(NEWJOB, (DANA_CHAT, DANA), 1)
        await p.update_conversation(NEWJOB, (DANA_CHAT, 201), 1)
        await p.update_conversation(NEWJOB, (DANA_CHAT, DANA), None)
        await p.update_conversation(NEWJOB, (DANA_CHAT, 999), None)  # never stored: nothing to do
        return await persistence().get_conversations(NEWJOB)

    assert asyncio.run(start_then_end()) == {(DANA_CHAT, 201): 1}
    assert rows() == [("conversation", NEWJOB, "[100,201]", "1")]


def test_conversations_of_two_handlers_are_kept_apart(persistence):
    async def two_handlers():
        p = persistence()
        await p.update_conversation(NEWJOB, (DANA_CHAT, DANA), 1)
        await p.update_conversation("plan", (DANA_CHAT, DANA), 7)
        await p.update_conversation("plan", (DANA_CHAT, DANA), None)
        restarted = persistence()
        return await restarted.get_conversations(NEWJOB), await restarted.get_conversations("plan")

    assert asyncio.run(two_handlers()) == ({(DANA_CHAT, DANA): 1}, {})


def test_a_state_json_cannot_keep_is_refused(persistence):
    async def store_a_set():
        await persistence().update_conversation(NEWJOB, (DANA_CHAT, DANA), {1, 2})

    with pytest.raises(TypeError, match=r"the state of conversation 'newjob' for \(100, 200\) .*is a set"):
        asyncio.run(store_a_set())
    assert rows() == []


def test_a_conversation_name_longer_than_its_column_is_refused_on_every_database(persistence):
    async def store_long_name():
        await persistence().update_conversation("n" * 65, (DANA_CHAT, DANA), 1)

    with pytest.raises(ValueError, match="too long"):
        asyncio.run(store_long_name())
    assert rows() == []


# -- user, chat and bot data -------------------------------------------------------------------------------------


DRAFT = {"customer": "Dana Whitfield", "phone": "+14155550134", "items": [["Kitchen countertops", 400_000]],
         "deposit": 0.25, "sent": False, "note": None, "title": "Cuisine – plan de travail"}


def test_user_data_of_two_users_round_trips_and_is_kept_apart(persistence):
    async def two_users():
        p = persistence()
        await p.update_user_data(DANA, {"draft": DRAFT})
        await p.update_user_data(201, {"draft": {"customer": "Lee"}})
        await p.update_user_data(DANA, {"draft": DRAFT, "step": "phone"})
        return await persistence().get_user_data()

    assert asyncio.run(two_users()) == {DANA: {"draft": DRAFT, "step": "phone"}, 201: {"draft": {"customer": "Lee"}}}
    assert [(kind, key) for kind, _, key, _ in rows()] == [("user_data", "200"), ("user_data", "201")]


def test_drop_user_data_deletes_only_that_user(persistence):
    async def drop_one():
        p = persistence()
        await p.update_user_data(DANA, {"step": "phone"})
        await p.update_user_data(201, {"step": "total"})
        await p.drop_user_data(DANA)
        await p.drop_user_data(999)  # never stored: nothing to do
        return await persistence().get_user_data()

    assert asyncio.run(drop_one()) == {201: {"step": "total"}}


def test_chat_data_round_trips_and_drop_chat_data_deletes_only_that_chat(persistence):
    group = -1001234567890

    async def two_chats():
        p = persistence()
        await p.update_chat_data(DANA_CHAT, {"last_job": "J-7K2Q"})
        await p.update_chat_data(group, {"last_job": "J-9ZZZ"})
        before = await persistence().get_chat_data()
        await p.drop_chat_data(DANA_CHAT)
        return before, await persistence().get_chat_data()

    before, after = asyncio.run(two_chats())
    assert before == {DANA_CHAT: {"last_job": "J-7K2Q"}, group: {"last_job": "J-9ZZZ"}}
    assert after == {group: {"last_job": "J-9ZZZ"}}


def test_bot_data_round_trips(persistence):
    async def store_then_restart():
        await persistence().update_bot_data({"relay": {"9001": ["J-7K2Q", "+14155550134"]}})
        return await persistence().get_bot_data()

    assert asyncio.run(store_then_restart()) == {"relay": {"9001": ["J-7K2Q", "+14155550134"]}}
    assert rows() == [("bot_data", "", "", '{"relay":{"9001":["J-7K2Q","+14155550134"]}}')]


def test_callback_data_comes_back_in_the_shape_ptbs_callback_data_cache_persists(persistence):
    # CallbackDataCache.persistence_data is ([(keyboard uuid, access time, {button uuid: data})], {query id: keyboard});
    # building a real cache needs PTB's callback-data extra, which Paystage does not install
    saved = (
        [("5f3c0e4a9b7d4e0f8a1b2c3d4e5f6a7b", 1796131800.25, {"b1": {"done": "Measurement", "job": "J-7K2Q"}}),
         ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", 1796131900.5, {"b1": "send", "b2": ["J-7K2Q", 2]})],
        {"4382bfdwdsb323b2d9": "5f3c0e4a9b7d4e0f8a1b2c3d4e5f6a7b"},
    )

    async def store_then_restart():
        await persistence().update_callback_data(saved)
        return await persistence().get_callback_data()

    restored = asyncio.run(store_then_restart())
    assert restored == saved
    keyboards, _ = restored
    assert type(restored) is tuple and type(keyboards) is list and all(type(k) is tuple for k in keyboards)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"draft": {"when": datetime(2026, 12, 3, tzinfo=timezone.utc)}}, r"\['draft'\]\['when'\] is a datetime"),
        ({"items": ("Kitchen countertops", 400_000)}, r"\['items'\] is a tuple"),
        ({"by_position": {1: "Deposit"}}, r"\['by_position'\] has the int key 1"),
        ({"total": float("nan")}, r"\['total'\] is nan"),
    ],
    ids=["datetime", "tuple", "int key", "nan"],
)
def test_user_data_json_cannot_keep_is_refused_clearly_and_the_old_value_stays(persistence, value, problem):
    async def store_then_spoil():
        p = persistence()
        await p.update_user_data(DANA, {"step": "phone"})
        await p.update_user_data(DANA, value)

    with pytest.raises(TypeError, match=r"user_data of user 200 cannot be stored as JSON: the value at " + problem):
        asyncio.run(store_then_spoil())
    assert asyncio.run(persistence().get_user_data()) == {DANA: {"step": "phone"}}


def test_unchanged_data_is_not_written_again(persistence, clock):
    async def hand_over_three_times():
        p = persistence(clock=clock)
        await p.update_bot_data({"relay": {}})
        first = BotState.get().updated_at
        clock.advance(seconds=1)
        await p.update_bot_data({"relay": {}})  # PTB hands bot_data over on every run, changed or not
        unchanged = BotState.get().updated_at
        clock.advance(seconds=1)
        await p.update_bot_data({"relay": {"9001": "J-7K2Q"}})
        return first, unchanged, BotState.get().updated_at

    first, unchanged, changed = asyncio.run(hand_over_three_times())
    assert unchanged == first
    assert changed == datetime(2026, 12, 1, 13, 30, 2, tzinfo=timezone.utc)


def test_a_flushed_persistence_still_answers_if_the_application_starts_again(persistence):
    async def stop_and_start():
        p = persistence()
        await p.update_user_data(DANA, {"step": "phone"})
        await p.flush()
        return await p.get_user_data()

    assert asyncio.run(stop_and_start()) == {DANA: {"step": "phone"}}


def test_a_write_waiting_for_a_lock_leaves_the_event_loop_free(persistence, database):
    """Another writer (the dispatcher, the web app) holds the row; the bot keeps answering meanwhile."""
    asyncio.run(persistence().update_user_data(DANA, {"step": "phone"}))
    locked, release = threading.Event(), threading.Event()

    def other_writer():
        with database.connection_context(), database.atomic():
            BotState.update(value='{"step":"total"}').where(BotState.key == str(DANA)).execute()
            locked.set()
            release.wait(5)

    async def write_while_locked():
        ticks = 0
        write = asyncio.create_task(persistence().update_user_data(DANA, {"step": "items"}))
        while not write.done() and ticks < 20:
            await asyncio.sleep(0.01)
            ticks += 1
        release.set()
        await write
        return ticks

    holder = threading.Thread(target=other_writer)
    holder.start()
    assert locked.wait(5)
    try:
        assert asyncio.run(write_while_locked()) == 20  # the loop ran all along; the write waited for the lock
    finally:
        release.set()
        holder.join()
    assert asyncio.run(persistence().get_user_data()) == {DANA: {"step": "items"}}
