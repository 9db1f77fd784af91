"""Messages to contractors through Telegram's Bot API, or any server that speaks it (TELEGRAM_API_BASE_URL).

The outbox dispatcher runs in a thread of its own, so this is one plain synchronous `sendMessage` over httpx,
not python-telegram-bot's async Bot. The returned message_id is the outbox's provider_id: a contractor's reply
to a relayed customer text is matched back to the customer through it, so one outbox message is always one
Telegram message (an over-long text is shortened, never split).
"""


import httpx

from core.delivery import DeliveryError, Outgoing


class TelegramSender:
    """Sends one Outgoing message to a Telegram chat; returns the message_id or raises DeliveryError."""

    API_BASE_URL = "https://api.telegram.org"
    MAX_LENGTH = 4096  # Telegram's limit, counted here in UTF-16 code units: never more than Telegram counts
    SHORTENED = "\n[… shortened: the full text was too long for Telegram]"
    # A 400 or 403 answers this exact request, and resending it gets the same answer: a blocked bot, a deactivated
    # user, a chat that does not exist, a malformed message. Retrying for hours would change nothing.
    PERMANENT_STATUSES = frozenset({400, 403})
    # 401 is a revoked token; Telegram answers a malformed token with 404. Fixing the setting makes a retry work.
    BAD_TOKEN_STATUSES = frozenset({401, 404})

    def __init__(self, token: str, *, api_base_url: str = API_BASE_URL, timeout: float = 10):
        if not token:
            raise ValueError("a Telegram bot token (TELEGRAM_BOT_TOKEN) is required")
        self._token = token
        self._url = f"{api_base_url.rstrip('/')}/bot{token}/sendMessage"
        self.timeout = timeout

    def send(self, message: Outgoing) -> str:
        payload = {"chat_id": message.recipient, "text": self.fit(message.body),
                   "link_preview_options": {"is_disabled": True}}  # keeps a payment-page link from filling the chat
        try:
            response = httpx.post(self._url, json=payload, timeout=self.timeout)
        except httpx.TimeoutException as e:
            # Telegram may have accepted it and the answer got lost; the Bot API has no idempotency key to ask with.
            raise self._error(f"Telegram did not answer within {self.timeout:g} s (the message may have gone)") from e
        except httpx.HTTPError as e:
            raise self._error(f"could not reach Telegram: {e.__class__.__name__}: {e}") from e
        try:
            answer = response.json()
        except ValueError:
            answer = None
        answer = answer if isinstance(answer, dict) else {}
        if response.status_code == 200 and answer.get("ok") and "message_id" in (answer.get("result") or {}):
            return str(answer["result"]["message_id"])
        raise self._refused(response.status_code, answer)

    def fit(self, text: str) -> str:
        """`text`, shortened with a note when Telegram would refuse it as too long."""
        units = text.encode("utf-16-le")
        if len(units) // 2 <= self.MAX_LENGTH:
            return text
        room = self.MAX_LENGTH - len(self.SHORTENED.encode("utf-16-le")) // 2
        # Cut on a code-unit boundary; "ignore" drops half a surrogate pair (an emoji) left at the cut.
        return units[:room * 2].decode("utf-16-le", "ignore").rstrip() + self.SHORTENED

    def _refused(self, status: int, answer: dict) -> DeliveryError:
        reason = f"Telegram {status}: {answer.get('description') or 'no description'}"
        if status == 429:
            retry_after = (answer.get("parameters") or {}).get("retry_after")
            return self._error(reason, retry_after=float(retry_after) if retry_after is not None else None)
        if status in self.PERMANENT_STATUSES:
            return self._error(reason, permanent=True)
        if status in self.BAD_TOKEN_STATUSES:
            return self._error(f"{reason}; check TELEGRAM_BOT_TOKEN (and TELEGRAM_API_BASE_URL, if set)")
        return self._error(reason)  # 5xx, a proxy's error page, a 200 without ok: Telegram is having a bad moment

    def _error(self, reason: str, **kwargs) -> DeliveryError:
        # Error text is stored and logged: the token must never reach it, whatever a library put in.
        return DeliveryError(reason.replace(self._token, "[bot token]"), **kwargs)
