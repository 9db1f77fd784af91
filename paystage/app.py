"""Start-up: building the parts from settings. The one place that knows every package."""

import logging
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from peewee import Database

from core.clock import Clock, system_clock
from core.context import Context
from core.delivery import LoggingSender, Sender
from core.dispatcher import DeliveryPolicy, Dispatcher
from core.links import PaymentLinks
from paystage.settings import Settings
from storage.database import open_database, upgrade

if TYPE_CHECKING:
    from sandbox.world import Sandbox

log = logging.getLogger(__name__)


def open_storage(settings: Settings) -> Database:
    """Connect, and bring the schema up to date: start-up always runs pending migrations."""
    database = open_database(settings.database_url)
    applied = upgrade(database)
    if applied:
        log.info("applied migrations: %s", ", ".join(applied))
    return database


def build_context(settings: Settings, clock: Clock = system_clock) -> Context:
    return Context(clock=clock, links=PaymentLinks(settings.public_base_url, settings.secret_key),
                   defaults=settings.defaults, reminders=settings.reminders, quiet_hours=settings.quiet_hours,
                   change_order_days=settings.change_order_days)


def build_senders(settings: Settings) -> dict[str, Sender]:
    senders: dict[str, Sender] = {"sms": LoggingSender("sms"), "telegram": LoggingSender("telegram")}
    if settings.twilio:
        from sms.sender import TwilioSender

        t = settings.twilio
        senders["sms"] = TwilioSender(t.account_sid, t.auth_token, from_number=t.from_number,
                                      messaging_service_sid=t.messaging_service_sid, api_base_url=t.api_base_url,
                                      status_callback=f"{settings.public_base_url}/sms/status")
    else:
        log.warning("no TWILIO_ settings: customer texts are written to the log, not sent")
    if settings.telegram:
        from bot.sender import TelegramSender

        senders["telegram"] = TelegramSender(settings.telegram.token, api_base_url=settings.telegram.api_base_url)
    else:
        log.warning("no TELEGRAM_BOT_TOKEN: messages to contractors are written to the log, not sent")
    return senders


def build_dispatcher(settings: Settings, clock: Clock = system_clock) -> Dispatcher:
    rate = settings.sms_per_second
    policy = DeliveryPolicy(quiet_hours=settings.quiet_hours, lease=settings.send_lease,
                            sms_interval=timedelta(seconds=1 / rate) if rate else None)
    t = settings.twilio
    return Dispatcher(clock, build_senders(settings), policy,
                      sms_sender_id=(t.from_number or t.messaging_service_sid) if t else "log")


def build_web_app(settings: Settings, ctx: Context | None = None):
    from sms.app import create_app

    return create_app(ctx or build_context(settings), public_base_url=settings.public_base_url,
                      twilio_auth_token=settings.twilio.auth_token if settings.twilio else None,
                      payments=build_payments(settings))


def build_payments(settings: Settings):
    """How the page takes money: Stripe Checkout, or None (the contractor's own instructions) without Stripe."""
    if settings.stripe is None:
        return None
    from sms.payments import OnlinePayments
    from sms.stripe_gateway import CHECKOUT_ORIGIN, StripeGateway

    s = settings.stripe
    return OnlinePayments(StripeGateway(s.secret_key, api_base_url=s.api_base_url), s.webhook_secrets,
                          s.bank_first_above, s.connect, checkout_origin=s.api_base_url or CHECKOUT_ORIGIN)


def build_reconciliation(settings: Settings, ctx: Context):
    """The worker's catch-up with Stripe, the events its webhook missed; None without Stripe."""
    if settings.stripe is None:
        return None
    from sms.reconciliation import Reconciliation
    from sms.stripe_gateway import StripeGateway

    s = settings.stripe
    # a Stripe that hangs holds up only the next try, not a worker stopping for minutes (its default: 80 s a call)
    gateway = StripeGateway(s.secret_key, api_base_url=s.api_base_url, timeout=10)
    return Reconciliation(ctx, gateway, connect=s.connect)


def build_worker(settings: Settings, ctx: Context):
    """The loop, the dispatcher and, with Stripe, the reconciliation: for `paystage worker` and `paystage run`."""
    from paystage.worker import Worker

    return Worker(ctx, build_dispatcher(settings), reconcile=build_reconciliation(settings, ctx))


def web_server(app, host: str, port: int):
    """The waitress server of `paystage run` and `paystage web`: the same limits whichever serves the app.

    waitress refuses a body over the largest a route takes after reading only the headers (413). The same cap
    bounds a chunked body whose size line never ends: waitress keeps that line and searches all of it again on
    every read, which without a cap held its I/O thread at 100% CPU (docs/benchmarks.md, "Request limits").
    """
    import waitress

    from sms.request_limits import LARGEST_BODY

    # waitress refuses a body of max_request_body_size or more; Flask one over its route's limit
    return waitress.create_server(app, host=host, port=port, ident="paystage", max_request_body_size=LARGEST_BODY + 1)


