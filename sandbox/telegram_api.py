"""A local stand-in for Telegram's Bot API, over real HTTP on 127.0.0.1.

It answers what python-telegram-bot 22 and our outbox sender send: `GET` or
`POST /bot<token>/<method>`, with parameters in the query string, a
form-encoded body (PTB: every value a string, `reply_markup` a JSON string) or
a JSON body (our sender), or multipart/form-data (PTB uploading a file: `sendDocument`, the file a part of its own
or named by an `attach://` reference). Answers are the Bot API's envelope: `{"ok": true,
"result": ...}` with 200, or `{"ok": false, "error_code": ..., "description":
...}` with that same HTTP status, never a 200 (PTB crashes on a 200 with
ok:false), and `parameters.retry_after` on a 429.

    with LocalBotAPI() as api:
        app = ApplicationBuilder().token(api.token).base_url(api.base_url + "/bot").build()
        api.push_message(555, "/jobs")                 # Dana (user and chat 555) sends a command
        api.push_callback(555, 2, "done:7")            # ... and taps a button under the bot's message 2
        api.push_message(556, "/help", language_code="es")  # from a Telegram app set to Spanish
        update = api.make_message_update(555, "hi")    # the same shapes, not queued: Update.de_json(update, bot)
        api.fail_next("sendMessage", status=429, retry_after=3)
        api.block(556)                                 # 556 blocked the bot: sends there answer 403
        api.wait_for_sent(2, timeout=5)                # -> sendMessage/editMessageText calls, once there are two
        api.documents                                  # -> each sendDocument: chat_id, filename, content, caption

Message ids count up per chat, shared by the user's messages and the bot's, as
in a private chat. Text comes back as sent: `parse_mode` is not rendered into
entities. The command menu is kept per scope and language, as Telegram keeps it
(`commands(language_code="es")`). Each request is served on its own thread; connections close after
each answer (HTTP/1.0), so once it is closed nobody is still served.
"""

import copy
import email.parser
import email.policy
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs

from .server import JSONHandler, LocalServer

PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")
MAX_TEXT = 4096  # UTF-16 code units, the stricter reading of Telegram's "4096 characters"
MAX_CALLBACK_DATA = 64  # bytes; a longer callback_data makes the whole message fail with BUTTON_DATA_INVALID
MAX_CAPTION = 1024  # UTF-16 code units: a document's caption
MAX_UPLOAD = 50 * 1024 * 1024  # bytes: the largest file the Bot API takes from a bot (sendDocument)
MAX_FORM = 1024 * 1024  # bytes of a request that uploads no file: far more than 4096 characters and a keyboard
DISCARD_AT_MOST = 2 * MAX_UPLOAD  # bytes of a refused body let through before the connection is closed regardless
JSON_FIELDS = frozenset({"reply_markup", "entities", "allowed_updates", "commands", "scope", "link_preview_options",
                         "reply_parameters"})

BLOCKED = "Forbidden: bot was blocked by the user"
DEACTIVATED = "Forbidden: user is deactivated"
CHAT_NOT_FOUND = "Bad Request: chat not found"
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message")
WEBHOOK_ACTIVE = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the " \
                 "webhook first"


def bot_api_error(status: int, description: str | None = None, *, retry_after: int | None = None) -> dict:
    """The JSON body the Bot API answers an error with."""
    if description is None:
        description = f"Too Many Requests: retry after {retry_after}" if status == 429 else HTTPStatus(status).phrase
    body = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


def utf16_len(text: str) -> int:
    """Length as Telegram measures it (entity offsets and lengths are in UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


class Refused(Exception):
    """An error answer from a method: HTTP status and the Bot API's description."""

    def __init__(self, status: int, description: str | None = None, *, retry_after: int | None = None):
        super().__init__(description)
        self.status = status
        self.body = bot_api_error(status, description, retry_after=retry_after)


@dataclass(frozen=True)
class Upload:
    """A file sent as a part of a multipart/form-data request."""

    filename: str
    content: bytes
    mime_type: str


