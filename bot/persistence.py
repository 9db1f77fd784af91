"""The bot's conversations and data outlive the process: python-telegram-bot's BasePersistence on the BotState table.

PTB keeps conversation states and user, chat and bot data in memory and hands what changed to its persistence every
`update_interval` seconds, and once more when the application stops. Each hand-over is written at once, one committed
statement per row, so a crash loses at most the last interval: hence a 1-second default instead of PTB's 60. Data
that did not change is not written again (PTB hands bot_data over on every run), so a short interval costs nothing
while the bot is idle.

Values are JSON. Anything that would not come back the same (a datetime, a tuple, a set, a dict key that is not a
string) is refused with a TypeError at update time, naming where it is; PTB passes the error to the application's
error handlers, and what was stored before stays.

The database is reached from a worker thread of our own, never from the event loop: on SQLite a write may wait up to
the busy timeout (10 s) for another writer (the dispatcher, the web app), and that wait must not freeze the bot. One
thread keeps the writes in order and opens one connection at a time; peewee connections belong to a thread, so each
call runs in its own `db.connection_context()` (a `postgresql+pool://` URL makes that cheap on PostgreSQL).

While a process runs its memory is authoritative: refresh_* do nothing, as PTB cannot refresh a conversation's state
either. A process started after another stopped continues where it left off; two processes serving the same chats at
the same time would overwrite each other's data.
"""

import asyncio
import json
import math
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from core.clock import Clock, system_clock
from storage.models import BotState, db

CONVERSATION = "conversation"
USER_DATA = "user_data"
CHAT_DATA = "chat_data"
BOT_DATA = "bot_data"
CALLBACK_DATA = "callback_data"

Data = dict[str, Any]


