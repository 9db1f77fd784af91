"""Shared fixtures: a fresh, migrated database per test on every backend we support.

Storage tests run on SQLite always and on PostgreSQL when
PAYSTAGE_TEST_POSTGRES_URL names a server (otherwise they are skipped, which
pytest's summary reports as one line).
"""

import os
from datetime import datetime, timezone

import pytest

from storage.database import open_database, upgrade
from storage.models import MODELS

POSTGRES_URL = os.environ.get("PAYSTAGE_TEST_POSTGRES_URL")
_postgres_ready = False


def _fresh_postgres():
    """Migrate once per session, then empty every table before each test."""
    global _postgres_ready
    database = open_database(POSTGRES_URL)
    if not _postgres_ready:
        database.execute_sql("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
        upgrade(database)
        _postgres_ready = True
    tables = ", ".join(f'"{m._meta.table_name}"' for m in MODELS)
    database.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return database


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    """A migrated database the models are bound to (a temporary file for SQLite: threads see it too)."""
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("PostgreSQL tests skipped: set PAYSTAGE_TEST_POSTGRES_URL to run them")
        database = _fresh_postgres()
    else:
        database = open_database(f"sqlite:///{tmp_path / 'paystage.sqlite3'}")
        upgrade(database)
    yield database
    database.close()


@pytest.fixture
def utc():
    """Build an aware UTC datetime: utc(2026, 12, 1, 9)."""
    return lambda *parts: datetime(*parts, tzinfo=timezone.utc)