class _Handler(JSONHandler):
    api: "LocalBotAPI"
    server_version = "LocalBotAPI/1.0"

    def do_GET(self):
        self._answer(b"")

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        multipart = self._content_type() == "multipart/form-data"
        if not 0 <= length <= (MAX_UPLOAD + MAX_FORM if multipart else MAX_FORM):
            # refused unread, as Telegram's servers do, with 413 and the Bot API's envelope; what the client is still
            # sending is let through unkept (a little at a time), or it would read a reset connection, not the answer
            self._discard(length)
            self.send_json(413, bot_api_error(413, "Request Entity Too Large"))
            return
        self._answer(self.rfile.read(length))

    def _discard(self, length: int) -> None:
        left = min(max(length, 0), DISCARD_AT_MOST)
        while left > 0 and (chunk := self.rfile.read(min(left, 64 * 1024))):
            left -= len(chunk)
        self.close_connection = True

    def _content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def _answer(self, raw: bytes):
        path, _, query = self.path.partition("?")
        params = {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}
        content_type = self._content_type()
        refusal = None
        try:
            if content_type == "application/json" and raw:
                body = json.loads(raw)
                params.update(body if isinstance(body, dict) else {})
            elif content_type == "multipart/form-data":
                params.update(read_multipart(self.headers.get("Content-Type", ""), raw))
            elif raw:
                params.update({k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()})
            decode_params(params)
        except Refused as e:
            refusal = e
        except ValueError as e:
            refusal = Refused(400, f"Bad Request: {e}")
        status, body = self.api._handle(path, params, refusal)
        match = PATH.match(path)
        with self.api._lock:
            self.api._requests.append({"method": match["method"] if match else None, "status": status,
                                       "at": time.time()})
        self.send_json(status, body)


