"""The storage layer: migrations build the schema the models describe, and the database keeps its promises.

Most tests run on SQLite and, when PAYSTAGE_TEST_POSTGRES_URL is set, on PostgreSQL
(the `database` fixture in conftest.py).
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from peewee import IntegrityError, Table, fn
from playhouse.migrations import Runner
from playhouse.schema_diff import diff_models

from storage.database import MIGRATIONS, open_database, pending, upgrade
from storage.models import (
    MODELS,
    Contractor,
    Customer,
    Event,
    Job,
    LineItem,
    Milestone,
    OutboxMessage,
    Payment,
    PaymentPart,
    db,
)
from tests.databases import POSTGRES_URL, private_database

CREATED = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def _contractor(name="Ada Plumbing"):
    return Contractor.create(
        business_name=name, timezone="America/New_York", currency="USD", locale="en_US", created_at=CREATED
    )


def _customer(contractor, phone="+14155550134"):
    return Customer.create(
        contractor=contractor, name="Grace", phone=phone, timezone="America/New_York", created_at=CREATED
    )


def _job(ref="J-7K2Q"):
    contractor = _contractor()
    customer = _customer(contractor)
    return Job.create(
        ref=ref,
        contractor=contractor,
        customer=customer,
        title="Kitchen remodel",
        currency="USD",
        locale="en_US",
        created_at=CREATED,
    )


def _milestone(job, label="Deposit", **fields):
    return Milestone.create(job=job, position=1, label=label, trigger_kind="now", **fields)


def _outbox(dedupe_key, job=None):
    return OutboxMessage.create(
        channel="sms",
        recipient="+14155550134",
        body="Deposit of $1,000.00 is due.",
        kind="payment_due",
        dedupe_key=dedupe_key,
        job=job,
        next_attempt_at=CREATED,
        created_at=CREATED,
    )


def _index(database, table, columns):
    """The index on exactly these columns, in this order, or None."""
    for index in database.get_indexes(table):
        if list(index.columns) == columns:
            return index
    return None


# -- fresh databases -----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"])
def fresh_database(request, tmp_path):
    """An empty, unmigrated database the models are bound to (a throwaway PostgreSQL database for postgres)."""
    with private_database(request.param, tmp_path / "nested" / "fresh.sqlite3", "paystage_fresh") as url:
        database = open_database(url)
        yield database
        database.close()


ALL_MIGRATIONS = sorted(path.stem for path in MIGRATIONS.glob("[0-9]*.py"))


def test_a_fresh_database_has_every_migration_pending_in_order(fresh_database):
    assert pending(fresh_database) == ALL_MIGRATIONS
    assert ALL_MIGRATIONS[:2] == ["0001_initial", "0002_delivery"]


def test_upgrade_applies_each_migration_once(fresh_database):
    assert upgrade(fresh_database) == ALL_MIGRATIONS
    assert upgrade(fresh_database) == []
    assert pending(fresh_database) == []


def test_upgrading_a_database_with_data_keeps_its_rows(fresh_database):
    Runner(fresh_database, directory=str(MIGRATIONS)).up(target="0001_initial")
    fresh_database.execute_sql(
        "INSERT INTO contractor (business_name, phone, timezone, currency, locale, payment_instructions, created_at)"
        " VALUES ('Old Co', '', 'UTC', 'USD', 'en_US', '', '2026-01-01 00:00:00')")
    assert upgrade(fresh_database) == ALL_MIGRATIONS[1:]
    assert Contractor.get().business_name == "Old Co"
    assert not diff_models(fresh_database, MODELS)


def test_upgrading_makes_an_event_at_its_customers_midnight_a_day_without_a_time(fresh_database):
    """Before 0008 "Dec 3" was stored as midnight where the customer is (the page showed "12:00 AM")."""
    Runner(fresh_database, directory=str(MIGRATIONS)).up(target="0007_checkout")

    def row(table, **columns):  # the schema of 0007, written as SQL: the models are the schema of now
        Table(table).bind(fresh_database).insert(id=1, **columns).execute()

    row("contractor", business_name="Old Co", phone="", timezone="America/New_York", currency="USD",
        locale="en_US", payment_instructions="", created_at=CREATED.replace(tzinfo=None), payment_account_ready=False)
    row("customer", contractor_id=1, name="Grace", phone="+14155550134", timezone="America/New_York",
        created_at=CREATED.replace(tzinfo=None))
    row("job", ref="J-7K2Q", contractor_id=1, customer_id=1, title="Kitchen", currency="USD", locale="en_US",
        state="active", created_at=CREATED.replace(tzinfo=None))
    events = [("Measurement", datetime(2026, 12, 3, 5)),  # 00:00 in New York
              ("Removal", datetime(2026, 12, 10, 0)),  # 19:00 the day before there
              ("Installation", None)]
    for position, (name, at) in enumerate(events):
        Table("event").bind(fresh_database).insert(job_id=1, position=position, name=name, scheduled_at=at,
                                                   state="scheduled").execute()
    upgrade(fresh_database)
    assert {e.name: e.date_only for e in Event.select()} == {
        "Measurement": True, "Removal": False, "Installation": False}
    assert Event.get(Event.name == "Measurement").scheduled_at == datetime(2026, 12, 3, 5, tzinfo=timezone.utc)


def test_a_freshly_migrated_database_matches_the_models(fresh_database):
    upgrade(fresh_database)
    diff = diff_models(fresh_database, MODELS)
    assert not diff, f"migrations and storage.models disagree:\n{diff}"


# -- the migrated schema ---------------------------------------------------------------------------


def test_migrated_schema_has_every_table_column_and_index_of_the_models(database):
    diff = diff_models(database, MODELS)
    assert not diff, f"migrations and storage.models disagree:\n{diff}"


def test_migrated_columns_have_the_models_nullability_and_foreign_keys(database):
    """diff_models compares names only; a NOT NULL or a foreign key missing from a migration would slip past it."""
    for model in MODELS:
        table = model._meta.table_name
        columns = {column.name: column for column in database.get_columns(table)}
        for field in model._meta.sorted_fields:
            assert columns[field.column_name].null == field.null, f"{table}.{field.column_name} nullability"
        in_database = {(fk.column, fk.dest_table) for fk in database.get_foreign_keys(table)}
        in_model = {(f.column_name, f.rel_model._meta.table_name) for f in model._meta.refs}
        assert in_database == in_model, f"{table} foreign keys"


@pytest.mark.parametrize(
    "table, columns, unique",
    [
        ("customer", ["phone"], False),
        ("milestone", ["announced_at", "due_at"], False),
        ("outbox_message", ["state", "next_attempt_at", "id"], False),
        ("outbox_message", ["dedupe_key"], True),
        ("payment", ["reference"], True),
    ],
)
def test_hot_queries_have_their_index(database, table, columns, unique):
    index = _index(database, table, columns)
    assert index is not None, f"no index on {table} ({', '.join(columns)})"
    assert bool(index.unique) is unique


# -- SQLite connection settings --------------------------------------------------------------------


def test_sqlite_file_database_runs_in_wal_mode_with_foreign_keys_on(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'paystage.sqlite3'}")
    try:
        assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert database.execute_sql("PRAGMA busy_timeout").fetchone()[0] > 0
    finally:
        database.close()


def test_sqlite_pragmas_hold_on_another_threads_connection(tmp_path):
    """Connections are per thread: the scheduler's thread must get foreign keys too."""
    database = open_database(f"sqlite:///{tmp_path / 'paystage.sqlite3'}")
    seen = {}

    def look():
        with database.connection_context():
            seen["journal_mode"] = database.execute_sql("PRAGMA journal_mode").fetchone()[0]
            seen["foreign_keys"] = database.execute_sql("PRAGMA foreign_keys").fetchone()[0]

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    database.close()
    assert seen == {"journal_mode": "wal", "foreign_keys": 1}


