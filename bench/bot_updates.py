"""Telegram bot benchmark: /job REF updates per second through the real Application, beside a bare echo bot.

    .venv/bin/python bench/bot_updates.py [--updates 1000] [--rounds 3] [--no-persistence]

Goal (issue 5): the real bot answering `/job REF` (a database read and a reply with buttons) handles >= 50% of
the updates per second of a bare echo bot on the same local Bot API.

The real bot is built as `paystage run` builds it in webhook mode: bot.app.build_application with
DatabasePersistence (conversations and user_data written to the database every second), no updater, PTB's
default of one update at a time (concurrent_updates off). The echo bot is a bare python-telegram-bot Application
with one MessageHandler that sends the message's text back to its chat. Both run in this process, each on its own
BotRunner (its own event loop thread), and talk over real HTTP to one LocalBotAPI (sandbox/) served from a
second process, so Telegram's side does not take the bots' GIL (the machine has 2 cores: one for the bots, one
for the Bot API). Both bots are sent the same text, `/job REF`, from their own chat.

The database is a SQLite file in a temporary folder holding the countertop job (docs/design.md, "The countertop
job"): a contractor registered with the chat's Telegram id, a $4,000.00 job with three events, the plan set and sent
to the customer, and the $1,000.00 deposit paid.

1. Sequential: `BotRunner.process(update)` (handle one update, wait until it is done) `--updates` times in a row;
   latency per update and updates/s.
2. Concurrent: all updates are handed over with `BotRunner.feed` (what the webhook does) to the Application's
   update_queue at once, and the clock stops when the Bot API has received the last reply (wait_for_sent; the time
   is the Bot API's own stamp on that reply, so copying the replies back is not counted).

The two bots alternate, `--rounds` times per mode, and the median round is reported. Every reply is checked: the
echo bot's is the text it was sent, the real bot's names the job's reference and carries buttons; failures are
counted and shown. CPU seconds of both processes are printed, and `job_card_reply` is timed alone (no Telegram)
to show how an update's time splits between Paystage and python-telegram-bot.
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from multiprocessing.managers import BaseManager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.app import PERSISTED, build_application  # noqa: E402
from bot.commands import Services, job_card_reply  # noqa: E402
from bot.persistence import DatabasePersistence  # noqa: E402
from bot.runner import BotRunner  # noqa: E402
from core.clock import FrozenClock  # noqa: E402
from core.context import Actor, Context  # noqa: E402
from core.events import add_event  # noqa: E402
from core.jobs import Item, create_job, register_contractor  # noqa: E402
from core.links import PaymentLinks  # noqa: E402
from core.payments import record_payment  # noqa: E402
from core.plans import send_plan, set_plan  # noqa: E402
from sandbox import LocalBotAPI  # noqa: E402
from storage.database import open_database, upgrade  # noqa: E402

NOW = datetime(2026, 12, 1, 13, 30, tzinfo=timezone.utc)
TOKEN = "123456:BENCH"
CONTRACTOR_CHAT = 555  # the contractor's Telegram id and private chat
ECHO_CHAT = 556
WARM_UP = 20


class ServedBotAPI(LocalBotAPI):
    """The local Bot API as a manager serves it from its own process: proxies reach methods only, so a few are added."""

    def serve(self) -> str:
        """Start serving; the address to give a bot."""
        self.start()
        return self.base_url

    def make_updates(self, chat_id: int, text: str, n: int) -> list[dict]:
        return [self.make_message_update(chat_id, text, first_name="Granite & Co") for _ in range(n)]

    def forget_sent(self) -> None:
        """Start a phase with no replies recorded, so wait_for_sent copies this phase's only."""
        with self._lock:
            self._sent.clear()

    def replies(self, count: int, timeout: float) -> list[dict]:
        """wait_for_sent, reduced to what the benchmark checks; `at` is when the Bot API recorded the reply."""
        return [{"chat_id": m["chat_id"], "text": m["text"], "buttons": bool(m["reply_markup"]), "at": m["at"]}
                for m in self.wait_for_sent(count, timeout)]

    def cpu_seconds(self) -> float:
        return time.process_time()

    def _record_sent(self, method, message, markup, reply_to) -> None:
        super()._record_sent(method, message, markup, reply_to)
        self._sent[-1]["at"] = time.monotonic()  # CLOCK_MONOTONIC: the same clock in both processes on Linux


class BotAPIProcess(BaseManager):
    pass


BotAPIProcess.register("ServedBotAPI", ServedBotAPI, exposed=["serve", "close", "make_updates", "forget_sent",
                                                               "replies", "cpu_seconds"])


def seed(ctx: Context) -> tuple[Actor, str]:
    """The countertop job (docs/design.md), its plan sent and the deposit paid; returns its contractor and ref."""
    contractor = register_contractor(ctx, business_name="Granite & Co", telegram_id=CONTRACTOR_CHAT,
                                     phone="(415) 555-0100")
    actor = Actor.contractor(contractor.id)
    job = create_job(ctx, actor, customer_name="Dana Whitfield", phone="(415) 555-0134", title="Kitchen countertops",
                     items=[Item("Kitchen countertops", 400_000)])
    add_event(ctx, actor, job.ref, "Measurement", datetime(2026, 12, 3, 14, tzinfo=timezone.utc))
    add_event(ctx, actor, job.ref, "Removal", datetime(2026, 12, 10, 13, tzinfo=timezone.utc))
    add_event(ctx, actor, job.ref, "Installation", datetime(2026, 12, 17, 14, tzinfo=timezone.utc))
    set_plan(ctx, actor, job.ref, "25% before measurement, 25% after removal, 50% after installation")
    send_plan(ctx, actor, job.ref)
    record_payment(ctx, actor, job.ref, 100_000, "check")
    return actor, job.ref


