"""The `paystage` command: the only place that wires settings, storage and the front ends together."""

import argparse
import logging
import sys
from importlib.metadata import PackageNotFoundError, version

from paystage.logs import configure_logging
from paystage.settings import (
    SETTING_GROUPS,
    SettingError,
    Settings,
    Unavailable,
    environment,
    sandbox_choice,
    sandbox_mode,
)

BAD_SETTING = 2  # exit code: a setting is wrong; the same command fails the same way until it is fixed
UNAVAILABLE = 3  # exit code: a service, a port or the database is not there now; the same command may work later
# Each command: what it is (the list in `paystage --help`), more about it (its own --help), and the settings it
# reads: groups of paystage.settings.SETTING_GROUPS, or single names. Every command but compliance checks every
# setting at start, and stops at a malformed one.
COMMANDS = {
    "run": ("the whole product in one process: the web app, the Telegram bot and the worker",
            "On one database; Ctrl-C or SIGTERM stops it cleanly. With no Telegram, Twilio or Stripe credentials, "
            "the sandbox (README, Quick start). On SQLite one `run` or `worker` at a time.", tuple(SETTING_GROUPS)),
    "web": ("the web app under waitress on HOST:PORT",
            "Twilio's and Stripe's webhooks, the payment-link pages, /healthz. Beside a `paystage worker`, on the "
            "same database.", ("database", "links", "address", "regional", "rules", "twilio", "stripe", "metrics",
                               "log")),
    "worker": ("send what falls due and everything queued, until stopped",
               "The loop and the outbox dispatcher: finds payments that fall due, sends reminders and every queued "
               "text; Ctrl-C or SIGTERM stops it cleanly. On SQLite one `worker` or `run` at a time; several on "
               "PostgreSQL.", ("database", "links", "regional", "rules", "sending", "twilio", "telegram", "stripe",
                               "metrics", "log")),
    "doctor": ("check the settings and reach the configured services",
               "One line each: the database, the secret key, the public address, Twilio, Telegram and Stripe (ok, "
               "NO, or -- for not configured). It makes nothing: no database, no data folder, no key.",
               ("database", "links", "twilio", "telegram", "stripe", "sandbox", "log")),
    "db": ("the database: its schema, a backup while Paystage runs, a restore",
           "upgrade applies pending migrations (start-up does too), status lists them; backup PATH and restore PATH "
           "(docs/deploy.md).", ("database", "log")),
    "export": ("a job's paper trail: every record, payment and message, in order",
               "As CSV (Excel opens it) or JSON, read as the operator (system:cli).", ("database", "log")),
    "demo": ("tell the countertop job start to finish on a fresh SQLite file",
             "On a simulated clock: the job, the plan, the due texts, payments and a price change.",
             ("PAYSTAGE_DATA_DIR", "links", "regional")),
    "compliance": ("what a US A2P 10DLC campaign registration asks for, from the texts customers really get",
                   "It reads no settings: the texts are rendered for a sample job.", ()),
}
SIGNS_LINKS = ("run", "web", "worker", "demo")  # the commands that need the secret key, and generate it if missing


def reads(command: str) -> list[str]:
    """The names of the settings `command` reads, in the order of its groups."""
    names = [name for part in COMMANDS[command][2] for name in SETTING_GROUPS.get(part, (part,))]
    return list(dict.fromkeys(names))


def _parser() -> argparse.ArgumentParser:
    try:
        installed = version("paystage")
    except PackageNotFoundError:
        installed = "(not installed)"
    parser = argparse.ArgumentParser(prog="paystage", description="Milestone payment plans for contractors.",
                                     epilog="Settings come from the environment or a .env file in the working "
                                     "directory (README, Settings). Exit codes: 2, a setting is wrong; 3, a "
                                     "service, the port or the database is not available now.")
    parser.add_argument("--version", action="version", version=f"paystage {installed}")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str) -> argparse.ArgumentParser:
        what, more, _ = COMMANDS[name]
        return commands.add_parser(name, help=what, description=f"paystage {name}: {what}. {more}",
                                   epilog=f"Settings it reads (environment or .env; README): "
                                   f"{', '.join(reads(name)) or 'none'}.")

    demo = command("demo")
    demo.add_argument("--db", help="where to keep the demo's database (default: DATA_DIR/demo.sqlite3)")
    command("worker")
    command("web")
    command("run")
    command("doctor")
    db = command("db")
    db.add_argument("action", choices=["upgrade", "status", "backup", "restore"])
    db.add_argument("path", nargs="?", help="backup and restore: the backup file (docs/deploy.md)")
    export = command("export")
    export.add_argument("job", help="the job's reference, e.g. J-7K2Q")
    export.add_argument("--format", choices=["csv", "json"], default="csv", help="csv (Excel opens it) or json")
    export.add_argument("--output", "-o", help="the file to write (default: standard output)")
    compliance = command("compliance")
    compliance.add_argument("--business", default="Your business", help="the business name customers see")
    compliance.add_argument("--phone", default="", help="the business's phone, as the HELP answer gives it")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "compliance":  # needs no settings: it renders templates for a sample job
        from paystage.compliance import registration

        print(registration(args.business, args.phone), end="")
        return 0
    secrets: list[str] = []  # the settings' secrets, once read: none may reach the line that says why it stopped
    try:
        return _command(args, secrets)
    except SettingError as error:
        return _stopped(error, BAD_SETTING, secrets)
    except Unavailable as error:
        return _stopped(error, UNAVAILABLE, secrets)


