"""Opening the database named by DATABASE_URL, and bringing its schema up to date.

SQLite (the embedded default) runs in WAL mode with foreign keys on and
``BEGIN IMMEDIATE`` transactions: a read-then-write transaction takes the
write lock up front instead of failing with "database is locked" when two
threads upgrade their read locks at once. The threads of one process take
that lock in turn (`FairSqliteDatabase`). PostgreSQL is opt-in through a
``postgresql://`` URL and behaves the same.

On a SQLite file one process at a time runs the loop and the dispatcher
(`hold_writer_lock`); on PostgreSQL any number do.
"""

import fcntl
import os
import re
import sqlite3
import threading
from collections import deque
from pathlib import Path

from peewee import Database, OperationalError, SqliteDatabase
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
        database = FairSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE")
    else:
        database = connect_url(url, **({} if "connect_timeout=" in url else {"connect_timeout": CONNECT_TIMEOUT}))
    db.initialize(database)
    return database


class FairLock:
    """A lock handed to its waiters in the order they came (threading.Lock lets the thread that just released it
    take it again first, however long others have waited). Waiting longer than `timeout` raises TimeoutError."""

    def __init__(self):
        self._guard = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Lock] = deque()  # each waiter's own lock, released to hand it over

    def acquire(self, timeout: float) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=timeout):
            return
        with self._guard:
            if turn in self._waiting:  # not handed over while it timed out
                self._waiting.remove(turn)
                raise TimeoutError
        # handed over just as the wait ran out: it is ours after all

    def release(self) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()  # still held: now by the first waiter
            else:
                self._held = False


class FairSqliteDatabase(SqliteDatabase):
    """SQLite whose writers in this process take its write lock in turn, first come first served.

    SQLite's own wait for its write lock is a busy handler that sleeps and retries (up to 100 ms a sleep), so
    a thread that commits and begins again at once (a burst of /done, the loop's scan) retakes the lock
    microseconds after letting go, while another writer sleeps: the dispatcher's `mark_sent` waited over a second
    behind a burst (docs/benchmarks.md, "Due latency"). Here a write transaction first takes a `FairLock` in
    Python, before its BEGIN IMMEDIATE, and lets go at its COMMIT or ROLLBACK; so does a write statement run
    outside any transaction (it commits on its own). Then SQLite's lock is free whenever a thread of this process
    asks for it, and the busy handler only waits for other processes. Reads never wait: WAL lets them run
    beside the writer.
    """

    WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|WITH)\b", re.IGNORECASE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writers = FairLock()
        self._mine = threading.local()  # .held: this thread holds the FairLock

    def begin(self, lock_type=None):
        self._take()
        try:
            super().begin(lock_type)
        except BaseException:
            self._let_go()
            raise

    def commit(self):
        super().commit()
        self._let_go()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._let_go()

    def close(self):
        closed = super().close()  # refuses while a transaction is open: its COMMIT or ROLLBACK lets go then
        self._let_go()  # a BEGIN that peewee never saw end (a failed COMMIT): closing ended it
        return closed

    def execute_sql(self, sql, params=None):
        if getattr(self._mine, "held", False) or self.in_transaction() or not self.WRITE.match(sql):
            return super().execute_sql(sql, params)
        self._take()
        try:
            return super().execute_sql(sql, params)
        finally:
            self._let_go()

    def _take(self) -> None:
        if getattr(self._mine, "held", False):
            return
        try:
            self._writers.acquire(timeout=SQLITE_PRAGMAS["busy_timeout"] / 1000)
        except TimeoutError:
            raise OperationalError("database is locked (by another writer of this process)") from None
        self._mine.held = True

    def _let_go(self) -> None:
        if getattr(self._mine, "held", False):
            self._mine.held = False
            self._writers.release()


def returns_rows() -> bool:
    """Whether the database answers UPDATE ... RETURNING: PostgreSQL does, SQLite from 3.35 (Debian 11 has 3.34)."""
    return not isinstance(db.obj, SqliteDatabase) or sqlite3.sqlite_version_info >= (3, 35, 0)


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