def echo_application(base_url: str) -> Application:
    """The baseline: a bare Application that sends every text back to its chat."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_chat.send_message(update.message.text)

    app = (ApplicationBuilder().token(TOKEN).base_url(f"{base_url}/bot").base_file_url(f"{base_url}/file/bot")
           .updater(None).build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * p) - 1)]


class Bench:
    def __init__(self, bot_api, runner: BotRunner, chat_id: int, text: str, check):
        self.bot_api, self.runner, self.chat_id, self.text, self.check = bot_api, runner, chat_id, text, check
        self.failures: list[str] = []

    def sequential(self, n: int) -> tuple[float, list[float]]:
        updates = self.bot_api.make_updates(self.chat_id, self.text, n)
        self.bot_api.forget_sent()
        latencies = []
        started = time.perf_counter()
        for update in updates:
            t = time.perf_counter()
            self.runner.process(update)
            latencies.append((time.perf_counter() - t) * 1000)
        elapsed = time.perf_counter() - started
        self._verify(self.bot_api.replies(n, 60), n)
        return n / elapsed, latencies

    def concurrent(self, n: int) -> float:
        updates = self.bot_api.make_updates(self.chat_id, self.text, n)
        self.bot_api.forget_sent()
        started = time.monotonic()
        for update in updates:
            self.runner.feed(update)
        replies = self.bot_api.replies(n, 120)
        self._verify(replies, n)
        return n / (replies[-1]["at"] - started)

    def _verify(self, replies: list[dict], n: int) -> None:
        if len(replies) != n:
            self.failures.append(f"{len(replies)} replies for {n} updates")
        for reply in replies:
            problem = self.check(reply)
            if reply["chat_id"] != self.chat_id:
                problem = f"sent to chat {reply['chat_id']}"
            if problem:
                self.failures.append(f"{problem}: {reply['text'][:120]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-persistence", action="store_true",
                        help="build the real bot without DatabasePersistence (production has it)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")

    with tempfile.TemporaryDirectory() as folder, BotAPIProcess() as served:
        database = open_database(f"sqlite:///{folder}/bench.sqlite3")
        upgrade(database)
        ctx = Context(clock=FrozenClock(NOW), links=PaymentLinks("https://pay.example", "bench"))
        actor, ref = seed(ctx)
        services = Services(ctx)
        bot_api = served.ServedBotAPI(TOKEN)
        base_url = bot_api.serve()

        persistence = None if args.no_persistence else DatabasePersistence(PERSISTED)
        real = BotRunner(build_application(TOKEN, services, persistence=persistence, api_base_url=base_url,
                                           polling=False))
        echo = BotRunner(echo_application(base_url))
        real.start()
        echo.start()
        text = f"/job {ref}"
        benches = {
            "echo": Bench(bot_api, echo, ECHO_CHAT, text, lambda r: "" if r["text"] == text else "not the same text"),
            "job": Bench(bot_api, real, CONTRACTOR_CHAT, text,
                         lambda r: "" if ref in r["text"] and r["buttons"] else f"no {ref} or no buttons"),
        }
        try:
            for bench in benches.values():
                bench.sequential(WARM_UP)
            rates = {"sequential": {k: [] for k in benches}, "concurrent": {k: [] for k in benches}}
            latencies = {k: [] for k in benches}
            cpu = {k: [0.0, 0.0] for k in benches}  # this process, the Bot API's
            for _ in range(args.rounds):
                for name, bench in benches.items():
                    mine, theirs = time.process_time(), bot_api.cpu_seconds()
                    rate, samples = bench.sequential(args.updates)
                    rates["sequential"][name].append(rate)
                    latencies[name].extend(samples)
                    rates["concurrent"][name].append(bench.concurrent(args.updates))
                    cpu[name][0] += time.process_time() - mine
                    cpu[name][1] += bot_api.cpu_seconds() - theirs
        finally:
            real.stop()
            echo.stop()
            bot_api.close()

        alone = []
        for _ in range(args.updates):
            t = time.perf_counter()
            job_card_reply(services, actor, ref)
            alone.append((time.perf_counter() - t) * 1000)

    setup = "without persistence" if args.no_persistence else "with DatabasePersistence, as in production"
    print(f"{args.updates:,} updates x {args.rounds} rounds per bot and mode; real bot {setup}; "
          "concurrent_updates off (PTB's default)")
    for mode in ("sequential", "concurrent"):
        e, j = (statistics.median(rates[mode][k]) for k in ("echo", "job"))
        print(f"{mode}: echo bot {e:,.0f} updates/s, /job {j:,.0f} updates/s = {j / e:.0%} of echo"
              "   (goal >= 50%)")
        print("  rounds: " + "; ".join(f"{k} " + ", ".join(f"{r:,.0f}" for r in rates[mode][k]) for k in benches))
    for name in benches:
        print(f"sequential latency, {name}: p50 {percentile(latencies[name], 0.5):.2f} ms, "
              f"p99 {percentile(latencies[name], 0.99):.2f} ms")
    total = 2 * args.updates * args.rounds
    for name in benches:
        print(f"CPU per update, {name}: bots' process {cpu[name][0] / total * 1000:.2f} ms, "
              f"local Bot API {cpu[name][1] / total * 1000:.2f} ms")
    print(f"job_card_reply alone (database read and text, no Telegram): median {statistics.median(alone):.2f} ms, "
          f"p99 {percentile(alone, 0.99):.2f} ms")
    for name, bench in benches.items():
        print(f"reply failures, {name}: {len(bench.failures)}")
        for failure in bench.failures[:5]:
            print(f"  {failure}")
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
