"""A contractor's chat with the real bot: python-telegram-bot's Application over real HTTP to a local Bot API."""

import re

from bot.app import build_application
from bot.commands import Services
from bot.runner import BotRunner

TOKEN = "123456:TEST"


class Chat:
    """One contractor's private chat. `say` and `tap` return what the bot sent in answer. `language_code`: what
    their Telegram app speaks, sent with every message and tap (None: Telegram does not say)."""

    def __init__(self, api, runner: BotRunner, chat_id: int, first_name: str = "Granite & Co",
                 language_code: str | None = "en"):
        self.api, self.runner, self.chat_id, self.first_name = api, runner, chat_id, first_name
        self.language_code = language_code

    def say(self, text: str, reply_to: int | None = None) -> list[dict]:
        update = self.api.make_message_update(self.chat_id, text, first_name=self.first_name, reply_to=reply_to,
                                              language_code=self.language_code)
        return self._answered(update)

    def tap(self, label: str, message: dict | None = None) -> list[dict]:
        """Tap the button called `label` under `message` (default: the latest message that has it)."""
        message = message or next(m for m in reversed(self.sent()) if label in buttons(m))
        update = self.api.make_callback_update(self.chat_id, message["message_id"], buttons(message)[label],
                                               language_code=self.language_code)
        return self._answered(update)

    def press(self, data: str, message: dict) -> list[dict]:
        """A tap carrying `data` under `message`, whatever its buttons carry: what a forged or an old button sends."""
        return self._answered(self.api.make_callback_update(self.chat_id, message["message_id"], data,
                                                            language_code=self.language_code))

    def sent(self) -> list[dict]:
        return [m for m in self.api.sent if str(m["chat_id"]) == str(self.chat_id)]

    def last(self) -> str:
        return self.sent()[-1]["text"]

    def _answered(self, update: dict) -> list[dict]:
        before = len(self.sent())
        self.runner.process(update)
        return self.sent()[before:]


def buttons(message: dict) -> dict[str, str]:
    markup = message.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


def start_bot(api, ctx, *, persistence=None, allowed_ids=None, payments=None) -> BotRunner:
    app = build_application(TOKEN, Services(ctx, allowed_ids, payments=payments), persistence=persistence,
                            api_base_url=api.base_url, polling=False)
    runner = BotRunner(app)
    runner.start()
    return runner


def invited(owner: Chat, chat_id: int, first_name: str) -> Chat:
    """Someone the owner let in: the owner sends /invite, they tap its t.me link (Telegram sends /start CODE)."""
    link = re.search(r"https://t\.me/\w+\?start=(\S+)", owner.say("/invite")[0]["text"])
    guest = Chat(owner.api, owner.runner, chat_id, first_name)
    assert "Welcome" in guest.say(f"/start {link.group(1)}")[0]["text"]
    return guest