def test_a_customer_of_a_missing_contractor_is_refused(database):
    with pytest.raises(IntegrityError):
        with db.atomic():
            Customer.create(
                contractor=987_654, name="Grace", phone="+14155550134", timezone="UTC", created_at=CREATED
            )
    assert Customer.select().count() == 0


def test_deleting_a_job_deletes_its_milestones_and_line_items(database):
    job = _job()
    _milestone(job)
    LineItem.create(job=job, position=1, description="Cabinets", amount=400_000)
    job.delete_instance()
    assert Milestone.select().count() == 0
    assert LineItem.select().count() == 0


def test_an_event_that_milestones_depend_on_cannot_be_deleted(database):
    job = _job()
    event = Event.create(job=job, position=1, name="Demolition")
    Milestone.create(job=job, position=1, label="Start", trigger_kind="before", event=event)
    with pytest.raises(IntegrityError):
        with db.atomic():
            event.delete_instance()
    assert Event.select().count() == 1


# -- ids ---------------------------------------------------------------------------------------------


def test_ids_are_never_reused_after_deleting_the_newest_row(database):
    """Outbox dedupe keys and audit records name ids: a reused id would point at the wrong row."""
    first = _contractor("First")
    newest = _contractor("Newest")
    newest.delete_instance()
    after = _contractor("After")
    assert after.id > newest.id > first.id


# -- money and moments -------------------------------------------------------------------------------


