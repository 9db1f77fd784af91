"""Databases of a test's own, for the tests the shared `database` fixture does not fit."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

POSTGRES_URL = os.environ.get("PAYSTAGE_TEST_POSTGRES_URL")


@contextmanager
def private_database(kind: str, sqlite_file: Path, prefix: str = "paystage_test",
                     server: str | None = None) -> Iterator[str]:
    """The DATABASE_URL of an empty database nobody else uses: `sqlite_file`, or for "postgres" a throwaway
    database named `prefix_<random>` on `server` (default: PAYSTAGE_TEST_POSTGRES_URL's; never the shared `test`
    database, which concurrent suite runs truncate), dropped afterwards."""
    server = server or POSTGRES_URL
    if kind == "sqlite":
        yield f"sqlite:///{sqlite_file}"
        return
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(server, connect_timeout=10)
    admin.autocommit = True
    try:
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlsplit(server)._replace(path=f"/{name}").geturl()
        finally:
            # FORCE: a worker killed mid-transaction may leave a backend behind for a moment
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


@contextmanager
def migrated_database(kind: str, folder: Path, prefix: str, server: str | None = None):
    """A private database (as above), migrated, with the models bound to it: for the benchmarks."""
    from storage.database import open_database, upgrade

    with private_database(kind, folder / f"{prefix}.sqlite3", prefix, server) as url:
        database = open_database(url)
        upgrade(database)
        try:
            yield database
        finally:
            database.close()
