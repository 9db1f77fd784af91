"""`paystage db backup PATH` and `paystage db restore PATH`: the database and the secret key, kept together.

The secret key signs every payment link. A database restored without its key is whole, but every link texted
before stops working: the customer who opens one is told to reply PAY, and the text that answers carries a fresh
link. So when the key is the one generated into DATA_DIR/secret_key, a backup writes it beside the copy, as
`PATH.secret_key`, readable by its owner only, and a restore puts it back. A key given as PAYSTAGE_SECRET_KEY is
part of the settings, not of the data: keep the settings file with the backups.

On PostgreSQL both commands print the pg_dump or pg_restore line to run and exit 1 without doing anything, so a
scheduled backup never looks as if it had succeeded.
"""

import os
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path

from paystage.settings import Settings
from storage.backup import BackupError, copy_database, restore_database
from storage.database import sqlite_file


def backup(settings: Settings, path: str) -> int:
    """Copy the database, and the generated secret key, to `path` while Paystage runs."""
    destination, key = Path(path), _key_file(settings)
    database = sqlite_file(settings.database_url)
    if database is None and settings.database_url.startswith("sqlite"):
        return _fail(f"DATABASE_URL={settings.database_url} is a database in memory: there is nothing to keep")
    if database is None:
        keep = "" if _from_environment(settings) else f" and keep {key}"
        return _fail(f"DATABASE_URL is PostgreSQL: back it up with `pg_dump --format=custom "
                     f"--file={shlex.quote(path)} \"$DATABASE_URL\"`{keep} (docs/deploy.md); nothing was written")
    try:
        size = copy_database(database, destination)
    except BackupError as error:
        return _fail(str(error))
    if _from_environment(settings):
        kept = "; the secret key is PAYSTAGE_SECRET_KEY: keep your settings file with the backups"
    elif key.is_file():
        try:
            _write_key(Path(f"{destination}.secret_key"), key.read_text().strip())
        except OSError as error:
            return _fail(f"the database is copied to {destination}, but not the secret key: {error}")
        kept = f", and the secret key that signs payment links to {destination}.secret_key"
    else:
        kept = f"; there is no secret key yet ({key} is made when Paystage first runs)"
    print(f"backed up {database} to {destination} ({size / 1e6:.1f} MB, integrity ok){kept}")
    return 0


def restore(settings: Settings, path: str) -> int:
    """Put the database saved at `path` (and its secret key) back in place of DATABASE_URL's."""
    source = Path(path)
    database = sqlite_file(settings.database_url)
    if database is None and settings.database_url.startswith("sqlite"):
        return _fail(f"DATABASE_URL={settings.database_url} is a database in memory: there is nothing to restore")
    if database is None:
        return _fail(f"DATABASE_URL is PostgreSQL: stop Paystage, then `pg_restore --clean --if-exists "
                     f"--no-owner --dbname=\"$DATABASE_URL\" {shlex.quote(path)}` (docs/deploy.md); "
                     "nothing was changed")
    try:
        saved = restore_database(source, database)
    except BackupError as error:
        return _fail(str(error))
    aside = f" (the database it replaced is kept at {saved})" if saved else ""
    print(f"restored {database} from {source}{aside}; pending migrations run when Paystage starts")
    try:
        print(_restore_key(settings, Path(f"{source}.secret_key")))
    except OSError as error:
        return _fail(f"the database is restored, but not the secret key beside the backup: {error}")
    return 0


def _restore_key(settings: Settings, saved: Path) -> str:
    """Put the backup's secret key back, keeping the one it replaces; say what becomes of the links."""
    current = _key_file(settings)
    lost = "payment links texted before stop working (a customer who opens one is told to reply PAY, and the " \
           "answer carries a fresh link)"
    if _from_environment(settings):
        if not saved.is_file() or saved.read_text().strip() == settings.secret_key:
            return "the secret key is PAYSTAGE_SECRET_KEY, as before"
        return f"PAYSTAGE_SECRET_KEY is not the backup's key ({saved}): until it is, {lost}"
    if not saved.is_file():
        return f"there is no {saved} beside the backup: unless {current} is the key it was made with, {lost}"
    key = saved.read_text().strip()
    if current.is_file() and current.read_text().strip() == key:
        return "the secret key is the backup's, as before"
    replaced = ""
    if current.is_file():
        aside = current.with_name(f"secret_key.before-restore-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}")
        os.replace(current, aside)
        replaced = f" (the key it replaced is kept at {aside})"
    _write_key(current, key)
    return f"the secret key is back from {saved}{replaced}"


def _key_file(settings: Settings) -> Path:
    return settings.data_dir / "secret_key"


def _from_environment(settings: Settings) -> bool:
    """Whether the key in use is PAYSTAGE_SECRET_KEY, rather than DATA_DIR/secret_key (or no key yet)."""
    path = _key_file(settings)
    return bool(settings.secret_key) and not (path.is_file() and path.read_text().strip() == settings.secret_key)


def _write_key(path: Path, key: str) -> None:
    """Write `key` to `path`, readable by its owner only from its first moment, and whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.partial")
    draft.unlink(missing_ok=True)
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(key + "\n")
    os.replace(draft, path)


def _fail(message: str) -> int:
    print(f"paystage: {message}", file=sys.stderr)
    return 1
