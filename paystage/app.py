"""Start-up: building the parts from settings. The one place that knows every package.

Whatever start-up needs and cannot have is one line, raised as SettingError (fix a setting: exit code 2) or
Unavailable (a service or a resource is not there now: exit code 3), checked before anything starts in the order
a person would fix them: the SQLite writer lock, the port, the database, Telegram's answer to the token. Telegram
that does not answer is no reason to stop `paystage run`: the bot starts when it does (bot/runner.py).
"""

import errno
import logging
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from peewee import Database, DatabaseError, InterfaceError

from core.clock import Clock, system_clock
from core.context import Context
from core.delivery import LoggingSender, Sender
from core.dispatcher import DeliveryPolicy, Dispatcher, Observe
from core.links import PaymentLinks
from paystage.metrics import Metrics, serve_metrics
from paystage.settings import SettingError, Settings, Unavailable, shown_url
from storage.database import DatabaseInUse, hold_writer_lock, open_database, sqlite_file, upgrade

if TYPE_CHECKING:
    from sandbox.world import Sandbox

log = logging.getLogger(__name__)


def open_storage(settings: Settings) -> Database:
    """Connect, and bring the schema up to date: start-up always runs pending migrations."""
    return migrate(connect_storage(settings))


def connect_storage(settings: Settings) -> Database:
    """Connect to DATABASE_URL now, so that a database that cannot be had is one line at start, not a traceback
    at the first query."""
    try:
        database = open_database(settings.database_url)
        database.connect(reuse_if_open=True)
    except (OSError, DatabaseError, InterfaceError) as error:
        raise database_failure(settings.database_url, error) from None
    return database


def database_failure(url: str, error: Exception) -> SettingError | Unavailable:
    """The line for a database that could not be opened: what the driver said, and what to do about it."""
    said = " ".join(str(error).split()) or type(error).__name__
    file = sqlite_file(url)
    if file is not None:
        if "database is locked" in said:  # another process kept a write transaction past busy_timeout
            return Unavailable(f"the SQLite database {file} (DATABASE_URL) stays locked by another process; "
                               "try again when it is done")
        return SettingError(f"DATABASE_URL: cannot open the SQLite database {file}: {said}; check the path, and "
                            "that this user may write in its folder")
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    reason = " ".join(first.rpartition(" failed: ")[2].replace("FATAL:", "").split())
    where = shown_url(url)
    if any(words in said for words in ("does not exist", "authentication failed", "no password supplied")):
        return SettingError(f"DATABASE_URL={where!r}: PostgreSQL refused the connection ({reason}); fix "
                            "DATABASE_URL")
    return Unavailable(f"DATABASE_URL={where!r}: PostgreSQL does not answer ({reason}); start it, or fix "
                       "DATABASE_URL")


def hold_the_database(url: str) -> None:
    """The SQLite writer lock (storage.database.hold_writer_lock), as one line when another process has it."""
    try:
        hold_writer_lock(url)
    except DatabaseInUse as error:
        holder = f" (process {error.holder})" if error.holder else ""
        raise Unavailable(f"{error.path} is in use by another `paystage worker` or `paystage run`{holder}: on "
                          "SQLite one runs at a time. Stop it first, or run several on PostgreSQL (DATABASE_URL)"
                          ) from None
    except OSError as error:
        raise database_failure(url, error) from None


def migrate(database: Database) -> Database:
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


def build_dispatcher(settings: Settings, clock: Clock = system_clock, observe: Observe | None = None) -> Dispatcher:
    rate = settings.sms_per_second
    policy = DeliveryPolicy(quiet_hours=settings.quiet_hours, lease=settings.send_lease,
                            sms_interval=timedelta(seconds=1 / rate) if rate else None)
    t = settings.twilio
    return Dispatcher(clock, build_senders(settings), policy,
                      sms_sender_id=(t.from_number or t.messaging_service_sid) if t else "log", observe=observe)


def build_web_app(settings: Settings, ctx: Context | None = None, metrics: Metrics | None = None):
    from sms.app import create_app

    return create_app(ctx or build_context(settings), public_base_url=settings.public_base_url,
                      twilio_auth_token=settings.twilio.auth_token if settings.twilio else None,
                      payments=build_payments(settings), on_request=metrics.on_request if metrics else None)


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


def build_worker(settings: Settings, ctx: Context, metrics: Metrics | None = None):
    """The loop, the dispatcher and, with Stripe, the reconciliation: for `paystage worker` and `paystage run`."""
    from paystage.worker import Worker

    return Worker(ctx, build_dispatcher(settings, observe=metrics.observe if metrics else None),
                  reconcile=build_reconciliation(settings, ctx), dispatchers=settings.dispatchers)


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


