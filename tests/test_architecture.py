"""The layout of docs/design.md, "Architecture", checked on every import: core/ knows no front end; the database
(storage/, peewee) is reached by storage/ itself, by core/'s use cases and, outside them, only where a list below says
so and why; and only paystage/ composes the sandbox's local APIs (which know nothing of the tests)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRONT_END_PACKAGES = {"flask", "telegram", "twilio", "stripe", "werkzeug", "apscheduler"}  # provider SDKs: sms/, bot/
# The local Bot API, Twilio and Stripe are wired in by paystage/ (the sandbox) and the tests; the layers never see them,
# so the product runs the same code against them as against the real services.
BELOW_THE_SANDBOX = ("core", "storage", "bot", "sms")
TEST_ONLY_PACKAGES = {"pytest", "_pytest", "hypothesis", "tests"}  # what product code (sandbox/ too) never imports

# -- the database ---------------------------------------------------------------------------------------------------
# Our storage layer, the ORM, and the drivers under it: SQL needs a connection, and every way to one is an import.
DATABASE_PACKAGES = {"storage", "peewee", "playhouse", "sqlite3", "psycopg2", "psycopg"}
# Where any of it may be imported: storage/ is the database; the tests and benchmarks set it up and read it back.
# core/ is checked module by module (CORE_USE_CASES); every other file by the names it imports (DATABASE_EXCEPTIONS).
DATABASE_ANYWHERE = {"storage", "tests", "bench"}
# core/'s use cases: each is one transaction written with storage/'s peewee models (the change, its audit record and
# the messages it causes). Every other core module is the rules (money, allocation, plans, status, the wording of
# texts): no database, not even through another core module. A new core module that needs the database is a use case:
# add it here.
CORE_USE_CASES = {
    f"core/{name}.py"
    for name in (
        "access", "change_orders", "checkout", "dispatcher", "due", "events", "inbound", "jobs", "journal", "loop",
        "payment_accounts", "payments", "plans", "pricing", "provider_events", "relay", "reminders", "views",
        "export",  # reads a job's audit records, payments and outbox in one transaction: its paper trail
        "health",  # the worker's last turn, written by it and read by /healthz; the outbox queue, read by /metrics
    )
}
# Outside storage/, core/, the tests and the benchmarks: each database name a file may import, and why. Anything
# else fails, so a new reach into the database from a front end is a decision made here, not an accident.
DATABASE_EXCEPTIONS = {
    # The bot's own state, not the domain's: python-telegram-bot's persistence (conversations, user_data) in BotState.
    "bot/persistence.py": {"storage.models.BotState", "storage.models.db"},
    # One connection per server thread, opened before each request (peewee's connections are per thread).
    "sms/app.py": {"storage.models.db"},
    # To move into core/: linked_job's lookup of the job a payment link names.
    "sms/pages.py": {"storage.models.Job"},
    # To move into core/: Job only types what linked_job returns; Contractor is looked up for /connect/back.
    "sms/payments.py": {"storage.models.Contractor", "storage.models.Job"},
    # To move into core/: the list of connected Stripe accounts to reconcile.
    "sms/reconciliation.py": {"storage.models.Contractor"},
    # The wiring: start-up takes the SQLite writer lock, connects (what fails is one line: the driver's errors) and
    # migrates; `paystage db` and `paystage doctor` read what is pending, and never make a SQLite file by looking.
    "paystage/app.py": {"peewee.Database", "peewee.DatabaseError", "peewee.InterfaceError",
                        "storage.database.DatabaseInUse", "storage.database.hold_writer_lock",
                        "storage.database.open_database", "storage.database.sqlite_file", "storage.database.upgrade"},
    "paystage/cli.py": {"storage.database.pending", "storage.database.sqlite_file", "storage.database.upgrade"},
    "paystage/doctor.py": {"storage.database.open_database", "storage.database.pending",
                           "storage.database.sqlite_file"},
    # `paystage db backup` and `restore`: storage/ copies the SQLite file; this adds the secret key and the words.
    "paystage/backup.py": {"storage.backup.BackupError", "storage.backup.copy_database",
                           "storage.backup.restore_database", "storage.database.sqlite_file"},
    # The demo opens its own SQLite file and prints the messages each step of the story queued.
    "paystage/demo.py": {"storage.database.open_database", "storage.database.upgrade", "storage.models.OutboxMessage"},
    # The worker's threads each hold a connection (the dispatcher's for its life, the scan's for one turn).
    "paystage/worker.py": {"storage.models.db"},
}
PRODUCT_SKIPPED = {"build", "data"}  # not source: what a build or a run leaves


def forbidden_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every absolute import of a front-end package."""
    return imports_of(tree, FRONT_END_PACKAGES)