def build_bot(settings: Settings, ctx: Context):
    """The bot, ready to start: polling, or a webhook at PUBLIC_BASE_URL/telegram/webhook. None without a token."""
    if settings.telegram is None:
        return None
    from bot.app import PERSISTED, build_application
    from bot.commands import OnlinePaymentsSetup, Services
    from bot.persistence import DatabasePersistence
    from bot.runner import BotRunner

    t = settings.telegram
    webhook = t.mode == "webhook"
    payments = build_payments(settings)
    setup = payments and OnlinePaymentsSetup(payments.connect, payments.gateway, settings.public_base_url)
    app = build_application(t.token, Services(ctx, t.allowed_ids, payments=setup),
                            persistence=DatabasePersistence(PERSISTED),
                            api_base_url=t.api_base_url, polling=not webhook)
    return BotRunner(app, webhook_url=f"{settings.public_base_url}/telegram/webhook" if webhook else None,
                     webhook_secret=t.webhook_secret)


def start_sandbox(env: dict[str, str], settings: Settings) -> tuple[Settings, "Sandbox"]:
    """The sandbox's world started, and the settings of a run against it: `env` with the world's on top.

    The same Settings.from_env as the live product's, with the local Bot API, Twilio and Stripe's addresses and
    keys, and three values of the sandbox's own:
    - the database is DATA_DIR/sandbox.sqlite3, made fresh at every start, whatever DATABASE_URL says. Never the
      live database: a visitor's made-up jobs there would be real jobs to a later live run, whose worker would text
      the numbers typed in play, and a sandbox contractor would own the business. Fresh, because the world the
      rows refer to (the chats, the phones, the Stripe sessions) lives in this process and ends with it.
    - PUBLIC_BASE_URL is where this process listens (http://HOST:PORT), so every link and webhook stays on this
      machine, even with a public address in .env for the live product;
    - the bot polls: the local Bot API hands out updates, it posts to no webhook.
    """
    from sandbox.world import Sandbox

    host = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host
    address = f"http://[{host}]:{settings.port}" if ":" in host else f"http://{host}:{settings.port}"
    database = settings.data_dir / "sandbox.sqlite3"
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)
    world = Sandbox(address).start()
    try:
        return Settings.from_env({**env, **world.env(), "DATABASE_URL": f"sqlite:///{database}",
                                  "PUBLIC_BASE_URL": address, "TELEGRAM_MODE": "polling"}), world
    except Exception:
        world.close()
        raise


def run_all(settings: Settings, world: "Sandbox | None" = None) -> None:
    """`paystage run`: the web app, the bot and the worker in one process, on one database, until stopped.

    With `world` (start_sandbox's), the sandbox: the same parts against the world's local servers, its page
    served at /, and the world closed when the rest has stopped."""
    try:
        _run_all(settings, world)
    finally:
        if world:
            world.close()


def _run_all(settings: Settings, world: "Sandbox | None") -> None:
    open_storage(settings)
    ctx = build_context(settings)
    bot = build_bot(settings, ctx)
    web = build_web_app(settings, ctx)
    if bot and bot.webhook_url:
        from bot.webhook import webhook_blueprint

        web.register_blueprint(webhook_blueprint(settings.telegram.webhook_secret, bot))
    if world:
        from sandbox.web import sandbox_blueprint

        web.register_blueprint(sandbox_blueprint(world))
    server = web_server(web, settings.host, settings.port)
    worker = build_worker(settings, ctx)
    stopping = _stop_on_signals()
    threading.Thread(target=server.run, name="web", daemon=True).start()
    worker.start()
    if bot:
        bot.start()
    log.info("Paystage is running: web on http://%s:%d, bot %s, worker on", settings.host, settings.port,
             settings.telegram.mode if bot else "not configured (no TELEGRAM_BOT_TOKEN)")
    if world:
        log.info("this is the sandbox: the bot, the texts and the payments go to local stand-ins for Telegram, "
                 "Twilio and Stripe in this process, and nothing leaves this machine (database %s, fresh at "
                 "every start). Set TELEGRAM_BOT_TOKEN and TWILIO_* for the live product (README). Ctrl-C stops.",
                 settings.database_url.removeprefix("sqlite:///"))
        # the last line, bare: the address to open, where a terminal makes it a link
        print(f"Open {settings.public_base_url}/", file=sys.stderr, flush=True)
    elif not (settings.telegram or settings.twilio):
        log.warning("no Telegram or Twilio settings (PAYSTAGE_SANDBOX=off): messages go to this log. Put "
                    "TELEGRAM_BOT_TOKEN and TWILIO_* in .env (README), or run `make demo` to see the whole story. "
                    "Ctrl-C stops.")
    stopping.wait()
    log.info("stopping")
    if bot:
        bot.stop()  # the update in flight finishes; conversation state is flushed
    worker.stop()  # the send in flight finishes
    server.close()


def run_web(settings: Settings) -> None:
    """`paystage web`: the web app under waitress, a production WSGI server."""
    open_storage(settings)
    server = web_server(build_web_app(settings), settings.host, settings.port)
    log.info("serving on http://%s:%d (public address %s)", settings.host, settings.port, settings.public_base_url)
    server.run()


def run_worker(settings: Settings) -> None:
    """`paystage worker`: the loop, the dispatcher and the reconciliation until SIGTERM or Ctrl-C."""
    open_storage(settings)
    worker = build_worker(settings, build_context(settings))
    stopping = _stop_on_signals()
    worker.start()
    stopping.wait()
    worker.stop()


def _stop_on_signals() -> threading.Event:
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    return stopping
