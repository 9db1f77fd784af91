"""An install from the first release, upgraded: its rows survive every migration and the use cases work on them.

The database is made by the oldest migration alone and filled with raw SQL in that migration's schema (the models
are the schema of now), as a business using it would have left it: a contractor, a job with its plan half paid, a
text sent, an audit record. Then `upgrade()` brings it to the newest migration, as start-up does (docs/deploy.md,
"Upgrading"). On SQLite, and on PostgreSQL when PAYSTAGE_TEST_POSTGRES_URL is set.
"""

from datetime import datetime, timezone

import pytest
from playhouse.migrations import Runner
from playhouse.schema_diff import diff_models

from core.clock import FrozenClock
from core.context import Actor, Context
from core.links import PaymentLinks
from storage.database import MIGRATIONS, open_database, pending, upgrade
from storage.models import MODELS
from tests.databases import POSTGRES_URL, private_database

REF = "J-7K2Q"
# In 0001's schema. Foreign keys are looked up, not assumed: PostgreSQL's sequences hand out the ids.
CONTRACTOR = "(SELECT id FROM contractor WHERE telegram_id = 555)"
JOB = f"(SELECT id FROM job WHERE ref = '{REF}')"


def event(name):
    return f"(SELECT id FROM event WHERE name = '{name}' AND job_id = {JOB})"


def milestone(label):
    return f"(SELECT id FROM milestone WHERE label = '{label}' AND job_id = {JOB})"


ROWS_OF_0001 = [
    "INSERT INTO contractor (telegram_id, business_name, phone, timezone, currency, locale, payment_instructions, "
    "created_at) VALUES (555, 'Granite & Co', '+14155550100', 'America/New_York', 'USD', 'en_US', "
    "'Zelle to pay@granite.example', '2026-01-05 15:00:00')",
    "INSERT INTO contractor (telegram_id, business_name, phone, timezone, currency, locale, payment_instructions, "
    "created_at) VALUES (777, 'Second Crew', '', 'America/Chicago', 'USD', 'en_US', '', '2026-02-01 15:00:00')",
    "INSERT INTO customer (contractor_id, name, phone, timezone, opted_out_at, created_at) VALUES "
    f"({CONTRACTOR}, 'Dana Whitfield', '+14155550134', 'America/New_York', NULL, '2026-01-05 15:01:00')",
    "INSERT INTO job (ref, contractor_id, customer_id, title, currency, locale, state, plan_sent_at, created_at) "
    f"VALUES ('{REF}', {CONTRACTOR}, (SELECT id FROM customer WHERE phone = '+14155550134'), "
    "'Kitchen countertops', 'USD', 'en_US', 'active', '2026-01-05 15:05:00', '2026-01-05 15:01:00')",
    f"INSERT INTO line_item (job_id, position, description, amount) VALUES ({JOB}, 0, 'Kitchen countertops', 400000)",
    "INSERT INTO event (job_id, position, name, scheduled_at, state, done_at) VALUES "
    f"({JOB}, 0, 'Measurement', '2026-01-07 14:00:00', 'done', '2026-01-07 15:00:00')",
    "INSERT INTO event (job_id, position, name, scheduled_at, state, done_at) VALUES "
    f"({JOB}, 1, 'Removal', '2026-01-14 14:00:00', 'done', '2026-01-14 16:00:00')",
    # typed as a day ("Jan 21"): the start of that day where the customer is, which 0008 shows as a day
    "INSERT INTO event (job_id, position, name, scheduled_at, state, done_at) VALUES "
    f"({JOB}, 2, 'Installation', '2026-01-21 05:00:00', 'scheduled', NULL)",
    "INSERT INTO milestone (job_id, position, label, percent, fixed, trigger_kind, event_id, lead_minutes, "
    "net_days, trigger_date, amount, paid, due_at, announced_at, reminders_sent) VALUES "
    f"({JOB}, 0, 'Before Measurement', 2500, NULL, 'before', {event('Measurement')}, 0, 0, NULL, 100000, 100000, "
    "'2026-01-05 15:05:00', '2026-01-05 15:05:00', 0)",
    "INSERT INTO milestone (job_id, position, label, percent, fixed, trigger_kind, event_id, lead_minutes, "
    "net_days, trigger_date, amount, paid, due_at, announced_at, reminders_sent) VALUES "
    f"({JOB}, 1, 'After Removal', 2500, NULL, 'after', {event('Removal')}, 0, 0, NULL, 100000, 0, "
    "'2026-01-14 16:00:00', '2026-01-14 16:00:00', 0)",
    "INSERT INTO milestone (job_id, position, label, percent, fixed, trigger_kind, event_id, lead_minutes, "
    "net_days, trigger_date, amount, paid, due_at, announced_at, reminders_sent) VALUES "
    f"({JOB}, 2, 'After Installation', 5000, NULL, 'after', {event('Installation')}, 0, 0, NULL, 200000, 0, "
    "NULL, NULL, 0)",
    "INSERT INTO payment (job_id, amount, method, reference, milestone_id, received_at, actor) VALUES "
    f"({JOB}, 100000, 'cash', NULL, NULL, '2026-01-06 10:00:00', 'contractor:1')",
    "INSERT INTO payment_part (payment_id, milestone_id, amount) VALUES "
    f"((SELECT id FROM payment WHERE job_id = {JOB}), {milestone('Before Measurement')}, 100000)",
    "INSERT INTO outbox_message (channel, recipient, body, kind, dedupe_key, job_id, reply, state, attempts, "
    "next_attempt_at, created_at, sent_at, provider_id, last_error) VALUES ('sms', '+14155550134', "
    "'Granite & Co: we received $1,000.00 for Kitchen countertops. Thank you!', 'receipt', 'payment:1:receipt', "
    f"{JOB}, FALSE, 'sent', 1, '2026-01-06 10:00:00', '2026-01-06 10:00:00', '2026-01-06 10:00:05', "
    "'SM0123456789abcdef0123456789abcdef', '')",
    "INSERT INTO audit_record (job_id, actor, at, kind, old, new) VALUES "
    f"({JOB}, 'contractor:1', '2026-01-06 10:00:00', 'payment_recorded', '{{}}', "
    "'{\"amount\": 100000, \"method\": \"cash\"}')",
    "INSERT INTO inbound_message (provider_id, channel, received_at) VALUES "
    "('SM-inbound-1', 'sms', '2026-01-06 11:00:00')",
]