class LocalBotAPI(LocalServer):
    """Telegram's Bot API for one bot, on an ephemeral port; records every call, queues updates, fails when told."""

    METHODS = {
        "getMe": "_get_me", "getUpdates": "_get_updates", "sendMessage": "_send_message",
        "editMessageText": "_edit_message_text", "editMessageReplyMarkup": "_edit_message_reply_markup",
        "answerCallbackQuery": "_answer_callback_query", "deleteMessage": "_delete_message",
        "sendChatAction": "_true", "setWebhook": "_set_webhook", "deleteWebhook": "_delete_webhook",
        "getWebhookInfo": "_get_webhook_info", "setMyCommands": "_set_my_commands",
        "getMyCommands": "_get_my_commands", "deleteMyCommands": "_delete_my_commands", "close": "_true",
        "logOut": "_true", "sendDocument": "_send_document",
    }
    _BY_LOWER = {name.lower(): name for name in METHODS}  # Bot API method names are case-insensitive
    handler = _Handler
    thread_name = "local-bot-api"

    def __init__(self, token: str = "123456:TEST", *, bot_username: str = "paystage_test_bot",
                 first_name: str = "Paystage", long_poll_cap: float = 1.0, latency: float = 0.0):
        super().__init__()
        self.token = token
        bot_id = token.partition(":")[0]
        self.bot = {"id": int(bot_id) if bot_id.isdigit() else 123456, "is_bot": True, "first_name": first_name,
                    "username": bot_username}
        self.long_poll_cap = long_poll_cap  # getUpdates waits at most this long, whatever `timeout` asks
        self.latency = latency  # seconds before every answer; a test of a client's timeout sets it high
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[tuple[str, dict]] = []
        self._requests: list[dict] = []
        self._sent: list[dict] = []
        self._updates: list[dict] = []  # not yet confirmed by a getUpdates offset
        self._next_update_id = 1
        self._last_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], dict] = {}  # (chat id, message id) -> the message as it is now
        self._chats: dict[int, dict] = {}
        self._callback_ids: set[str] = set()  # issued and not yet answered
        self._failures: list[dict] = []
        self._refused: dict[int, tuple[int, str]] = {}
        self._webhook: dict = {"url": ""}
        self._commands: dict[tuple[str, str], list] = {}  # (scope, language code) -> the menu set for them
        self._documents: list[dict] = []  # every document sent: chat_id, message_id, file_id, filename, content...

    # --- lifecycle -------------------------------------------------------------------------------

    def _wake_waiting(self) -> None:
        with self._changed:  # long polls wait on this condition, for an update or for `_closing`
            super()._wake_waiting()
            self._changed.notify_all()

    # --- incoming updates ------------------------------------------------------------------------

    def make_message_update(self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = "Dana",
                            reply_to: int | None = None, language_code: str | None = "en") -> dict:
        """An update with a user's text message (not queued); `reply_to` names a message in that chat it answers;
        `language_code`, what the user's Telegram app speaks (None: Telegram does not say)."""
        user = _user(user_id or chat_id, first_name, language_code)
        with self._lock:
            replied = self._existing(chat_id, reply_to) if reply_to is not None else None
            message = self._new_message(chat_id, user, text, first_name)
            if text.startswith("/"):  # without this entity PTB's CommandHandler does not see a command
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}]
            if replied:
                message["reply_to_message"] = replied
            self._messages[chat_id, message["message_id"]] = message
            return {"update_id": self._take_update_id(), "message": copy.deepcopy(message)}

    def make_callback_update(self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None,
                             language_code: str | None = "en") -> dict:
        """An update with a tap on an inline button under the bot's message `message_id` (not queued)."""
        with self._lock:
            message = self._existing(chat_id, message_id)
            if message["from"]["id"] != self.bot["id"]:
                raise ValueError(f"message {message_id} in chat {chat_id} was not sent by the bot")
            query_id = f"{self.bot['id']}{self._next_update_id:012d}"
            self._callback_ids.add(query_id)
            first_name = self._chat(chat_id).get("first_name", "Dana")
            user = _user(user_id or chat_id, first_name, language_code)
            query = {"id": query_id, "from": user, "message": message, "chat_instance": f"-{abs(chat_id)}00",
                     "data": data}
            return {"update_id": self._take_update_id(), "callback_query": query}

    def push_update(self, update: dict) -> dict:
        """Queue an update for getUpdates."""
        with self._changed:
            self._updates.append(copy.deepcopy(update))
            self._changed.notify_all()
        return update

    def push_message(self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = "Dana",
                     reply_to: int | None = None, language_code: str | None = "en") -> dict:
        """Queue a user's text message for getUpdates (see make_message_update); returns the update."""
        return self.push_update(self.make_message_update(chat_id, text, user_id=user_id, first_name=first_name,
                                                         reply_to=reply_to, language_code=language_code))

    def push_callback(self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None,
                      language_code: str | None = "en") -> dict:
        """Queue a tap on a button under the bot's message for getUpdates; returns the update."""
        return self.push_update(self.make_callback_update(chat_id, message_id, data, user_id=user_id,
                                                          language_code=language_code))

    # --- scripting -------------------------------------------------------------------------------

    def fail_next(self, method: str | None = None, n: int = 1, *, status: int = 429, retry_after: int | None = 3,
                  description: str | None = None) -> None:
        """Answer the next `n` calls of `method` (None: of any method) with an error; 429s carry `retry_after`."""
        body = bot_api_error(status, description, retry_after=retry_after if status == 429 else None)
        with self._lock:
            self._failures.extend({"method": method, "status": status, "body": body} for _ in range(n))

    def refuse(self, chat_id: int, status: int = 400, description: str = CHAT_NOT_FOUND) -> None:
        """Answer every send to or edit in `chat_id` with an error (default: chat not found), until `unblock`."""
        with self._lock:
            self._refused[int(chat_id)] = (status, description)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: 403 for every send to `chat_id`."""
        self.refuse(chat_id, 403, BLOCKED)

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            self._refused.pop(int(chat_id), None)

    # --- what happened ---------------------------------------------------------------------------

    @property
    def calls(self) -> list[tuple[str, dict]]:
        """Every call with the right token, oldest first: (method, params), JSON parameters decoded."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def calls_to(self, method: str) -> list[dict]:
        return [params for name, params in self.calls if name == method]

    @property
    def requests(self) -> list[dict]:
        """Every request, the wrong token's too: method, status, at."""
        with self._lock:
            return [dict(r) for r in self._requests]

    @property
    def sent(self) -> list[dict]:
        """Accepted sendMessage and editMessageText calls: method, chat_id, message_id, text, reply_markup, reply_to."""
        with self._lock:
            return copy.deepcopy(self._sent)

    @property
    def documents(self) -> list[dict]:
        """Accepted sendDocument calls, oldest first: chat_id, message_id, file_id, filename, mime_type, content (the
        file's bytes as uploaded) and caption."""
        with self._lock:
            return copy.deepcopy(self._documents)

    def document(self, chat_id: int, message_id: int) -> dict | None:
        """The document sent as message `message_id` of a chat (see `documents`), or None."""
        return next((d for d in self.documents if (d["chat_id"], d["message_id"]) == (chat_id, message_id)), None)

    def message(self, chat_id: int, message_id: int) -> dict | None:
        """A message in a chat as it is now (after edits), or None."""
        with self._lock:
            return copy.deepcopy(self._messages.get((chat_id, message_id)))

    def chat(self, chat_id: int) -> list[dict]:
        """Every message in a chat as it is now, the user's and the bot's, oldest first (edited as edited, the
        deleted gone): what the chat shows."""
        with self._lock:
            return [copy.deepcopy(m) for (chat, _), m in sorted(self._messages.items()) if chat == chat_id]

    def commands(self, language_code: str = "", scope: dict | None = None) -> list[dict]:
        """The command menu set for users of `scope` (default: everyone) whose app speaks `language_code` ("":
        the menu for any other language)."""
        with self._lock:
            return copy.deepcopy(self._commands.get(_menu_key({"scope": scope, "language_code": language_code}), []))

    @property
    def webhook(self) -> dict:
        with self._lock:
            return dict(self._webhook)

    def wait_for_sent(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Block until at least `count` messages were sent or edited; return them. TimeoutError if they do not come."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._sent) >= count, timeout):
                raise TimeoutError(f"expected {count} sent messages within {timeout}s, got {len(self._sent)}")
            return copy.deepcopy(self._sent)

    # --- helpers (called with the lock held where they touch state) ------------------------------

    def _take_update_id(self) -> int:
        self._next_update_id += 1
        return self._next_update_id - 1

    def _chat(self, chat_id: int, first_name: str | None = None) -> dict:
        if chat_id < 0:
            return self._chats.setdefault(chat_id, {"id": chat_id, "type": "group", "title": "Job site"})
        if first_name or chat_id not in self._chats:
            self._chats[chat_id] = {"id": chat_id, "type": "private", "first_name": first_name or "Dana"}
        return self._chats[chat_id]

    def _new_message(self, chat_id: int, sender: dict, text: str | None, first_name: str | None = None) -> dict:
        """The next message of a chat; `text` None for one that has none (a document)."""
        message_id = self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        message = {"message_id": message_id, "from": dict(sender), "chat": dict(self._chat(chat_id, first_name)),
                   "date": int(time.time())}
        return message if text is None else {**message, "text": text}

    def _existing(self, chat_id: int, message_id: int) -> dict:
        """A copy of a message, without the message it replied to (Telegram nests one level only)."""
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}

    # --- the API ---------------------------------------------------------------------------------

    def _handle(self, path: str, params: dict, refusal: "Refused | None" = None) -> tuple[int, dict]:
        if self.latency and self._closing.wait(self.latency):
            return 503, bot_api_error(503, "Service Unavailable: shutting down")
        match = PATH.match(path)
        if not match:
            return 404, bot_api_error(404, "Not Found")
        if not hmac.compare_digest(match["token"].encode(), self.token.encode()):
            return 401, bot_api_error(401, "Unauthorized")
        method = self._BY_LOWER.get(match["method"].lower(), match["method"])
        with self._lock:
            self._calls.append((method, copy.deepcopy(params)))
            failure = next((f for f in self._failures if f["method"] in (None, method)), None)
            if failure:
                self._failures.remove(failure)
                return failure["status"], copy.deepcopy(failure["body"])
        if method not in self.METHODS:
            return 404, bot_api_error(404, "Not Found")
        try:
            if refusal:
                raise refusal
            return 200, {"ok": True, "result": getattr(self, self.METHODS[method])(params)}
        except Refused as e:
            return e.status, e.body
        except (TypeError, ValueError, AttributeError) as e:  # a parameter of the wrong shape
            return 400, bot_api_error(400, f"Bad Request: {e}")

    def _true(self, params: dict) -> bool:
        return True

    def _get_me(self, params: dict) -> dict:
        return {**self.bot, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    def _get_updates(self, params: dict) -> list[dict]:
        offset, limit = _int(params, "offset", 0), _int(params, "limit", 100) or 100
        timeout = min(float(params.get("timeout") or 0), self.long_poll_cap)
        with self._changed:
            if self._webhook["url"]:
                raise Refused(409, WEBHOOK_ACTIVE)
            # An offset confirms every update before it (a negative one keeps only the last -offset).
            self._updates = self._updates[offset:] if offset < 0 else [
                u for u in self._updates if u["update_id"] >= offset]
            self._changed.wait_for(lambda: self._updates or self._closing.is_set(), timeout)
            return copy.deepcopy(self._updates[:limit])

    def _send_message(self, params: dict) -> dict:
        chat_id, text = self._chat_id(params), self._text(params)
        markup = self._markup(params)
        reply_to = _int(params.get("reply_parameters") or {}, "message_id", None) or _int(
            params, "reply_to_message_id", None)
        with self._changed:
            if reply_to is not None and (chat_id, reply_to) not in self._messages:
                raise Refused(400, "Bad Request: message to be replied not found")
            message = self._new_message(chat_id, self.bot, text)
            if markup and "inline_keyboard" in markup:  # a Message carries only an inline keyboard
                message["reply_markup"] = markup
            if reply_to is not None:
                message["reply_to_message"] = self._existing(chat_id, reply_to)
            self._messages[chat_id, message["message_id"]] = message
            self._record_sent("sendMessage", message, markup, reply_to)
            return copy.deepcopy(message)

    def _send_document(self, params: dict) -> dict:
        """A file the bot uploads (PTB sends it as multipart/form-data), with an optional caption and keyboard;
        a file id or URL in place of the upload is not something this local Bot API keeps."""
        chat_id, markup = self._chat_id(params), self._markup(params)
        upload = params.get("document")
        if isinstance(upload, str) and upload.startswith("attach://"):
            upload = params.get(upload.removeprefix("attach://"))
        if not isinstance(upload, Upload):
            raise Refused(400, "Bad Request: wrong remote file identifier specified: this local Bot API takes "
                               "uploaded files only")
        if not upload.content:
            raise Refused(400, "Bad Request: file must be non-empty")
        if len(upload.content) > MAX_UPLOAD:
            raise Refused(413, "Request Entity Too Large")
        caption = str(params.get("caption") or "")
        if utf16_len(caption) > MAX_CAPTION:
            raise Refused(400, "Bad Request: message caption is too long")
        reply_to = _int(params.get("reply_parameters") or {}, "message_id", None) or _int(
            params, "reply_to_message_id", None)
        digest = hashlib.sha256(upload.content).hexdigest()
        with self._changed:
            if reply_to is not None and (chat_id, reply_to) not in self._messages:
                raise Refused(400, "Bad Request: message to be replied not found")
            message = self._new_message(chat_id, self.bot, None)
            file_id = f"BQAC{digest[:24]}{message['message_id']:06d}"
            message["document"] = {"file_id": file_id, "file_unique_id": digest[:16], "file_name": upload.filename,
                                   "mime_type": upload.mime_type, "file_size": len(upload.content)}
            if caption:
                message["caption"] = caption
            if markup and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            if reply_to is not None:
                message["reply_to_message"] = self._existing(chat_id, reply_to)
            self._messages[chat_id, message["message_id"]] = message
            self._documents.append({"chat_id": chat_id, "message_id": message["message_id"], "file_id": file_id,
                                    "filename": upload.filename, "mime_type": upload.mime_type,
                                    "content": upload.content, "caption": caption})
            self._record_sent("sendDocument", message, markup, reply_to)
            return copy.deepcopy(message)

    def _edit_message_text(self, params: dict) -> dict:
        return self._edit(params, "editMessageText", self._text(params))

    def _edit_message_reply_markup(self, params: dict) -> dict:
        return self._edit(params, "editMessageReplyMarkup", None)

    def _edit(self, params: dict, method: str, text: str | None) -> dict:
        if "inline_message_id" in params:
            raise Refused(400, "Bad Request: this local Bot API does not keep inline messages")
        chat_id, markup = self._chat_id(params), self._markup(params)
        message_id = _int(params, "message_id", None)
        with self._changed:
            message = self._messages.get((chat_id, message_id))
            if message is None:
                raise Refused(400, "Bad Request: message to edit not found")
            if message["from"]["id"] != self.bot["id"]:
                raise Refused(400, "Bad Request: message can't be edited")
            if text is not None and "text" not in message:
                raise Refused(400, "Bad Request: there is no text in the message to edit")
            new_text = message.get("text") if text is None else text
            # Leaving reply_markup out removes the keyboard, as in Telegram.
            new_markup = markup if markup and "inline_keyboard" in markup else None
            if new_text == message.get("text") and new_markup == message.get("reply_markup"):
                raise Refused(400, NOT_MODIFIED)
            message["edit_date"] = int(time.time())
            if new_text is not None:
                message["text"] = new_text
            message.pop("reply_markup", None)
            if new_markup:
                message["reply_markup"] = new_markup
            if method == "editMessageText":
                self._record_sent(method, message, markup, None)
            return copy.deepcopy(message)

    def _record_sent(self, method: str, message: dict, markup: dict | None, reply_to: int | None) -> None:
        """`text` is a document's caption ("" without one); a document's `document` is what its message carries."""
        sent = {"method": method, "chat_id": message["chat"]["id"], "message_id": message["message_id"],
                "text": message.get("text", message.get("caption", "")), "reply_markup": copy.deepcopy(markup),
                "reply_to": reply_to}
        if "document" in message:
            sent["document"] = copy.deepcopy(message["document"])
        self._sent.append(sent)
        self._changed.notify_all()

    def _answer_callback_query(self, params: dict) -> bool:
        with self._lock:
            if params.get("callback_query_id") not in self._callback_ids:
                raise Refused(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
            self._callback_ids.discard(params["callback_query_id"])
        return True

    def _delete_message(self, params: dict) -> bool:
        chat_id = self._chat_id(params)
        with self._lock:
            if self._messages.pop((chat_id, _int(params, "message_id", None)), None) is None:
                raise Refused(400, "Bad Request: message to delete not found")
        return True

    def _set_webhook(self, params: dict) -> bool:
        with self._lock:
            self._webhook = {k: params[k] for k in ("url", "secret_token", "allowed_updates", "max_connections")
                             if k in params}
            self._webhook.setdefault("url", "")
            if _flag(params, "drop_pending_updates"):
                self._updates.clear()
        return True

    def _delete_webhook(self, params: dict) -> bool:
        return self._set_webhook({"url": "", "drop_pending_updates": params.get("drop_pending_updates")})

    def _get_webhook_info(self, params: dict) -> dict:
        with self._lock:
            info = {"url": self._webhook["url"], "has_custom_certificate": False,
                    "pending_update_count": len(self._updates)}
            info.update({k: v for k, v in self._webhook.items() if k in ("allowed_updates", "max_connections")})
            return info

    def _set_my_commands(self, params: dict) -> bool:
        commands = list(params.get("commands") or [])
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))) or not (
                    1 <= len(str(command.get("description") or "")) <= 256):
                raise Refused(400, "Bad Request: BOT_COMMAND_INVALID")
        with self._lock:
            self._commands[_menu_key(params)] = commands
        return True

    def _get_my_commands(self, params: dict) -> list:
        with self._lock:
            return copy.deepcopy(self._commands.get(_menu_key(params), []))

    def _delete_my_commands(self, params: dict) -> bool:
        with self._lock:
            self._commands.pop(_menu_key(params), None)
        return True

    def _chat_id(self, params: dict) -> int:
        value = params.get("chat_id")
        if value in (None, ""):
            raise Refused(400, "Bad Request: chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise Refused(400, CHAT_NOT_FOUND) from None  # a @username it does not know
        with self._lock:
            refused = self._refused.get(chat_id)
        if refused:
            raise Refused(*refused)
        return chat_id

    @staticmethod
    def _text(params: dict) -> str:
        text = str(params.get("text") or "")
        if not text.strip():
            raise Refused(400, "Bad Request: message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise Refused(400, "Bad Request: message is too long")
        return text

    @staticmethod
    def _markup(params: dict) -> dict | None:
        markup = params.get("reply_markup")
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise Refused(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                if len(str(button.get("callback_data", "")).encode()) > MAX_CALLBACK_DATA:
                    raise Refused(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup


def _user(user_id: int, first_name: str, language_code: str | None) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": first_name}
    return {**user, "language_code": language_code} if language_code else user


def _menu_key(params: dict) -> tuple[str, str]:
    """Where a command menu is kept: its scope (everyone by default) and its users' language ("" for any)."""
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def _int(params: dict, name: str, default: int | None) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Refused(400, f"Bad Request: invalid {name} specified") from None


def _flag(params: dict, name: str) -> bool:
    return params.get(name) in (True, "true", "True", "1", 1)


def read_multipart(content_type: str, raw: bytes) -> dict:
    """A multipart/form-data body (`content_type` the request's header, with its boundary) as parameters: a field
    as its text, a file (a part with a filename) as an Upload. Read with the standard library's MIME parser."""
    if "boundary=" not in content_type:
        raise ValueError("multipart/form-data without a boundary")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not parsed.is_multipart() or parsed.defects:
        raise ValueError("can't parse the multipart/form-data body")
    params: dict = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            raise ValueError("a multipart/form-data part without a name")
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            params[name] = Upload(filename, content, part.get_content_type())
        else:
            params[name] = content.decode(part.get_content_charset() or "utf-8")
    return params


def decode_params(params: dict) -> None:
    """Parameters as a method sees them: JSON-valued ones (reply_markup, ...) decoded, whatever the encoding."""
    for name in JSON_FIELDS & params.keys():
        if isinstance(params[name], str):
            try:
                params[name] = json.loads(params[name])
            except ValueError:
                raise Refused(400, f"Bad Request: can't parse {name} JSON object") from None
