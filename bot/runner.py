"""Running the bot beside the rest of the process: its own event loop, in a thread of its own.

The web app (Flask, threads) and the worker (threads) are synchronous; the
bot is asyncio. The runner owns the bot's loop, starts polling or registers
the webhook, hands webhook updates over thread-safely, and on stop lets the
update in flight finish and flushes persistence.
"""

import asyncio
import logging
import threading

from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)


class BotRunner:
    def __init__(self, app: Application, *, webhook_url: str | None = None, webhook_secret: str | None = None):
        self.app = app
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="telegram-bot", daemon=True)

    def start(self, timeout: float = 30) -> None:
        self._thread.start()
        self._call(self._start(), timeout)
        log.info("bot started (%s)", "webhook" if self.webhook_url else "polling")

    def stop(self, timeout: float = 30) -> None:
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

    def _call(self, coroutine, timeout: float):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

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
