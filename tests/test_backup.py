"""`paystage db backup` and `paystage db restore`: a consistent copy while Paystage writes, and the way back.

The commands run as an operator runs them (a process of their own, settings from the environment); the write load
is another process committing jobs and payments through the use cases, as the bot and the web app do.
"""

import os
import re
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from storage.backup import BackupError, copy_database
from tests.databases import POSTGRES_URL, private_database

REPO = Path(__file__).resolve().parent.parent
KEY = "backup-test-secret-key-" + "k" * 16


def paystage(*args, tmp_path: Path, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PAYSTAGE_", "DATABASE_URL"))}
    environment.update(PAYSTAGE_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run([sys.executable, "-m", "paystage.cli", *args], capture_output=True, text=True,
                          env=environment, cwd=tmp_path, timeout=120)


def write_jobs(url: str) -> None:
    """The write load, run in a process of its own: jobs and payments through the use cases until killed, each
    printed once it is committed ("job J-XXXX 100001", its price, then "paid J-XXXX 1001")."""
    from core.context import Actor, Context
    from core.jobs import Item, create_job, register_contractor
    from core.links import PaymentLinks
    from core.payments import record_payment
    from storage.database import open_database

    open_database(url)
    ctx = Context(clock=lambda: datetime.now(timezone.utc), links=PaymentLinks("https://pay.example", KEY))
    contractor = Actor.contractor(register_contractor(ctx, business_name="Granite & Co", telegram_id=555).id)
    for n in range(1, 1_000_000):
        job = create_job(ctx, contractor, customer_name=f"Customer {n}", phone=f"(415) 555-{n % 10_000:04d}",
                         title=f"Countertops {n}", items=[Item("Countertops", 100_000 + n)])
        print("job", job.ref, 100_000 + n, flush=True)
        record_payment(ctx, contractor, job.ref, 1_000 + n, "cash")
        print("paid", job.ref, 1_000 + n, flush=True)


def wait_for(condition, what: str, timeout: float = 60) -> None:
    """Wait for `condition`, failing with `what` after `timeout` seconds (a bound on a wait, not a measure)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.01)


def migrated(tmp_path: Path, name: str = "paystage.sqlite3") -> str:
    """A database in DATA_DIR as Paystage leaves it after a run: migrated, with the secret key it generated."""
    from paystage.settings import Settings
    from storage.database import open_database, upgrade

    url = f"sqlite:///{tmp_path / 'data' / name}"
    database = open_database(url)
    upgrade(database)
    database.close()
    Settings.from_env({"PAYSTAGE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": url})
    assert (tmp_path / "data" / "secret_key").is_file()
    return url


def contractors(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [name for (name,) in connection.execute("SELECT business_name FROM contractor ORDER BY id")]


def add_contractor(path: Path, name: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO contractor (business_name, phone, timezone, currency, locale, "
                           "payment_instructions, created_at, payment_account_ready, language) VALUES "
                           "(?, '', 'UTC', 'USD', 'en_US', '', '2026-12-01 09:00:00', 0, 'en')", (name,))


# -- under load ---------------------------------------------------------------------------------------------------


def test_a_backup_taken_under_write_load_restores_every_row_committed_before_it(tmp_path):
    url = migrated(tmp_path)
    database = tmp_path / "data" / "paystage.sqlite3"
    writer = subprocess.Popen([sys.executable, "-c", f"from tests.test_backup import write_jobs; write_jobs({url!r})"],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(writer.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: len(lines) >= 40 or writer.poll() is not None, "the writer's first 20 jobs")
        committed = list(lines)  # each line is printed after its transaction committed: all before the backup
        steps = []

        def step(remaining, total):
            steps.append(remaining)
            if len(steps) == 1:  # the writer commits more while the copy is half made
                wait_for(lambda: len(lines) >= len(committed) + 10 or writer.poll() is not None,
                         "the writer committing while the backup runs (is it blocked?)")
            assert len(steps) <= 2 * total, "the copy keeps starting over: each write by another process restarts it"

        copy_database(database, tmp_path / "backup.sqlite3", pages=1, pause=0.002, progress=step)
        wait_for(lambda: len(lines) >= len(committed) + 20 or writer.poll() is not None, "more writes after it")
        assert writer.poll() is None, writer.stderr.read()
        during = len(lines) - len(committed)
    finally:
        writer.kill()
        writer.wait(timeout=30)
    assert len(steps) > 1 and during >= 10

    restored = tmp_path / "restored" / "paystage.sqlite3"
    run = paystage("db", "restore", str(tmp_path / "backup.sqlite3"), tmp_path=tmp_path,
                   DATABASE_URL=f"sqlite:///{restored}", PAYSTAGE_SECRET_KEY=KEY)
    assert run.returncode == 0, run.stderr
    with sqlite3.connect(restored) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    _assert_every_committed_row_is_there(f"sqlite:///{restored}", committed)


def _assert_every_committed_row_is_there(url: str, committed: list[str]) -> None:
    """Each job and payment the writer saw committed, read back through the use cases; none half-written."""
    from core.context import Actor, Context
    from core.jobs import job_status
    from core.links import PaymentLinks
    from storage.database import open_database, pending
    from storage.models import AuditRecord, Job, OutboxMessage, Payment

    database = open_database(url)
    try:
        assert pending(database) == []
        ctx = Context(clock=lambda: datetime.now(timezone.utc), links=PaymentLinks("https://pay.example", KEY))
        owner = Actor.contractor(Job.select().first().contractor_id)
        prices = {line.split()[1]: int(line.split()[2]) for line in committed if line.startswith("job ")}
        payments = {line.split()[1]: int(line.split()[2]) for line in committed if line.startswith("paid ")}
        assert len(prices) >= 20
        for ref, price in prices.items():
            view = job_status(ctx, owner, ref)
            assert (view.total, view.paid) == (price, payments.get(ref, view.paid)), ref
        for payment in Payment.select():  # whatever else the copy holds is whole: each use case one transaction
            assert AuditRecord.select().where(AuditRecord.kind == "payment_recorded",
                                              AuditRecord.job == payment.job).count() == 1, payment.job.ref
            assert OutboxMessage.get_or_none(OutboxMessage.dedupe_key == f"payment:{payment.id}:receipt")
    finally:
        database.close()


# -- the commands ---------------------------------------------------------------------------------------------------


def test_backup_writes_the_generated_secret_key_beside_the_copy_both_readable_by_their_owner_only(tmp_path):
    migrated(tmp_path)
    add_contractor(tmp_path / "data" / "paystage.sqlite3", "Granite & Co")
    run = paystage("db", "backup", str(tmp_path / "backups" / "monday.sqlite3"), tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("\n") == 1 and "monday.sqlite3.secret_key" in run.stdout
    copy, key = tmp_path / "backups" / "monday.sqlite3", tmp_path / "backups" / "monday.sqlite3.secret_key"
    assert contractors(copy) == ["Granite & Co"]
    assert key.read_text().strip() == (tmp_path / "data" / "secret_key").read_text().strip()
    assert [stat.S_IMODE(path.stat().st_mode) for path in (copy, key)] == [0o600, 0o600]
    assert sorted(p.name for p in copy.parent.iterdir()) == ["monday.sqlite3", "monday.sqlite3.secret_key"]


def test_with_paystage_secret_key_set_the_backup_writes_no_key_and_says_where_it_is(tmp_path):
    migrated(tmp_path)
    run = paystage("db", "backup", str(tmp_path / "monday.sqlite3"), tmp_path=tmp_path, PAYSTAGE_SECRET_KEY=KEY)
    assert run.returncode == 0, run.stderr
    assert "PAYSTAGE_SECRET_KEY" in run.stdout and KEY not in run.stdout + run.stderr
    assert not (tmp_path / "monday.sqlite3.secret_key").exists()


def test_a_backup_of_a_database_that_is_not_there_makes_nothing(tmp_path):
    run = paystage("db", "backup", str(tmp_path / "monday.sqlite3"), tmp_path=tmp_path, PAYSTAGE_SECRET_KEY=KEY)
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "there is no database" in run.stderr
    assert not (tmp_path / "data" / "paystage.sqlite3").exists() and not (tmp_path / "monday.sqlite3").exists()


def test_backup_and_restore_need_the_backup_file(tmp_path):
    for action in ("backup", "restore"):
        run = paystage("db", action, tmp_path=tmp_path, PAYSTAGE_SECRET_KEY=KEY)
        assert run.returncode == 2 and run.stderr == f"paystage: db {action} needs the backup file: paystage db " \
                                                     f"{action} PATH\n"


def test_restore_brings_back_the_backup_and_keeps_the_database_it_replaces(tmp_path):
    migrated(tmp_path)
    live = tmp_path / "data" / "paystage.sqlite3"
    add_contractor(live, "Granite & Co")
    assert paystage("db", "backup", str(tmp_path / "monday.sqlite3"), tmp_path=tmp_path).returncode == 0
    add_contractor(live, "Added on Tuesday")
    run = paystage("db", "restore", str(tmp_path / "monday.sqlite3"), tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    assert contractors(live) == ["Granite & Co"]
    [kept] = live.parent.glob("paystage.sqlite3.before-restore-*")
    assert str(kept) in run.stdout
    assert contractors(kept) == ["Granite & Co", "Added on Tuesday"]
    from storage.database import open_database  # the restored file is the product's again: WAL, and migrated

    database = open_database(f"sqlite:///{live}")
    assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    database.close()


def test_restore_refuses_while_a_paystage_process_holds_the_database_and_changes_nothing(tmp_path):
    url = migrated(tmp_path)
    live = tmp_path / "data" / "paystage.sqlite3"
    add_contractor(live, "Granite & Co")
    assert paystage("db", "backup", str(tmp_path / "monday.sqlite3"), tmp_path=tmp_path).returncode == 0
    add_contractor(live, "Added on Tuesday")
    holder = subprocess.Popen(  # what `paystage worker` and `paystage run` take at start
        [sys.executable, "-c", f"from storage.database import hold_writer_lock; hold_writer_lock({url!r}); "
                               "print('held', flush=True); input()"],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        run = paystage("db", "restore", str(tmp_path / "monday.sqlite3"), tmp_path=tmp_path)
        assert run.returncode == 1 and run.stderr.count("\n") == 1, run.stderr
        assert f"process {holder.pid}" in run.stderr and "stop it" in run.stderr
        assert contractors(live) == ["Granite & Co", "Added on Tuesday"]
        assert not list(live.parent.glob("*before-restore*"))
    finally:
        holder.communicate("\n", timeout=30)
    run = paystage("db", "restore", str(tmp_path / "monday.sqlite3"), tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    assert contractors(live) == ["Granite & Co"]


def test_restore_puts_the_backups_secret_key_back_and_keeps_the_one_it_replaces(tmp_path):
    """A fresh machine: starting Paystage before the restore made a new key, which signed no link of the backup."""
    migrated(tmp_path, "old.sqlite3")
    assert paystage("db", "backup", str(tmp_path / "monday.sqlite3"), tmp_path=tmp_path,
                    DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'old.sqlite3'}").returncode == 0
    old_key = (tmp_path / "data" / "secret_key").read_text()
    (tmp_path / "data" / "secret_key").unlink()
    migrated(tmp_path)  # Paystage run once on the fresh machine
    run = paystage("db", "restore", str(tmp_path / "monday.sqlite3"), tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "secret key is back" in run.stdout
    assert (tmp_path / "data" / "secret_key").read_text().strip() == old_key.strip()
    assert stat.S_IMODE((tmp_path / "data" / "secret_key").stat().st_mode) == 0o600
    [replaced] = (tmp_path / "data").glob("secret_key.before-restore-*")
    assert replaced.read_text().strip() != old_key.strip()


def test_restore_without_the_key_says_old_links_stop_working(tmp_path):
    migrated(tmp_path)
    assert paystage("db", "backup", str(tmp_path / "monday.sqlite3"), tmp_path=tmp_path).returncode == 0
    (tmp_path / "monday.sqlite3.secret_key").unlink()
    run = paystage("db", "restore", str(tmp_path / "monday.sqlite3"), tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "links texted before stop working" in run.stdout and "reply PAY" in run.stdout


@pytest.mark.parametrize("content", [b"", b"not a database at all\n" * 100])
def test_restore_refuses_what_is_not_a_paystage_backup_and_changes_nothing(tmp_path, content):
    migrated(tmp_path)
    live = tmp_path / "data" / "paystage.sqlite3"
    add_contractor(live, "Granite & Co")
    (tmp_path / "monday.sqlite3").write_bytes(content)
    run = paystage("db", "restore", str(tmp_path / "monday.sqlite3"), tmp_path=tmp_path)
    assert run.returncode == 1 and run.stderr.count("\n") == 1, run.stderr
    assert contractors(live) == ["Granite & Co"]
    assert not list(live.parent.glob("*before-restore*"))


def test_a_backup_is_never_half_written_over_an_earlier_one(tmp_path):
    migrated(tmp_path)
    live = tmp_path / "data" / "paystage.sqlite3"
    add_contractor(live, "Granite & Co")
    copy_database(live, tmp_path / "monday.sqlite3")

    def fail_midway(remaining, total):
        raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError):
        copy_database(live, tmp_path / "monday.sqlite3", pages=1, progress=fail_midway)
    assert contractors(tmp_path / "monday.sqlite3") == ["Granite & Co"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["monday.sqlite3"]
    with pytest.raises(BackupError, match="the database itself"):
        copy_database(live, live)


# -- PostgreSQL -----------------------------------------------------------------------------------------------------


def test_on_postgresql_backup_and_restore_say_what_to_run_and_exit_1_without_the_password(tmp_path):
    url = "postgresql://paystage:s3cret-db-password@db.example:5432/paystage"
    for action, tool in (("backup", "pg_dump"), ("restore", "pg_restore")):
        run = paystage("db", action, str(tmp_path / "monday.dump"), tmp_path=tmp_path, DATABASE_URL=url,
                       PAYSTAGE_SECRET_KEY=KEY)
        assert run.returncode == 1 and run.stdout == "" and run.stderr.count("\n") == 1, run.stderr
        assert f"`{tool} " in run.stderr and '"$DATABASE_URL"' in run.stderr
        assert "s3cret" not in run.stderr and KEY not in run.stderr
    assert not (tmp_path / "monday.dump").exists()


@pytest.mark.skipif(not POSTGRES_URL, reason="PAYSTAGE_TEST_POSTGRES_URL is not set")
@pytest.mark.skipif(not all(map(__import__("shutil").which, ("pg_dump", "pg_restore"))), reason="no pg_dump here")
def test_the_pg_dump_and_pg_restore_lines_paystage_prints_copy_a_database(tmp_path):
    from storage.database import open_database, upgrade
    from storage.models import Contractor

    dump = tmp_path / "monday.dump"
    with private_database("postgres", tmp_path / "unused", "paystage_backup") as source:
        database = open_database(source)
        upgrade(database)
        Contractor.create(business_name="Granite & Co", timezone="UTC", currency="USD", locale="en_US",
                          created_at=datetime(2026, 12, 1, tzinfo=timezone.utc))
        database.close()
        told = paystage("db", "backup", str(dump), tmp_path=tmp_path, DATABASE_URL=source, PAYSTAGE_SECRET_KEY=KEY)
        command = re.search(r"`([^`]+)`", told.stderr).group(1)
        subprocess.run(["sh", "-c", command], env={**os.environ, "DATABASE_URL": source}, check=True, timeout=120)
    with private_database("postgres", tmp_path / "unused", "paystage_restore") as target:
        told = paystage("db", "restore", str(dump), tmp_path=tmp_path, DATABASE_URL=target, PAYSTAGE_SECRET_KEY=KEY)
        command = re.search(r"`([^`]+)`", told.stderr).group(1)
        subprocess.run(["sh", "-c", command], env={**os.environ, "DATABASE_URL": target}, check=True, timeout=120)
        database = open_database(target)
        assert [c.business_name for c in Contractor.select()] == ["Granite & Co"]
        database.close()
