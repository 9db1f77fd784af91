"""Shared fixtures: a fresh, migrated database per test on every backend we support.

Storage tests run on SQLite always and on PostgreSQL when
PAYSTAGE_TEST_POSTGRES_URL names a server (otherwise they are skipped, which
pytest's summary reports as one line).
"""

from datetime import datetime, timezone

import pytest

from sandbox import LocalBotAPI, LocalTwilioAPI
from storage.database import open_database, upgrade
from storage.models import MODELS
from tests.databases import POSTGRES_URL

_postgres_ready = False


def _fresh_postgres():
    """Migrate once per session, then empty every table before each test."""
    global _postgres_ready
    database = open_database(POSTGRES_URL)
    if not _postgres_ready:
        database.execute_sql("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
        upgrade(database)
        _postgres_ready = True
    tables = ", ".join(f'"{m._meta.table_name}"' for m in MODELS)
    database.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return database


def pytest_terminal_summary(terminalreporter):
    if not POSTGRES_URL:
        terminalreporter.write_line(
            "PostgreSQL: storage tests ran on SQLite only; set PAYSTAGE_TEST_POSTGRES_URL to run them there too"
        )
    from tests import browser

    if browser.deselected:
        terminalreporter.write_line(
            f"Browser: {len(browser.deselected)} page tests not run: {browser.missing()}"
        )


@pytest.fixture(params=["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"])
def database(request, tmp_path):
    """A migrated database the models are bound to (a temporary file for SQLite: threads see it too)."""
    if request.param == "postgres":
        database = _fresh_postgres()
    else:
        database = open_database(f"sqlite:///{tmp_path / 'paystage.sqlite3'}")
        upgrade(database)
    yield database
    database.close()


@pytest.fixture
def utc():
    """Build an aware UTC datetime: utc(2026, 12, 1, 9)."""
    return lambda *parts: datetime(*parts, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    from core.clock import FrozenClock

    return FrozenClock(datetime(2026, 12, 1, 13, 30, tzinfo=timezone.utc))


@pytest.fixture
def ctx(database, clock):
    """A use-case context on the test database with a clock that moves only when told."""
    from core.context import Context
    from core.links import PaymentLinks

    return Context(clock=clock, links=PaymentLinks("https://pay.example", "test-secret"))


@pytest.fixture
def contractor(ctx):
    """A registered contractor with a Telegram chat, as the actor of their own use cases."""
    from core.context import Actor
    from core.jobs import register_contractor

    row = register_contractor(ctx, business_name="Granite & Co", telegram_id=555, phone="(415) 555-0100")
    return Actor.contractor(row.id)


@pytest.fixture
def countertop_job(ctx, contractor, utc):
    """docs/design.md's countertop job: $4,000.00, Measurement, Removal, Installation; returns its ref."""
    from core.events import add_event
    from core.jobs import Item, create_job

    job = create_job(ctx, contractor, customer_name="Dana Whitfield", phone="(415) 555-0134",
                     title="Kitchen countertops", items=[Item("Kitchen countertops", 400_000)])
    add_event(ctx, contractor, job.ref, "Measurement", utc(2026, 12, 3, 14))
    add_event(ctx, contractor, job.ref, "Removal", utc(2026, 12, 10, 13))
    add_event(ctx, contractor, job.ref, "Installation", utc(2026, 12, 17, 14))
    return job.ref


PLAN = "25% before measurement, 25% after removal, 50% after installation"


@pytest.fixture
def planned(ctx, contractor, countertop_job):
    """The countertop job with its plan (docs/design.md) set and sent to the customer; returns its ref."""
    from core.plans import send_plan, set_plan

    set_plan(ctx, contractor, countertop_job, PLAN)
    send_plan(ctx, contractor, countertop_job)
    return countertop_job


@pytest.fixture
def outbox():
    """Messages queued so far, oldest first: outbox() -> [(channel, kind, body)]."""
    from storage.models import OutboxMessage

    def read(kind=None):
        query = OutboxMessage.select().order_by(OutboxMessage.id)
        rows = [(m.channel, m.kind, m.body) for m in query]
        return [r for r in rows if kind is None or r[1] == kind]

    return read


@pytest.fixture
def api():
    """Telegram's Bot API, the local one over real HTTP (a module that needs another token makes its own)."""
    with LocalBotAPI() as api:
        yield api


@pytest.fixture
def twilio_api():
    """Twilio's Messages API, the local one over real HTTP."""
    with LocalTwilioAPI() as api:
        yield api


@pytest.fixture
def stripe_api(clock):
    """Stripe's API, the local one over real HTTP, its sessions expiring by the test's clock (signatures use
    real time: stripe-python checks them against it)."""
    from sandbox import LocalStripeAPI

    with LocalStripeAPI() as api:
        api.clock = lambda: clock().timestamp()
        yield api


@pytest.fixture
def gateway(stripe_api):
    """The product's Stripe gateway, pointed at the local Stripe."""
    from sms.stripe_gateway import StripeGateway

    return StripeGateway(stripe_api.secret_key, api_base_url=stripe_api.base_url)


@pytest.fixture
def removal_due(ctx, contractor, clock, planned):
    """The countertop job nine days on: measurement paid in cash, removal done and its $1,000.00 due now."""
    from core.events import mark_event_done
    from core.payments import record_payment

    record_payment(ctx, contractor, planned, 100_000, "cash")
    clock.advance(days=9)
    mark_event_done(ctx, contractor, planned, "Removal")
    return planned


@pytest.fixture
def bot(api, ctx):
    """The real bot Application against the local Bot API, handling one update at a time when told."""
    from tests.bot_harness import start_bot

    runner = start_bot(api, ctx)
    yield runner
    runner.stop()


@pytest.fixture
def chat(api, bot):
    """The owner's private chat with the bot, after /start."""
    from tests.bot_harness import Chat

    chat = Chat(api, bot, chat_id=555)
    chat.say("/start")
    return chat
