"""The layout DESIGN.md mandates: core/ knows no front end, only storage/ writes SQL, and only paystage/ composes the
sandbox's local APIs (which know nothing of the tests)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRONT_END_PACKAGES = {"flask", "telegram", "twilio", "stripe", "werkzeug", "apscheduler"}  # provider SDKs: sms/, bot/
# The local Bot API, Twilio and Stripe are wired in by paystage/ (the sandbox) and the tests; the layers never see them,
# so the product runs the same code against them as against the real services.
BELOW_THE_SANDBOX = ("core", "storage", "bot", "sms")
TEST_ONLY_PACKAGES = {"pytest", "_pytest", "hypothesis", "tests"}  # what product code (sandbox/ too) never imports
# Where SQL may live: the storage layer, the pure core (which has none, but is checked elsewhere),
# the tests, the application wiring, and the benchmarks (they read query plans with EXPLAIN).
SQL_ALLOWED = {"storage", "core", "tests", "paystage", "bench"}
SQL_STATEMENT = re.compile(
    r"\bSELECT\s+\S.*?\s+FROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\S+\s+SET\b|\bDELETE\s+FROM\b",
    re.DOTALL,
)


def forbidden_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every absolute import of a front-end package."""
    return imports_of(tree, FRONT_END_PACKAGES)


def imports_of(tree: ast.AST, packages: set[str]) -> list[tuple[int, str]]:
    """(line, module) for every absolute import of one of `packages` or a module inside it."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.extend((node.lineno, name) for name in names if name.split(".")[0] in packages)
    return sorted(found)


def sql_strings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) for every string literal shaped like an SQL statement; docstrings and comments do not count."""
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and SQL_STATEMENT.search(node.value)
    )


def python_files(*parts: str):
    return sorted((ROOT.joinpath(*parts)).rglob("*.py"))


def outside_storage_and_core():
    for path in sorted(ROOT.rglob("*.py")):
        top = path.relative_to(ROOT).parts[0]
        if top in SQL_ALLOWED or top.startswith(".") or top.endswith(".egg-info") or top in {"build", "data"}:
            continue
        yield path


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


def test_sql_strings_finds_statements_even_inside_f_strings():
    source = (
        'db.execute_sql("SELECT id FROM job WHERE ref = ?")\n'
        'q = f"DELETE FROM {table} WHERE id = %s"\n'
        "sql = '''\n    UPDATE milestone\n       SET paid = paid + 1\n'''\n"
        'x = "INSERT INTO payment (amount) VALUES (1)"\n'
    )
    assert [line for line, _ in sql_strings(ast.parse(source))] == [1, 2, 3, 7]


def test_sql_strings_ignores_prose_and_docstrings():
    source = (
        '"""Reads SELECT id FROM job, as storage does."""\n'
        'HELP = "Select a job from the list, then send an update."\n'
        'TITLE = "UPDATE: your plan changed"\n'
        'def f():\n    """DELETE FROM is storage\'s business."""\n'
    )
    assert sql_strings(ast.parse(source)) == []


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


def test_only_storage_writes_sql():
    offenders = [
        f"{path.relative_to(ROOT)}:{line} {text.strip()[:60]!r}"
        for path in outside_storage_and_core()
        for line, text in sql_strings(_parse(path))
    ]
    assert offenders == [], "SQL belongs in storage/:\n" + "\n".join(offenders)