@pytest.fixture(params=["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"])
def first_release(request, tmp_path):
    """A database made by 0001_initial alone, with a business's rows in it; the models bound to it."""
    with private_database(request.param, tmp_path / "paystage.sqlite3", "paystage_upgrade") as url:
        database = open_database(url)
        Runner(database, directory=str(MIGRATIONS)).up(target="0001_initial")
        with database.atomic():
            for sql in ROWS_OF_0001:
                database.execute_sql(sql)
        yield database
        database.close()


def test_upgrading_the_first_release_applies_every_later_migration_and_matches_the_models(first_release):
    later = sorted(path.stem for path in MIGRATIONS.glob("[0-9]*.py"))[1:]
    assert pending(first_release) == later
    assert upgrade(first_release) == later
    assert pending(first_release) == []
    assert not diff_models(first_release, MODELS)


def test_the_first_releases_job_reads_the_same_after_upgrading(first_release):
    from core.jobs import job_status

    upgrade(first_release)
    ctx = _context(datetime(2026, 1, 15, 12, tzinfo=timezone.utc))
    view = job_status(ctx, _owner(), REF)
    assert (view.title, view.customer_name, view.business_name) == ("Kitchen countertops", "Dana Whitfield",
                                                                  "Granite & Co")
    assert (view.total, view.paid, view.remaining) == (400_000, 100_000, 300_000)
    assert [(m.label, m.amount, m.paid) for m in view.milestones] == [
        ("Before Measurement", 100_000, 100_000), ("After Removal", 100_000, 0), ("After Installation", 200_000, 0)]
    assert [m.label for m in view.due_now] == ["After Removal"]
    assert [(e.name, e.state, e.date_only) for e in view.events] == [
        ("Measurement", "done", False), ("Removal", "done", False), ("Installation", "scheduled", True)]
    assert (view.language, view.business_language, view.change_order) == ("en", "en", None)


def test_the_first_releases_job_takes_new_payments_and_events_after_upgrading(first_release):
    from core.events import mark_event_done
    from core.export import job_history
    from core.payments import record_payment
    from storage.models import OutboxMessage

    upgrade(first_release)
    ctx = _context(datetime(2026, 1, 15, 12, tzinfo=timezone.utc))
    paid = record_payment(ctx, _owner(), REF, 100_000, "check")
    assert (paid.job.paid, [m.paid for m in paid.job.milestones]) == (200_000, [100_000, 100_000, 0])
    done = mark_event_done(ctx, _owner(), REF, "Installation")
    assert [m.label for m in done.job.due_now] == ["After Installation"]
    due = OutboxMessage.select().where(OutboxMessage.kind == "payment_due").get()
    assert "$2,000.00" in due.body and "https://pay.example/p/" in due.body
    history = job_history(ctx, Actor.system("cli"), REF)  # the old audit record and text are in its paper trail
    assert {"payment_recorded", "receipt"} <= {row.kind for row in history}


def test_the_earliest_contractor_of_the_first_release_owns_it_after_upgrading(first_release):
    from core.access import owner_id
    from storage.models import Contractor

    upgrade(first_release)
    assert owner_id() == Contractor.get(Contractor.telegram_id == 555).id
    assert Contractor.select().count() == 2


def _context(now: datetime) -> Context:
    return Context(clock=FrozenClock(now), links=PaymentLinks("https://pay.example", "upgrade-test-secret"))


def _owner() -> Actor:
    from core.jobs import contractor_by_telegram

    return Actor.contractor(contractor_by_telegram(555).id)