def bind_web_server(app, settings: Settings):
    """web_server on HOST:PORT, listening from here on; a port or host it cannot have is one line."""
    where = f"{settings.host}:{settings.port}"
    try:
        return web_server(app, settings.host, settings.port)
    except ValueError:  # waitress: the host did not resolve
        raise SettingError(f"HOST={settings.host!r} is no address of this machine: 127.0.0.1 (this machine "
                           "only) or 0.0.0.0 (every address)") from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise Unavailable(f"PORT={settings.port}: another program already listens on {where}; stop it, or "
                              "set PORT to a free port") from None
        if error.errno == errno.EADDRNOTAVAIL:
            raise SettingError(f"HOST={settings.host!r} is no address of this machine: 127.0.0.1 (this machine "
                               "only) or 0.0.0.0 (every address)") from None
        if error.errno == errno.EACCES:
            raise SettingError(f"PORT={settings.port}: this user may not listen on {where} (ports below 1024 "
                               "need root); use a higher PORT behind a proxy") from None
        raise


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
    hold_the_database(f"sqlite:///{database}")  # another sandbox runs on it: leave its file alone
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
    hold_the_database(settings.database_url)
    ctx = build_context(settings)
    metrics = Metrics()
    bot = build_bot(settings, ctx)
    if bot:
        metrics.watch_bot(bot.app)
    web = build_web_app(settings, ctx, metrics)
    if bot and bot.webhook_url:
        from bot.webhook import webhook_blueprint

        web.register_blueprint(webhook_blueprint(settings.telegram.webhook_secret, bot))
    if world:
        from sandbox.web import sandbox_blueprint

        web.register_blueprint(sandbox_blueprint(world))
    server = bind_web_server(web, settings)
    try:
        database = connect_storage(settings)
        reachable = bot is not None and _telegram_answers(bot)
        migrate(database)
        serve_metrics(settings, metrics, database)
    except BaseException:
        server.close()
        raise
    worker = build_worker(settings, ctx, metrics)
    stopping = _stop_on_signals()
    refusals: list[str] = []  # Telegram refused the bot after all: the process stops, and says why

    def refused(error) -> None:
        refusals.append(_telegram_refusal(error))
        stopping.set()

    threading.Thread(target=server.run, name="web", daemon=True).start()
    worker.start()
    if reachable:
        _start_bot(bot, refused)
    elif bot:
        bot.start_when_reachable(refused)
    log.info("Paystage is running: web on http://%s:%d, bot %s, worker on", settings.host, settings.port,
             "not configured (no TELEGRAM_BOT_TOKEN)" if bot is None else settings.telegram.mode if reachable
             else "waiting for Telegram")
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
    if refusals:
        raise SettingError(refusals[0])


def _telegram_answers(bot) -> bool:
    """Whether Telegram answers the bot now (False: it starts later, when it does); SettingError if Telegram
    refuses its token."""
    from telegram.error import NetworkError, RetryAfter, TelegramError

    from bot.runner import FIRST_WAIT

    try:
        bot.check()
    except (NetworkError, RetryAfter, TimeoutError) as error:
        log.warning("Telegram does not answer (%s): the web app and the worker run, and the bot starts when "
                    "Telegram answers (next try in %.0f s, then less often)", error, FIRST_WAIT)
        return False
    except TelegramError as error:
        raise SettingError(_telegram_refusal(error)) from None
    return True


def _start_bot(bot, refused) -> None:
    """Start the bot now; if Telegram stops answering halfway, go on trying in the background."""
    from telegram.error import NetworkError, RetryAfter, TelegramError

    try:
        bot.start()
    except (NetworkError, RetryAfter, TimeoutError) as error:
        log.warning("Telegram stopped answering while the bot started (%s): it tries again shortly", error)
        bot.start_when_reachable(refused)
    except TelegramError as error:
        refused(error)


def _telegram_refusal(error) -> str:
    """The line for Telegram refusing the bot. Never the error's own text for a token: PTB's quotes it."""
    from telegram.error import InvalidToken

    if isinstance(error, InvalidToken):
        return ("TELEGRAM_BOT_TOKEN was refused by Telegram (401 Unauthorized): copy it again from @BotFather "
                "(/mybots, API Token)")
    return f"Telegram refused to start the bot ({error.message}): check TELEGRAM_MODE and PUBLIC_BASE_URL"


def run_web(settings: Settings) -> None:
    """`paystage web`: the web app under waitress, a production WSGI server."""
    metrics = Metrics()
    server = bind_web_server(build_web_app(settings, metrics=metrics), settings)
    try:
        serve_metrics(settings, metrics, open_storage(settings))
    except BaseException:
        server.close()
        raise
    log.info("serving on http://%s:%d (public address %s)", settings.host, settings.port, settings.public_base_url)
    server.run()


def run_worker(settings: Settings) -> None:
    """`paystage worker`: the loop, the dispatcher and the reconciliation until SIGTERM or Ctrl-C."""
    hold_the_database(settings.database_url)
    metrics = Metrics()
    serve_metrics(settings, metrics, open_storage(settings))
    worker = build_worker(settings, build_context(settings), metrics)
    stopping = _stop_on_signals()
    worker.start()
    stopping.wait()
    worker.stop()


def _stop_on_signals() -> threading.Event:
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    return stopping
