"""The `paystage` command: the only place that wires settings, storage and the front ends together."""

import argparse
import logging
import sys

from paystage.logs import configure_logging
from paystage.settings import SettingError, Settings, environment, sandbox_choice, sandbox_mode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="paystage", description="Milestone payment plans for contractors.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="tell the countertop job start to finish on a fresh SQLite file")
    demo.add_argument("--db", help="where to keep the demo's database (default: DATA_DIR/demo.sqlite3)")
    commands.add_parser("worker", help="send what falls due and everything queued, until stopped")
    commands.add_parser("web", help="serve Twilio's webhooks and the payment-link pages")
    commands.add_parser("run", help="the whole product in one process: web app, Telegram bot and worker; "
                        "with no Telegram or Twilio credentials, the sandbox (README)")
    commands.add_parser("doctor", help="check the settings and reach the configured services")
    db = commands.add_parser("db", help="the database schema")
    db.add_argument("action", choices=["upgrade", "status"])
    export = commands.add_parser("export", help="a job's paper trail: every record, payment and message, in order")
    export.add_argument("job", help="the job's reference, e.g. J-7K2Q")
    export.add_argument("--format", choices=["csv", "json"], default="csv", help="csv (Excel opens it) or json")
    export.add_argument("--output", "-o", help="the file to write (default: standard output)")
    compliance = commands.add_parser("compliance", help="what a US A2P 10DLC campaign registration asks for, "
                                     "from the texts customers really get")
    compliance.add_argument("--business", default="Your business", help="the business name customers see")
    compliance.add_argument("--phone", default="", help="the business's phone, as the HELP answer gives it")
    args = parser.parse_args(argv)
    if args.command == "compliance":  # needs no settings: it renders templates for a sample job
        from paystage.compliance import registration

        print(registration(args.business, args.phone), end="")
        return 0
    world = None
    try:
        env = environment()
        settings = Settings.from_env(env)
        if args.command == "run" and sandbox_mode(env):
            from paystage.app import start_sandbox

            settings, world = start_sandbox(env, settings)
        ignored = args.command in ("web", "worker") and sandbox_choice(env) == "on"
    except SettingError as error:
        print(f"paystage: {error}", file=sys.stderr)
        return 2
    configure_logging("WARNING" if args.command == "demo" else settings.log_level, settings.secrets())
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

        return doctor(settings)
    elif args.command == "web":
        from paystage.app import run_web

        run_web(settings)
    elif args.command == "worker":
        from paystage.app import run_worker

        run_worker(settings)
    elif args.command == "db":
        return _db(settings, args.action)
    elif args.command == "export":
        return _export(settings, args.job, args.format, args.output)
    return 0


def _db(settings: Settings, action: str) -> int:
    from storage.database import open_database, pending, upgrade

    database = open_database(settings.database_url)
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
    from paystage.app import build_context
    from storage.database import open_database, pending

    if pending(open_database(settings.database_url)):
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
