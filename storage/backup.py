"""A consistent copy of a SQLite database while Paystage runs, and the way back.

The copy is SQLite's online backup API on a connection of its own, inside one
read transaction: in WAL mode (storage.database always opens it so) a reader
never blocks a writer, so the worker and the web app go on committing while
the copy is made, and every page comes from the same moment. Without that
transaction, a write by another connection between two steps restarts the
copy from the first page, and under steady writes it never ends. Pages are
copied a few at a time with a pause between steps, so a large file does not
take the disk from the writers.

PostgreSQL is copied with its own tools (pg_dump); paystage/backup.py says how.
"""

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing, contextmanager
from datetime import datetime, timezone
from pathlib import Path

PAGES_PER_STEP = 256  # 1 MiB of 4 KiB pages
PAUSE = 0.005  # seconds between steps


class BackupError(Exception):
    """The copy or the restore cannot be made; the message says why, in one line."""


def copy_database(source: Path, destination: Path, *, pages: int = PAGES_PER_STEP, pause: float = PAUSE,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Copy the SQLite database `source` to `destination` (replaced whole at the end, never half-written) while
    others write to it; return the copy's size in bytes. `progress(remaining, total)` is called after each step.

    The copy is a single file (rollback journal, no -wal beside it) that passes `PRAGMA integrity_check`.
    """
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    if destination.exists() and destination.resolve() == source.resolve():
        raise BackupError(f"{destination} is the database itself: give the backup another name")
    if destination.is_dir():
        raise BackupError(f"{destination} is a folder: name the backup file, like {destination / source.name}")
    draft = destination.with_name(f".{destination.name}.partial")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        draft.unlink(missing_ok=True)
        os.close(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # owner-only: customers' phones
        with closing(_read_only(source)) as reader, closing(sqlite3.connect(draft)) as copy:
            reader.execute("BEGIN")  # one snapshot for every step (see the module's docstring)
            reader.execute("SELECT count(*) FROM sqlite_master").fetchone()

            def step(_status, remaining, total):
                if progress:
                    progress(remaining, total)
                time.sleep(pause)

            reader.backup(copy, pages=pages, progress=step)
            reader.execute("COMMIT")
            copy.execute("PRAGMA journal_mode=DELETE")
            _check(copy, destination)
        with open(draft, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(draft, destination)
    except (sqlite3.Error, OSError) as error:
        raise BackupError(f"could not copy {source} to {destination}: {error}") from None
    finally:
        draft.unlink(missing_ok=True)
    return destination.stat().st_size


def restore_database(backup: Path, target: Path) -> Path | None:
    """Put the database in `backup` (a copy_database file) in place of `target`; return where the database it
    replaced was saved (None when there was none).

    Refused while a Paystage worker or `paystage run` holds `target` (its lock file, `<target>.lock`): they keep
    state of their own. The lock is held for the restore, so none starts meanwhile. The pages are written into
    `target` through SQLite, not by replacing the file, so a `paystage web` still running sees the restored rows
    instead of writing on into a deleted file.
    """
    if not backup.is_file():
        raise BackupError(f"there is no backup at {backup}")
    try:
        with closing(_read_only(backup)) as source:
            _check(source, backup)
            if not source.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migration'").fetchone():
                raise BackupError(f"{backup} is not a Paystage database (it has no schema_migration table)")
            with _held(target):
                saved = _set_aside(target)
                with closing(sqlite3.connect(target, timeout=30)) as live:
                    source.backup(live)
                    live.execute("PRAGMA journal_mode=WAL")
                    _check(live, target)
    except (sqlite3.Error, OSError) as error:
        raise BackupError(f"could not restore {target} from {backup}: {error}") from None
    return saved


def _set_aside(target: Path) -> Path | None:
    """Keep the database about to be replaced: a consistent copy, or, when it is too damaged to copy, its files
    moved aside whole (the restore then writes a new file)."""
    if not (target.exists() and target.stat().st_size):
        return None
    saved = target.with_name(f"{target.name}.before-restore-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}")
    try:
        copy_database(target, saved)
    except BackupError:
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{target}{suffix}").exists():
                os.replace(f"{target}{suffix}", f"{saved}{suffix}")
    return saved


def lock_file(database: Path) -> Path:
    """The lock a running worker or `paystage run` holds on its SQLite file (storage.database.hold_writer_lock)."""
    return database.resolve().with_name(database.resolve().name + ".lock")


@contextmanager
def _held(database: Path):
    """Hold `database`'s lock for the block, or refuse at once when a running Paystage holds it."""
    database.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_file(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 32).decode(errors="replace").strip() or "(unknown)"
            raise BackupError(f"a running Paystage (process {holder}: `paystage run` or `paystage worker`) is "
                              f"using {database}: stop it, then restore") from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())  # as hold_writer_lock does: who holds it
        yield
    finally:
        os.close(descriptor)  # lets go of the lock


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot change the file, nor create one where there is none."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, timeout=30)


def _check(connection: sqlite3.Connection, name: Path) -> None:
    result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{name} fails SQLite's integrity check: {result}")
