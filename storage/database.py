"""Opening the database named by DATABASE_URL, and bringing its schema up to date.

SQLite (the embedded default) runs in WAL mode with foreign keys on and
``BEGIN IMMEDIATE`` transactions: a read-then-write transaction takes the
write lock up front instead of failing with "database is locked" when two
threads upgrade their read locks at once. PostgreSQL is opt-in through a
``postgresql://`` URL and behaves the same.

On a SQLite file one process at a time runs the loop and the dispatcher
(`hold_writer_lock`); on PostgreSQL any number do.
"""

import fcntl
import os
from pathlib import Path

from peewee import Database, SqliteDatabase
from playhouse.db_url import connect as connect_url
from playhouse.migrations import Migration, Runner

from storage.models import db

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_PRAGMAS = {"journal_mode": "wal", "busy_timeout": 10_000, "foreign_keys": 1, "synchronous": "normal"}
CONNECT_TIMEOUT = 10  # seconds: a PostgreSQL server that does not answer is one line at start, not a hang
_held: dict[Path, int] = {}  # lock file -> its open descriptor, kept until the process ends


class DatabaseInUse(Exception):
    """Another process holds a SQLite file's writer lock."""

    def __init__(self, path: Path, holder: str):
        super().__init__(f"{path} is in use by process {holder or '(unknown)'}")
        self.path, self.holder = path, holder


def open_database(url: str) -> Database:
    """Connect the models to the database at `url` (sqlite:///path or postgresql://…)."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        database = SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE")
    else:
        database = connect_url(url, **({} if "connect_timeout=" in url else {"connect_timeout": CONNECT_TIMEOUT}))
    db.initialize(database)
    return database


def sqlite_file(url: str) -> Path | None:
    """The file of a sqlite:/// URL; None for PostgreSQL and for SQLite in memory."""
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else ":memory:"
    return None if path == ":memory:" else Path(path)


def hold_writer_lock(url: str) -> None:
    """On a SQLite file, take `<file>.lock` for the rest of this process's life, or raise DatabaseInUse.

    The loop and the dispatcher (`paystage worker`, `paystage run`) take it: SQLite lets one writer in at a
    time, so a second process doing the same work would only queue on its lock, and the README promises one.
    flock, not a pid file: the OS lets go of it when the process ends, however it ends (a SIGKILL or a crash
    leaves nothing stale behind). It is taken next to the file itself (links resolved), so two spellings of
    one path are one lock. On PostgreSQL there is nothing to hold: any number run side by side.
    """
    path = sqlite_file(url)
    if path is None:
        return
    lock = path.resolve().with_name(path.resolve().name + ".lock")
    if lock in _held:
        return
    lock.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(descriptor, 32).decode(errors="replace").strip()  # its pid, when it got to write it
        os.close(descriptor)
        raise DatabaseInUse(path, holder) from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()}\n".encode())
    _held[lock] = descriptor


def upgrade(database: Database) -> list[str]:
    """Apply the migrations not yet applied; return their names."""
    return Runner(database, directory=str(MIGRATIONS)).up()


def pending(database: Database | None) -> list[str]:
    """The migrations not yet applied; every one for None (a SQLite file not made yet)."""
    if database is None:
        return [m.name for m in Migration.load_directory(str(MIGRATIONS))]
    return [m.name for m in Runner(database, directory=str(MIGRATIONS)).status() if not m.applied]
