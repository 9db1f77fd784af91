"""Opening the database named by DATABASE_URL, and bringing its schema up to date.

SQLite (the embedded default) runs in WAL mode with foreign keys on and
``BEGIN IMMEDIATE`` transactions: a read-then-write transaction takes the
write lock up front instead of failing with "database is locked" when two
threads upgrade their read locks at once. PostgreSQL is opt-in through a
``postgresql://`` URL and behaves the same.
"""

from pathlib import Path

from peewee import Database, SqliteDatabase
from playhouse.db_url import connect as connect_url
from playhouse.migrations import Runner

from storage.models import db

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_PRAGMAS = {"journal_mode": "wal", "busy_timeout": 10_000, "foreign_keys": 1, "synchronous": "normal"}


def open_database(url: str) -> Database:
    """Connect the models to the database at `url` (sqlite:///path or postgresql://…)."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        database = SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE")
    else:
        database = connect_url(url)
    db.initialize(database)
    return database


def upgrade(database: Database) -> list[str]:
    """Apply the migrations not yet applied; return their names."""
    return Runner(database, directory=str(MIGRATIONS)).up()


def pending(database: Database) -> list[str]:
    return [m.name for m in Runner(database, directory=str(MIGRATIONS)).status() if not m.applied]
