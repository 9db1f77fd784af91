"""Databases of a test's own, for the tests the shared `database` fixture does not fit."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

POSTGRES_URL = os.environ.get("PAYSTAGE_TEST_POSTGRES_URL")


@contextmanager
def private_database(kind: str, sqlite_file: Path, prefix: str = "paystage_test") -> Iterator[str]:
    """The DATABASE_URL of an empty database nobody else uses: `sqlite_file`, or for "postgres" a throwaway
    database on PAYSTAGE_TEST_POSTGRES_URL's server named `prefix_<random>` (never the shared `test` one, which
    concurrent suite runs truncate), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{sqlite_file}"
        return
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(POSTGRES_URL, connect_timeout=10)
    admin.autocommit = True
    try:
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlsplit(POSTGRES_URL)._replace(path=f"/{name}").geturl()
        finally:
            # FORCE: a worker killed mid-transaction may leave a backend behind for a moment
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