def test_money_columns_keep_large_minor_units_exactly(database):
    big = 999_999_999_999
    job = _job()
    milestone = _milestone(job, fixed=big, amount=big, paid=big)
    payment = Payment.create(job=job, amount=big, method="transfer", received_at=CREATED, actor="system")
    PaymentPart.create(payment=payment, milestone=milestone, amount=big)
    LineItem.create(job=job, position=1, description="Tower", amount=big)
    LineItem.create(job=job, position=2, description="Bolt", amount=1)

    again = Milestone.get_by_id(milestone.id)
    assert (again.fixed, again.amount, again.paid) == (big, big, big)
    assert Payment.get_by_id(payment.id).amount == big
    assert PaymentPart.get().amount == big
    assert LineItem.select(fn.SUM(LineItem.amount)).where(LineItem.job == job).scalar() == 1_000_000_000_000


def test_an_aware_moment_in_another_zone_comes_back_as_the_same_instant_in_utc(database):
    in_berlin = datetime(2026, 7, 14, 18, 30, 15, 250_000, tzinfo=ZoneInfo("Europe/Berlin"))
    contractor = Contractor.create(
        business_name="Ada", timezone="Europe/Berlin", currency="EUR", locale="de_DE", created_at=in_berlin
    )
    back = Contractor.get_by_id(contractor.id).created_at
    assert back == in_berlin
    assert back.utcoffset() == timedelta(0)
    assert back.replace(tzinfo=None) == datetime(2026, 7, 14, 16, 30, 15, 250_000)


def test_moments_are_stored_as_naive_utc(database):
    in_kolkata = datetime(2026, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("Asia/Kolkata"))
    Contractor.create(business_name="Ada", timezone="UTC", currency="USD", locale="en_US", created_at=in_kolkata)
    raw = database.execute_sql("SELECT created_at FROM contractor").fetchone()[0]
    assert str(raw)[:19] == "2026-01-01 21:34:05"


def test_a_naive_moment_is_refused_and_nothing_is_written(database):
    with pytest.raises(ValueError, match="naive"):
        Contractor.create(
            business_name="Ada", timezone="UTC", currency="USD", locale="en_US", created_at=datetime(2026, 12, 1, 9)
        )
    assert Contractor.select().count() == 0


def test_due_scan_compares_instants_across_zones(database):
    job = _job()
    _milestone(job, due_at=datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    paris = ZoneInfo("Europe/Paris")  # UTC+1 in December

    def due_by(moment):
        return Milestone.select().where(Milestone.announced_at.is_null(), Milestone.due_at <= moment).count()

    assert due_by(datetime(2026, 12, 1, 10, 0, tzinfo=paris)) == 1
    assert due_by(datetime(2026, 12, 1, 9, 59, tzinfo=paris)) == 0


# -- uniqueness ----------------------------------------------------------------------------------------


def test_a_second_outbox_message_with_the_same_dedupe_key_is_refused(database):
    job = _job()
    _outbox("payment_due:milestone:1", job)
    with pytest.raises(IntegrityError):
        with db.atomic():
            _outbox("payment_due:milestone:1", job)
    assert OutboxMessage.select().count() == 1
    _outbox("payment_due:milestone:2", job)
    assert OutboxMessage.select().count() == 2


def test_a_payment_reference_is_recorded_once(database):
    job = _job()
    Payment.create(job=job, amount=100, method="card", reference="pi_123", received_at=CREATED, actor="system")
    with pytest.raises(IntegrityError):
        with db.atomic():
            Payment.create(
                job=job, amount=100, method="card", reference="pi_123", received_at=CREATED, actor="system"
            )
    assert Payment.select().count() == 1


def test_payments_without_a_reference_do_not_collide(database):
    job = _job()
    for _ in range(2):
        Payment.create(job=job, amount=100, method="cash", reference=None, received_at=CREATED, actor="system")
    assert Payment.select().count() == 2


# -- concurrency ------------------------------------------------------------------------------------------

THREADS = 8
TRANSACTIONS = 50


def test_concurrent_read_then_write_transactions_lose_no_update(database):
    """8 threads each read a counter, add one and save it, 50 times: every increment counts, none fails as locked."""
    milestone_id = _milestone(_job(), paid=0).id

    def read(milestone_id):
        query = Milestone.select().where(Milestone.id == milestone_id)
        if database.for_update:  # PostgreSQL: lock the row; SQLite's BEGIN IMMEDIATE locks the database
            query = query.for_update()
        return query.get()

    def work():
        with db.connection_context():
            for _ in range(TRANSACTIONS):
                with db.atomic():
                    milestone = read(milestone_id)
                    milestone.paid += 1
                    milestone.save()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(work) for _ in range(THREADS)]
    for future in futures:
        future.result()  # re-raises "database is locked" or any other error in the thread

    assert Milestone.get_by_id(milestone_id).paid == THREADS * TRANSACTIONS