def imports_of(tree: ast.AST, packages: set[str], *, names: bool = False) -> list[tuple[int, str]]:
    """(line, module) for every absolute import of one of `packages` or a module inside it. With `names`, what a
    `from` import takes: `from a.b import c` gives "a.b.c" ("a.b.*" for a star), so a file can be allowed one name
    of a module and not the next."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported = [f"{node.module}.{alias.name}" for alias in node.names] if names else [node.module]
        else:
            continue
        found.extend((node.lineno, name) for name in imported if name.split(".")[0] in packages)
    return sorted(found)


def python_files(*parts: str):
    return sorted((ROOT.joinpath(*parts)).rglob("*.py"))


def borrowed_names(tree: ast.AST, packages: set[str]) -> set[str]:
    """The names a module binds by importing from `packages`: what another module could import from it instead."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names
                      if alias.name.split(".")[0] in packages}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in packages:
                names |= {alias.asname or alias.name for alias in node.names}
    return names


def reaching(graph: dict[str, set[str]], starts: set[str]) -> set[str]:
    """Every module of `graph` that imports one of `starts`, directly or through other modules of `graph`."""
    reached = set(starts)
    while True:
        more = {module for module, imports in graph.items() if module not in reached and imports & reached}
        if not more:
            return reached - starts
        reached |= more


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def core_imports(path: Path, known: set[str]) -> set[str]:
    """The modules of `known` that `path` imports; `from a import b` counts as importing a.b when that is a module."""
    tree = _parse(path)
    imported = imports_of(tree, {"core"}) + imports_of(tree, {"core"}, names=True)
    return {module for _, module in imported} & known


def product_files():
    """Every Python file outside storage/, core/, the tests and the benchmarks: the front ends, the wiring, the
    sandbox, and whatever package comes next."""
    for top in sorted(ROOT.iterdir()):
        if top.name.startswith(".") or top.name.endswith(".egg-info") or top.name in PRODUCT_SKIPPED:
            continue
        if top.name in DATABASE_ANYWHERE or top.name == "core":
            continue
        yield from [top] if top.suffix == ".py" else sorted(top.rglob("*.py")) if top.is_dir() else []


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# -- the checks, checked ----------------------------------------------------------------------------


def test_forbidden_imports_finds_each_way_of_importing_a_front_end():
    source = "import os\nimport flask\nfrom telegram.ext import Application\nimport twilio.rest as t\n"
    source += "def f():\n    from apscheduler.schedulers.background import BackgroundScheduler\n"
    assert forbidden_imports(ast.parse(source)) == [
        (2, "flask"),
        (3, "telegram.ext"),
        (4, "twilio.rest"),
        (6, "apscheduler.schedulers.background"),
    ]


def test_forbidden_imports_ignores_lookalikes_and_relative_imports():
    source = "import flasky\nfrom core.telegram_text import x\nfrom . import twilio\nimport telegraph\n"
    assert forbidden_imports(ast.parse(source)) == []


def test_imports_of_finds_the_sandbox_and_the_tests_however_imported():
    source = "import sandbox\nfrom sandbox.telegram_api import BLOCKED\nimport sandboxed\nfrom tests.shop import Shop\n"
    source += "def f():\n    from sandbox import LocalBotAPI\n"
    assert imports_of(ast.parse(source), {"sandbox", "tests"}) == [
        (1, "sandbox"),
        (2, "sandbox.telegram_api"),
        (4, "tests.shop"),
        (6, "sandbox"),
    ]


def test_imports_of_names_finds_each_way_of_reaching_the_database():
    source = "import os\nimport storage\nfrom storage.models import Job, db\nimport peewee as pw\n"
    source += "from playhouse.migrate import *\nimport sqlite3, json\n"
    source += "def f():\n    from storage.database import open_database\n    import psycopg2.extras\n"
    assert imports_of(ast.parse(source), DATABASE_PACKAGES, names=True) == [
        (2, "storage"),
        (3, "storage.models.Job"),
        (3, "storage.models.db"),
        (4, "peewee"),
        (5, "playhouse.migrate.*"),
        (6, "sqlite3"),
        (8, "storage.database.open_database"),
        (9, "psycopg2.extras"),
    ]


def test_imports_of_names_ignores_lookalikes_and_relative_imports():
    source = "import storages\nfrom peeweex import Model\nfrom . import storage\nfrom .storage import db\n"
    source += "from core.storage_words import x\nimport sqlite3x\n"
    assert imports_of(ast.parse(source), DATABASE_PACKAGES, names=True) == []


def test_borrowed_names_are_what_a_module_could_pass_on():
    source = "import peewee\nimport storage.models\nimport playhouse.shortcuts as shortcuts\n"
    source += "from storage.models import Job as J, db\nfrom core.money import format_money\n"
    source += "def f():\n    from peewee import fn\n"  # a function's own imports count too: the safe side
    assert borrowed_names(ast.parse(source), DATABASE_PACKAGES) == {"peewee", "storage", "shortcuts", "J", "db", "fn"}