def _stopped(error: Exception, code: int, secrets: list[str]) -> int:
    """One line on standard error, no traceback: what stopped the command, and what to do about it."""
    line = " ".join(str(error).split())
    for secret in secrets:
        line = line.replace(secret, "[redacted]")
    print(f"paystage: {line}", file=sys.stderr)
    return code


def _command(args: argparse.Namespace, secrets: list[str]) -> int:
    world = None
    env = environment()
    settings = Settings.from_env(env, new_key=args.command in SIGNS_LINKS)
    secrets += settings.secrets()
    if args.command == "run" and sandbox_mode(env):
        from paystage.app import start_sandbox

        settings, world = start_sandbox(env, settings)
        secrets += settings.secrets()
    ignored = args.command in ("web", "worker") and sandbox_choice(env) == "on"
    configure_logging("WARNING" if args.command == "demo" else settings.log_level, settings.secrets(),
                      settings.log_format)
    if ignored:
        logging.getLogger("paystage").warning("PAYSTAGE_SANDBOX=on is ignored: only `paystage run` runs the "
                                              "sandbox, `paystage %s` never does", args.command)
    if args.command == "demo":
        from paystage.demo import run_demo

        run_demo(settings, args.db)
    elif args.command == "run":
        from paystage.app import run_all

        run_all(settings, world)
    elif args.command == "doctor":
        from paystage.doctor import doctor

        return doctor(settings, sandbox=sandbox_mode(env))
    elif args.command == "web":
        from paystage.app import run_web

        run_web(settings)
    elif args.command == "worker":
        from paystage.app import run_worker

        run_worker(settings)
    elif args.command == "db":
        return _db(settings, args.action, args.path)
    elif args.command == "export":
        return _export(settings, args.job, args.format, args.output)
    return 0


def _db(settings: Settings, action: str, path: str | None = None) -> int:
    if action in ("backup", "restore"):
        from paystage.backup import backup, restore

        if not path:
            print(f"paystage: db {action} needs the backup file: paystage db {action} PATH", file=sys.stderr)
            return 2
        return (backup if action == "backup" else restore)(settings, path)
    from paystage.app import connect_storage
    from storage.database import pending, sqlite_file, upgrade

    file = sqlite_file(settings.database_url)
    if action == "status" and file is not None and not file.exists():  # a look makes no database
        print(f"no database at {file} yet; pending: " + ", ".join(pending(None)))
        return 0
    database = connect_storage(settings)
    if action == "upgrade":
        applied = upgrade(database)
        print("applied: " + ", ".join(applied) if applied else "the schema is up to date")
    else:
        waiting = pending(database)
        print("pending: " + ", ".join(waiting) if waiting else "the schema is up to date")
    return 0


def _export(settings: Settings, ref: str, form: str, output: str | None) -> int:
    """Write job `ref`'s paper trail (core/export.py). The command line is the operator, who holds the database
    itself: it reads any job by its reference, as the system (`system:cli`), never as one contractor; the words
    are in the job's contractor's language, as `/export` in their chat gives them."""
    from core.context import Actor
    from core.errors import NotFound
    from core.export import job_history, to_csv, to_json
    from paystage.app import build_context, connect_storage
    from storage.database import pending, sqlite_file

    file = sqlite_file(settings.database_url)
    if file is not None and not file.exists():
        print(f"paystage: there is no database at {file} (DATABASE_URL, PAYSTAGE_DATA_DIR)", file=sys.stderr)
        return 1
    if pending(connect_storage(settings)):
        print("paystage: the database is not up to date: run `paystage db upgrade` first", file=sys.stderr)
        return 1
    try:
        rows = job_history(build_context(settings), Actor.system("cli"), ref)
    except NotFound:
        print(f"paystage: there is no job {ref.strip()!r}", file=sys.stderr)
        return 1
    data = to_csv(rows) if form == "csv" else to_json(rows).encode("utf-8")
    if output:
        with open(output, "wb") as file:
            file.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
