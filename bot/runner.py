"""Running the bot beside the rest of the process: its own event loop, in a thread of its own.

The web app (Flask, threads) and the worker (threads) are synchronous; the
bot is asyncio. The runner owns the bot's loop, starts polling or registers
the webhook, hands webhook updates over thread-safely, and on stop lets the
update in flight finish and flushes persistence.

When Telegram does not answer at start, `start_when_reachable` keeps trying in
the background, waiting twice as long each time, while the rest of the
process runs; a token Telegram refuses is told to the caller instead.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

log = logging.getLogger(__name__)

FIRST_WAIT = 2.0  # seconds before the first try again; each later wait is twice the one before
LONGEST_WAIT = 300.0  # ... up to this: a Telegram back after an outage is seen within five minutes


class BotRunner:
    def __init__(self, app: Application, *, webhook_url: str | None = None, webhook_secret: str | None = None):
        self.app = app
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="telegram-bot", daemon=True)
        self._trying = None  # the background tries of start_when_reachable, while they go on

    def check(self, timeout: float = 30) -> None:
        """Ask Telegram who the bot is (getMe): InvalidToken if it refuses the token, NetworkError if it does not
        answer. What start would find first, found before anything else of the process has started."""
        self._run_loop()
        self._call(self.app.bot.initialize(), timeout)

    def start(self, timeout: float = 30) -> None:
        self._run_loop()
        self._call(self._start(), timeout)
        log.info("bot started (%s)", "webhook" if self.webhook_url else "polling")

    def start_when_reachable(self, refused: Callable[[TelegramError], None], *, first_wait: float = FIRST_WAIT,
                             longest_wait: float = LONGEST_WAIT) -> None:
        """Start in the background: wait, try, and while Telegram does not answer (or asks to wait) wait twice as
        long and try again, a line in the log each time, until it starts or stop() is called. If Telegram refuses
        (a revoked token, a webhook it will not take), `refused` is called on the bot's thread and the tries end."""
        self._run_loop()
        self._trying = asyncio.run_coroutine_threadsafe(self._keep_starting(refused, first_wait, longest_wait),
                                                        self.loop)

    def stop(self, timeout: float = 30) -> None:
        if not self._thread.is_alive():  # never started: nothing to stop
            return
        if self._trying is not None:
            self._trying.cancel()  # a try in flight ends here; whatever it started, _stop stops
        try:
            self._call(self._stop(), timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
        log.info("bot stopped")

    def feed(self, data: dict) -> None:
        """Queue one update that arrived by webhook; the bot's loop handles it. A malformed one is dropped.

        Whatever its shape, the webhook acknowledges it: an error status makes Telegram resend it for a day.
        """
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception as error:  # the library's parser raises whatever the shape leads it to
            log.warning("dropped a malformed update %.40r: %s", data.get("update_id"), error.__class__.__name__)
            return
        asyncio.run_coroutine_threadsafe(self.app.update_queue.put(update), self.loop)

    def process(self, data: dict, timeout: float = 30) -> None:
        """Handle one update now and wait until it is done (for tests and benchmarks)."""
        self._call(self.app.process_update(Update.de_json(data, self.app.bot)), timeout)

    def _run_loop(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def _call(self, coroutine, timeout: float):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _keep_starting(self, refused: Callable[[TelegramError], None], wait: float, longest: float) -> None:
        while True:
            await asyncio.sleep(wait)
            try:
                await self._start()
            except RetryAfter as error:
                asked = error.retry_after  # seconds, or a timedelta (PTB_TIMEDELTA)
                wait = max(min(wait * 2, longest), asked.total_seconds() if isinstance(asked, timedelta) else asked)
                log.warning("Telegram asks the bot to wait: it tries again in %.0f s", wait)
            except NetworkError as error:
                wait = min(wait * 2, longest)
                log.warning("Telegram still does not answer (%s): the bot tries again in %.0f s", error, wait)
            except TelegramError as error:
                refused(error)
                return
            else:
                log.info("bot started (%s): Telegram answers again", "webhook" if self.webhook_url else "polling")
                return

    async def _start(self) -> None:
        await self.app.initialize()
        if self.app.post_init:  # run_polling and run_webhook call it; an app run by hand, as here, must
            await self.app.post_init(self.app)
        if self.webhook_url:
            await self.app.bot.set_webhook(self.webhook_url, secret_token=self.webhook_secret,
                                           allowed_updates=Update.ALL_TYPES)
        elif self.app.updater is not None:
            await self.app.bot.delete_webhook()
            await self.app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await self.app.start()

    async def _stop(self) -> None:
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()  # flushes persistence