def test_reaching_follows_imports_through_other_modules_and_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"db"}, "d": {"e"}, "e": {"d"}, "f": set()}
    assert reaching(graph, {"db"}) == {"a", "b", "c"}
    assert reaching({"x": {"y"}, "y": {"x"}}, {"db"}) == set()


# -- the codebase ----------------------------------------------------------------------------------------


def test_core_imports_no_front_end_or_scheduler():
    files = python_files("core")
    assert files, "no Python files found under core/"
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in forbidden_imports(_parse(path))
    ]
    assert offenders == [], "core/ must stay free of front ends:\n" + "\n".join(offenders)


def test_only_paystage_composes_the_sandbox():
    files = [path for top in BELOW_THE_SANDBOX for path in python_files(top)]
    assert files, "no Python files found under " + ", ".join(BELOW_THE_SANDBOX)
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imports_of(_parse(path), {"sandbox"})
    ]
    assert offenders == [], "only paystage/ (and the tests) may wire in the local APIs:\n" + "\n".join(offenders)


def test_sandbox_imports_nothing_of_the_tests():
    files = python_files("sandbox")
    assert files, "no Python files found under sandbox/"
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imports_of(_parse(path), TEST_ONLY_PACKAGES)
    ]
    assert offenders == [], "sandbox/ is product code: no pytest, nothing from tests/:\n" + "\n".join(offenders)


def test_front_ends_reach_the_database_only_where_listed():
    files = list(product_files())
    assert {"sms", "bot", "paystage", "sandbox"} <= {_rel(path).split("/")[0] for path in files}
    offenders = [
        f"{_rel(path)}:{line} imports {name}"
        for path in files
        for line, name in imports_of(_parse(path), DATABASE_PACKAGES, names=True)
        if name not in DATABASE_EXCEPTIONS.get(_rel(path), set())
    ]
    assert offenders == [], (
        "the database is core/'s business: call a use case in core/, or add the name to DATABASE_EXCEPTIONS in "
        "tests/test_architecture.py with the reason it cannot:\n" + "\n".join(offenders)
    )


def test_every_database_exception_is_still_needed():
    imported = {
        (_rel(path), name)
        for path in product_files()
        for _, name in imports_of(_parse(path), DATABASE_PACKAGES, names=True)
    }
    stale = sorted(
        f"{file} no longer imports {name}"
        for file, names in DATABASE_EXCEPTIONS.items()
        for name in names
        if (file, name) not in imported
    )
    assert stale == [], "take these out of DATABASE_EXCEPTIONS: one less reach into the database\n" + "\n".join(stale)


def test_front_ends_do_not_take_the_database_through_core():
    """`from core.jobs import Job` is storage's Job by another name: the allow-list above would not see it."""
    borrowed = {module_name(path): borrowed_names(_parse(path), DATABASE_PACKAGES) for path in python_files("core")}
    offenders = [
        f"{_rel(path)}:{node.lineno} takes {alias.name} from {node.module}, which has it from the database"
        for path in product_files()
        for node in ast.walk(_parse(path))
        if isinstance(node, ast.ImportFrom) and node.level == 0
        for alias in node.names
        if alias.name in borrowed.get(node.module or "", set())
    ]
    assert offenders == [], "import it from storage/ (and list it) or, better, ask a use case:\n" + "\n".join(offenders)


def test_only_core_use_cases_reach_the_database():
    files = python_files("core")
    assert files, "no Python files found under core/"
    assert CORE_USE_CASES <= {_rel(path) for path in files}, "a listed use case is gone: take it out of CORE_USE_CASES"
    names = {module_name(path): path for path in files}
    graph = {name: core_imports(path, set(names)) for name, path in names.items()}
    direct = {name for name, path in names.items() if imports_of(_parse(path), DATABASE_PACKAGES, names=True)}
    offenders = [
        f"{_rel(names[name])} reaches the database"
        + ("" if name in direct else " through " + ", ".join(sorted(graph[name] & (direct | reaching(graph, direct)))))
        for name in sorted(direct | reaching(graph, direct))
        if _rel(names[name]) not in CORE_USE_CASES
    ]
    assert offenders == [], (
        "core/'s rules stay free of the database; a module that needs it is a use case (CORE_USE_CASES):\n"
        + "\n".join(offenders)
    )


def test_storage_imports_no_layer_above_it():
    files = python_files("storage")
    assert files, "no Python files found under storage/"
    offenders = [
        f"{_rel(path)}:{line} imports {module}"
        for path in files
        for line, module in imports_of(_parse(path), {"core", "sms", "bot", "paystage", "sandbox", "tests"})
    ]
    assert offenders == [], "storage/ is the bottom layer: it imports none of the others:\n" + "\n".join(offenders)
