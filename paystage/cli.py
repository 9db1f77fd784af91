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
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
