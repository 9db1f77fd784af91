"""Waking the dispatchers when a message is queued, once the transaction that queued it has committed.

A dispatcher that only polls finds a new text half a poll late on average. So whatever inserts outbox rows calls
`queued()` (core/journal.py does), and the dispatchers that `watch` are woken:

- in this process, after the outermost transaction commits (peewee's `after_commit`; a statement outside any
  transaction has committed already, so at once). A wake before the commit would find nothing to claim and the
  text would wait a whole poll; a transaction rolled back wakes no one (peewee drops its callbacks).
- in other processes, on PostgreSQL: `queued()` also sends a NOTIFY on the transaction's own connection, which
  PostgreSQL delivers only at commit and drops at a rollback; every watching worker LISTENs on a connection of its
  own. The NOTIFY carries this process's id, so a watcher skips the ones from its own process (woken already).

A wake is a hint, never the only way a text goes out: the dispatcher's poll stays the safety net (a listener that
lost its connection, a NOTIFY sent in a savepoint that was rolled back, a row inserted by hand).
"""

import logging
import os
import select
import threading
from collections.abc import Callable

from peewee import Database, PostgresqlDatabase

from storage.models import db

log = logging.getLogger(__name__)

CHANNEL = "paystage_outbox"
RECONNECT_AFTER = 5.0  # seconds: a listener that lost its connection tries again this much later
FIRST_LISTEN_WITHIN = 15.0  # seconds a worker's start waits for its first LISTEN (connect_timeout is 10 s)

_watchers: set[Callable[[], None]] = set()
_watchers_lock = threading.Lock()


def queued() -> None:
    """Outbox rows were just inserted on this thread's connection: wake the dispatchers once they are committed."""
    if isinstance(db.obj, PostgresqlDatabase):
        db.execute_sql("SELECT pg_notify(%s, %s)", (CHANNEL, str(os.getpid())))
    db.after_commit(_wake_here)


def _wake_here() -> None:
    """Run by the committing thread right after its commit: whatever a watcher does, the commit stands."""
    with _watchers_lock:
        watchers = list(_watchers)
    for wake in watchers:
        try:
            wake()
        except Exception:
            log.exception("waking a dispatcher failed; it finds the message at its next poll")


class Watch:
    """`wake` is called whenever a message is queued and committed, until `close()`; see the module docstring."""

    def __init__(self, wake: Callable[[], None], database: Database):
        self.wake = wake
        with _watchers_lock:
            _watchers.add(wake)
        self._listener = _Listener(wake, database) if isinstance(database, PostgresqlDatabase) else None

    def close(self) -> None:
        with _watchers_lock:
            _watchers.discard(self.wake)
        if self._listener:
            self._listener.close()


def watch(wake: Callable[[], None]) -> Watch:
    """Call `wake` whenever a message is queued, in this process or (on PostgreSQL) another."""
    return Watch(wake, db.obj)


class _Listener:
    """A thread that LISTENs on a PostgreSQL connection of its own and calls `wake` for each NOTIFY of another
    process. Made, it has listened once (or failed to connect and will try again): a commit from then on wakes.
    After a reconnect it wakes at once: what was queued while it was not listening is not left to the poll."""

    def __init__(self, wake: Callable[[], None], database: PostgresqlDatabase):
        self.wake = wake
        self.database = database
        self._closing = threading.Event()
        self._tried = threading.Event()  # the first connection was made, or failed
        self._woken, self._wake_up = os.pipe()  # a byte written to _wake_up ends the select at once
        self._thread = threading.Thread(target=self._run, name="outbox-listener", daemon=True)
        self._thread.start()
        self._tried.wait(FIRST_LISTEN_WITHIN)

    def close(self) -> None:
        self._closing.set()
        os.write(self._wake_up, b"x")
        self._thread.join()
        os.close(self._wake_up)
        os.close(self._woken)

    def _run(self) -> None:
        own = str(os.getpid())
        while not self._closing.is_set():
            connection = None
            try:
                connection = self._connect()
                if self._tried.is_set():
                    self.wake()  # a reconnect
                self._tried.set()
                self._listen(connection, own)
            except Exception as error:  # the server restarted, the network dropped: the poll covers meanwhile
                self._tried.set()
                if not self._closing.is_set():
                    log.warning("listening for queued messages failed (%s); trying again in %gs", error,
                                RECONNECT_AFTER)
                    self._closing.wait(RECONNECT_AFTER)
            finally:
                if connection is not None:
                    connection.close()

    def _listen(self, connection, own: str) -> None:
        while not self._closing.is_set():
            readable, _, _ = select.select([connection, self._woken], [], [])
            if connection in readable:
                connection.poll()
                if any(notice.payload != own for notice in connection.notifies):
                    self.wake()
                connection.notifies.clear()

    def _connect(self):
        import psycopg2

        connection = psycopg2.connect(database=self.database.database, **self.database.connect_params)
        connection.autocommit = True
        connection.cursor().execute(f"LISTEN {CHANNEL}")
        return connection