class DatabasePersistence(BasePersistence[Data, Data, Data]):
    """Conversation states, user_data, chat_data, bot_data and callback data, written through to BotState rows."""

    def __init__(self, store_data: PersistenceInput | None = None, update_interval: float = 1,
                 clock: Clock = system_clock):
        super().__init__(store_data=store_data, update_interval=update_interval)
        self._clock = clock
        self._known: dict[tuple[str, str, str], str] = {}  # (kind, name, key) -> the JSON this process read or wrote
        self._worker: ThreadPoolExecutor | None = None

    # -- user, chat and bot data ---------------------------------------------------------------------------------

    async def get_user_data(self) -> dict[int, Data]:
        return {int(key): data for key, data in (await self._load(USER_DATA)).items()}

    async def update_user_data(self, user_id: int, data: Data) -> None:
        await self._save(USER_DATA, "", str(user_id), data, f"user_data of user {user_id}")

    async def drop_user_data(self, user_id: int) -> None:
        await self._drop(USER_DATA, "", str(user_id))

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        """Nothing to do: this process's memory is the latest there is."""

    async def get_chat_data(self) -> dict[int, Data]:
        return {int(key): data for key, data in (await self._load(CHAT_DATA)).items()}

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        await self._save(CHAT_DATA, "", str(chat_id), data, f"chat_data of chat {chat_id}")

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._drop(CHAT_DATA, "", str(chat_id))

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        """Nothing to do: this process's memory is the latest there is."""

    async def get_bot_data(self) -> Data:
        return (await self._load(BOT_DATA)).get("", {})

    async def update_bot_data(self, data: Data) -> None:
        await self._save(BOT_DATA, "", "", data, "bot_data")

    async def refresh_bot_data(self, bot_data: Data) -> None:
        """Nothing to do: this process's memory is the latest there is."""

    # -- callback data: the buttons of arbitrary_callback_data, so a button sent before a restart still works --------

    async def get_callback_data(self) -> tuple[list[tuple[str, float, Data]], dict[str, str]] | None:
        stored = (await self._load(CALLBACK_DATA)).get("")
        if stored is None:
            return None
        keyboards, queries = stored
        return [(uuid, access_time, buttons) for uuid, access_time, buttons in keyboards], queries

    async def update_callback_data(self, data: tuple[list[tuple[str, float, Data]], dict[str, str]] | None) -> None:
        if data is None:
            await self._drop(CALLBACK_DATA, "", "")
            return
        keyboards, queries = data
        stored = [[[uuid, access_time, buttons] for uuid, access_time, buttons in keyboards], queries]
        await self._save(CALLBACK_DATA, "", "", stored, "callback_data")

    # -- conversations: {(chat_id, user_id): state}, keys stored as JSON lists ----------------------------------

    async def get_conversations(self, name: str) -> dict[tuple[int | str, ...], object]:
        return {tuple(json.loads(key)): state for key, state in (await self._load(CONVERSATION, name)).items()}

    async def update_conversation(self, name: str, key: tuple[int | str, ...], new_state: object | None) -> None:
        """Store the conversation's new state; None (the conversation ended) deletes it."""
        row_key = _to_json(list(key), f"the key {key!r} of conversation {name!r}")
        if new_state is None:
            await self._drop(CONVERSATION, name, row_key)
        else:
            await self._save(CONVERSATION, name, row_key, new_state, f"the state of conversation {name!r} for {key!r}")

    async def flush(self) -> None:
        """Every update was written when it came, so only the worker thread is left to stop."""
        if self._worker is not None:
            self._worker.shutdown(wait=True)  # returns at once: PTB awaited every write before flushing
            self._worker = None

    # -- the table ---------------------------------------------------------------------------------------------

    async def _load(self, kind: str, name: str = "") -> dict[str, Any]:
        rows = await self._call(_select, kind, name)
        for key, text in rows:
            self._known[(kind, name, key)] = text
        return {key: json.loads(text) for key, text in rows}

    async def _save(self, kind: str, name: str, key: str, value: object, what: str) -> None:
        text = _to_json(value, what)
        if len(name) > BotState.name.max_length or len(key) > BotState.key.max_length:
            # PostgreSQL would refuse the row and SQLite keep it whole: refuse it on both
            raise ValueError(f"{what}: the name or key is too long for bot_state ({name!r}, {key!r})")
        if self._known.get((kind, name, key)) == text:
            return
        await self._call(_upsert, kind, name, key, text, self._clock())
        self._known[(kind, name, key)] = text

    async def _drop(self, kind: str, name: str, key: str) -> None:
        await self._call(_delete, kind, name, key)
        self._known.pop((kind, name, key), None)

    async def _call(self, work, *args):
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bot-state")
        return await asyncio.get_running_loop().run_in_executor(self._worker, _in_connection, work, *args)


def _in_connection(work, *args):
    with db.connection_context():
        return work(*args)


def _select(kind: str, name: str) -> list[tuple[str, str]]:
    query = BotState.select(BotState.key, BotState.value).where((BotState.kind == kind) & (BotState.name == name))
    return [(row.key, row.value) for row in query]


def _upsert(kind: str, name: str, key: str, value: str, now: datetime) -> None:
    BotState.insert(kind=kind, name=name, key=key, value=value, updated_at=now).on_conflict(
        conflict_target=[BotState.kind, BotState.name, BotState.key],
        preserve=[BotState.value, BotState.updated_at],
    ).execute()


def _delete(kind: str, name: str, key: str) -> None:
    BotState.delete().where((BotState.kind == kind) & (BotState.name == name) & (BotState.key == key)).execute()


def _to_json(value: object, what: str) -> str:
    problem = _json_problem(value, "")
    if problem:
        raise TypeError(f"{what} cannot be stored as JSON: {problem} "
                        "(bot state holds dicts with str keys, lists, str, int, float, bool and None)")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_problem(value: object, path: str) -> str | None:
    """Why `value` would not come back the same from JSON, naming where in it; None if it would."""
    where = f"the value at {path}" if path else "the value"
    if value is None or isinstance(value, (str, int)):  # bool is an int
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} is {value}"
    if isinstance(value, list):
        items = enumerate(value)
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                return f"{where} has the {type(key).__name__} key {key!r}, which JSON would turn into a string"
        items = value.items()
    else:
        return f"{where} is a {type(value).__name__}"
    for index, item in items:
        problem = _json_problem(item, f"{path}[{index!r}]")
        if problem:
            return problem
    return None
