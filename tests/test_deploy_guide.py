"""docs/deploy.md and the files of deploy/, held to the product: each command a unit runs exists and works, every
path the guide names is the one the files use, and .env.example is the README's settings tables.

.env.example is made from the README by this module: after changing a settings table, run
    .venv/bin/python -m tests.test_deploy_guide > .env.example
"""

import ast
import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.databases import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "deploy.md"
DEPLOY = ROOT / "deploy"
INSTALL = "/opt/paystage"  # where the guide clones the code
COMMAND = f"{INSTALL}/.venv/bin/paystage"
ENV_FILE = "/etc/paystage/paystage.env"
BACKUPS = "/var/backups/paystage"
PAYSTAGE = Path(sys.executable).with_name("paystage")  # this checkout's console script, standing in for COMMAND
UNITS = ("paystage.service", "paystage-worker.service", "paystage-backup.service")
SETTING = re.compile(r"[A-Z][A-Z0-9_]{2,}")
PRODUCT = ("paystage", "core", "storage", "sms", "bot")  # where a setting may be read (sandbox/ makes its own)


# -- .env.example, from the README's settings tables ----------------------------------------------------------------


def readme_settings() -> list[tuple[str, list[tuple[str, str | None]], list[str]]]:
    """(section, [(name, default value or None)], [setting, default, meaning] as written) for each row of every
    README table whose header is `| setting | default | meaning |`."""
    rows, section, in_table = [], "", False
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        if line.replace(" ", "") == "|setting|default|meaning|":
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
        if not in_table or set(line) <= set("|-: "):
            continue
        name_cell, default_cell, meaning = (cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:4])
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", name_cell)
        values = re.findall(r"`([^`]*)`", default_cell)
        literal = re.fullmatch(r"`[^`]*`(, `[^`]*`)*", default_cell) and len(values) == len(names)
        rows.append((section, list(zip(names, values if literal else [None] * len(names))),
                     [name_cell, default_cell, meaning]))
    return rows


def _plain(markdown: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", markdown)  # a link: its words
    return text.replace("`", "").replace("\\|", "|").replace("*", "")


def render_env_example() -> str:
    """The text of .env.example: each setting of the README's tables, commented out with its default."""
    out = ["# Paystage's settings, each with its default, from the README's settings tables. Copy what you change",
           "# into .env or the service's environment file (docs/deploy.md) without the leading #.",
           "# Made from README.md by: .venv/bin/python -m tests.test_deploy_guide > .env.example", ""]
    section = None
    for heading, names, (setting, default, meaning) in readme_settings():
        if heading != section:
            out += [f"# -- {heading} " + "-" * max(3, 112 - len(heading)), ""]
            section = heading
        default = "none" if default == "—" else _plain(default)
        comment = f"{_plain(setting)}: {_plain(meaning)} (default: {default})"
        out += textwrap.wrap(comment, width=116, initial_indent="# ", subsequent_indent="#   ",
                             break_on_hyphens=False)
        out += [f"#{name}={value or ''}" for name, value in names] + [""]
    return "\n".join(out)


def settings_read_by_the_code() -> set[str]:
    return settings_read([path for package in PRODUCT for path in sorted((ROOT / package).rglob("*.py"))])


def settings_read(paths: list[Path]) -> set[str]:
    """Every setting name these files read from an environment: `env.get("X")`, `env["X"]`, `"X" in env`,
    `_number(env, "X", ...)` (a helper given the environment and a name), `os.environ.get("X")`, `os.getenv("X")`."""

    def is_env(node) -> bool:
        return (isinstance(node, ast.Name) and node.id in ("env", "environ")) or (
            isinstance(node, ast.Attribute) and node.attr == "environ")

    def text(node) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
                if (node.func.attr == "get" and is_env(node.func.value)) or node.func.attr == "getenv":
                    found.add(text(node.args[0]))
            if isinstance(node, ast.Call):
                for given, after in zip(node.args, node.args[1:]):
                    if is_env(given):
                        found.add(text(after))
            if isinstance(node, ast.Subscript) and is_env(node.value):
                found.add(text(node.slice))
            if isinstance(node, ast.Compare) and any(isinstance(op, ast.In) for op in node.ops):
                if any(is_env(c) for c in node.comparators):
                    found.add(text(node.left))
    return {name for name in found if name and SETTING.fullmatch(name)}


def test_env_example_is_made_from_the_readmes_settings_tables():
    assert (ROOT / ".env.example").read_text(encoding="utf-8") == render_env_example(), (
        ".env.example is not the README's settings tables: run "
        "`.venv/bin/python -m tests.test_deploy_guide > .env.example`")


def test_every_setting_the_code_reads_is_in_the_readme_and_in_env_example():
    read = settings_read_by_the_code()
    assert {"DATABASE_URL", "PAYSTAGE_SECRET_KEY", "TWILIO_AUTH_TOKEN", "PAYSTAGE_REMINDER_MAX"} <= read  # the scan
    in_readme = {name for _, names, _ in readme_settings() for name, _ in names}
    in_example = set(re.findall(r"^#([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert sorted(read - in_readme) == [], "read by the code, but in no settings table of the README"
    assert sorted(read - in_example) == [], "read by the code, but not in .env.example"


def test_the_scan_finds_each_way_of_reading_a_setting(tmp_path):
    (tmp_path / "probe.py").write_text(
        'env.get("A_ONE")\nenv["A_TWO"]\nif "A_THREE" in env: pass\n_number(env, "A_FOUR", 3)\n'
        'os.environ.get("A_FIVE")\nos.getenv("A_SIX")\nother.get("NOT_ONE")\n')
    found = settings_read([tmp_path / "probe.py"])
    assert {"A_ONE", "A_TWO", "A_THREE", "A_FOUR", "A_FIVE", "A_SIX"} <= found and "NOT_ONE" not in found


# -- the environment file -------------------------------------------------------------------------------------------


def env_file(path: Path = DEPLOY / "paystage.env") -> dict[str, str]:
    """NAME=value lines, as systemd's EnvironmentFile= and the shell read them (the file has no quotes)."""
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def service_env(tmp_path: Path) -> dict[str, str]:
    """The service's environment: deploy/paystage.env, its data folder moved under `tmp_path`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYSTAGE_", "DATABASE_URL", "TWILIO_",
                                                                    "TELEGRAM_", "STRIPE_", "METRICS_"))}
    return {**env, **env_file(), "PAYSTAGE_DATA_DIR": str(tmp_path / "lib")}


def test_the_environment_file_is_a_live_configuration_behind_https(tmp_path):
    from paystage.settings import Settings, sandbox_mode

    env = {**env_file(), "PAYSTAGE_DATA_DIR": str(tmp_path)}
    in_readme = {name for _, names, _ in readme_settings() for name, _ in names}
    assert sorted(set(env) - in_readme) == []
    settings = Settings.from_env(env)
    assert not sandbox_mode(env)
    assert settings.public_base_url.startswith("https://") and settings.twilio and settings.telegram
    assert settings.host == "127.0.0.1"  # only Caddy reaches it
    commented = re.search(r"^#DATABASE_URL=(\S+)$", (DEPLOY / "paystage.env").read_text(), re.MULTILINE).group(1)
    assert f"DATABASE_URL={commented}" in guide()


# -- the systemd units ----------------------------------------------------------------------------------------------


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    parser.read_string((DEPLOY / name).read_text())
    return parser


def command_line(text: str, **replacements: str) -> list[str]:
    """A unit's command line as systemd runs it (%% is %), with paths of the server replaced by the test's."""
    text = text.replace("%%", "%")
    for old, new in replacements.items():
        text = text.replace(old, new)
    return shlex.split(text)


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def guide_commands() -> list[str]:
    """Every line of the guide's ```sh blocks."""
    return [line for block in re.findall(r"```sh\n(.*?)```", guide(), re.DOTALL) for line in block.splitlines()]


def test_every_deploy_file_is_in_the_guide_and_every_file_it_names_is_there():
    named = set(re.findall(r"deploy/([\w.-]+)", guide()))
    assert sorted(named - {p.name for p in DEPLOY.iterdir()}) == []
    assert sorted({p.name for p in DEPLOY.iterdir()} - named) == []
    assert "docs/deploy.md" in (ROOT / "README.md").read_text()


def test_the_units_run_as_the_user_in_the_folder_with_the_settings_the_guide_installs():
    from paystage.cli import BAD_SETTING

    commands = guide_commands()
    assert any(line.startswith("sudo useradd") and "--home-dir /var/lib/paystage" in line and
               line.endswith(" paystage") for line in commands)
    assert f"sudo install -m 0640 -o root -g paystage deploy/paystage.env {ENV_FILE}" in commands
    assert f"sudo git clone YOUR-PAYSTAGE-REPOSITORY {INSTALL}" in commands
    data_dir = env_file()["PAYSTAGE_DATA_DIR"]
    for name in UNITS:
        service = unit(name)["Service"]
        assert (service["User"], service["Group"], service["WorkingDirectory"]) == ("paystage", "paystage", data_dir)
        assert service["EnvironmentFile"] == ENV_FILE
        assert data_dir in service["ReadWritePaths"].split()
        assert COMMAND in service["ExecStart"]
        if name != "paystage-backup.service":
            assert service["RestartPreventExitStatus"] == str(BAD_SETTING)  # a wrong setting: no restart loop


def test_the_units_run_commands_paystage_has(capsys):
    from paystage.cli import main

    ran = []
    for name in ("paystage.service", "paystage-worker.service"):
        words = command_line(unit(name)["Service"]["ExecStart"])
        subcommand = words[words.index(COMMAND) + 1:]
        with pytest.raises(SystemExit) as done:
            main([*subcommand, "--help"])
        assert done.value.code == 0
        ran.append(subcommand)
    assert ran == [["run"], ["worker"]]


def test_another_worker_has_a_metrics_port_of_its_own():
    words = command_line(unit("paystage-worker.service")["Service"]["ExecStart"])
    assert words[:2] == ["/usr/bin/env", "METRICS_PORT=9109"] and env_file()["METRICS_PORT"] != "9109"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
@pytest.mark.skipif(not PAYSTAGE.exists(), reason="paystage is not installed in this environment")
def test_the_units_pass_systemd_analyze_verify(tmp_path):
    for name in (*UNITS, "paystage-backup.timer"):  # verify wants ExecStart's program to be there: this checkout's
        (tmp_path / name).write_text((DEPLOY / name).read_text().replace(COMMAND, str(PAYSTAGE)))
    names = [str(tmp_path / name) for name in (*UNITS, "paystage-backup.timer")]
    run = subprocess.run(["systemd-analyze", "verify", *names], capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout + run.stderr) == (0, "")


@pytest.mark.skipif(not PAYSTAGE.exists(), reason="paystage is not installed in this environment")
def test_the_backup_unit_copies_the_database_and_its_key_and_drops_copies_older_than_30_days(tmp_path):
    from paystage.settings import Settings
    from storage.database import open_database, upgrade

    env = service_env(tmp_path)
    data = Path(env["PAYSTAGE_DATA_DIR"])
    database = open_database(f"sqlite:///{data / 'paystage.sqlite3'}")  # as the service leaves it
    upgrade(database)
    database.close()
    Settings.from_env({"PAYSTAGE_DATA_DIR": str(data)})  # the key its first start made
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "paystage-20250101-031500.sqlite3"
    old.write_text("a copy from long ago")
    os.utime(old, (time.time() - 40 * 86400,) * 2)
    service = unit("paystage-backup.service")["Service"]
    assert BACKUPS in service["ReadWritePaths"].split()
    for step in ("ExecStart", "ExecStartPost"):
        words = command_line(service[step], **{COMMAND: str(PAYSTAGE), BACKUPS: str(backups)})
        run = subprocess.run(words, env=env, cwd=data, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
    made = sorted(path.name for path in backups.iterdir())
    assert len(made) == 2 and re.fullmatch(r"paystage-\d{8}-\d{6}\.sqlite3", made[0])
    assert made[1] == made[0] + ".secret_key"
    assert (backups / made[1]).read_text().strip() == (data / "secret_key").read_text().strip()


@pytest.mark.skipif(not PAYSTAGE.exists(), reason="paystage is not installed in this environment")
def test_paystage_admin_runs_paystage_with_the_services_settings_in_its_folder(tmp_path):
    env = service_env(tmp_path)
    data = Path(env["PAYSTAGE_DATA_DIR"])
    data.mkdir()
    settings = tmp_path / "paystage.env"
    settings.write_text((DEPLOY / "paystage.env").read_text().replace(
        "PAYSTAGE_DATA_DIR=/var/lib/paystage", f"PAYSTAGE_DATA_DIR={data}"))
    script = (DEPLOY / "paystage-admin").read_text()
    assert f". {ENV_FILE}\n" in script and f"cd {env_file()['PAYSTAGE_DATA_DIR']}\n" in script
    script = script.replace(ENV_FILE, str(settings)).replace(COMMAND, str(PAYSTAGE))
    script = script.replace(f"cd {env_file()['PAYSTAGE_DATA_DIR']}", f"cd {data}")
    (tmp_path / "paystage-admin").write_text(script)
    bare = {k: v for k, v in service_env(tmp_path).items() if k not in env_file() and k != "PAYSTAGE_DATA_DIR"}
    run = subprocess.run(["sh", str(tmp_path / "paystage-admin"), "db", "upgrade"], env=bare, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "applied: 0001_initial" in run.stdout and (data / "paystage.sqlite3").exists()
    assert "sudo install -m 0755 deploy/paystage-admin /usr/local/bin/paystage-admin" in guide_commands()


# -- HTTPS ----------------------------------------------------------------------------------------------------------


def test_caddy_serves_the_public_address_and_forwards_to_where_paystage_listens():
    from sms.request_limits import LARGEST_BODY

    text = "\n".join(line.split("#")[0] for line in (DEPLOY / "Caddyfile").read_text().splitlines())
    site = re.search(r"^(\S+) \{", text, re.MULTILINE).group(1)
    upstream = re.search(r"reverse_proxy (\S+)", text).group(1)
    size = re.search(r"max_size (\d+)KiB", text).group(1)
    env = env_file()
    assert urlsplit(env["PUBLIC_BASE_URL"]) == urlsplit(f"https://{site}")
    assert upstream == f"{env['HOST']}:{env['PORT']}"
    assert int(size) * 1024 >= LARGEST_BODY  # Telegram's updates, the largest body a route takes, get through
    if shutil.which("caddy"):  # and Caddy reads it so
        run = subprocess.run(["caddy", "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        [route] = json.loads(run.stdout)["apps"]["http"]["servers"]["srv0"]["routes"]
        assert route["match"] == [{"host": [site]}]
        handlers = route["handle"][0]["routes"][0]["handle"]
        assert {"handler": "request_body", "max_size": int(size) * 1024} in handlers
        assert {"handler": "reverse_proxy", "upstreams": [{"dial": upstream}]} in handlers


# -- install, PostgreSQL, make clean --------------------------------------------------------------------------------


def test_the_guides_pybabel_line_compiles_every_catalog(tmp_path):
    [line] = {line for line in guide_commands() if "pybabel compile" in line}  # at install and at each upgrade
    words = line.split()
    assert words[:2] == ["sudo", ".venv/bin/pybabel"]
    shutil.copytree(ROOT / "core" / "wording" / "locales", tmp_path / "core" / "wording" / "locales",
                    ignore=shutil.ignore_patterns("*.mo"))
    pybabel = str(Path(sys.executable).with_name("pybabel"))
    run = subprocess.run([pybabel, *words[2:]], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    catalogs = sorted((tmp_path / "core" / "wording" / "locales").rglob("*.po"))
    assert catalogs and all(po.with_suffix(".mo").exists() for po in catalogs)


def test_the_guides_database_url_is_the_local_socket_with_no_password():
    from playhouse.db_url import parse

    [url] = re.findall(r"^DATABASE_URL=(\S+)$", guide(), re.MULTILINE)
    assert parse(url) == {"database": "paystage"}  # no host: the socket; no user: the service's own


@pytest.mark.skipif(not POSTGRES_URL, reason="PAYSTAGE_TEST_POSTGRES_URL is not set")
@pytest.mark.skipif(not shutil.which("createuser"), reason="no PostgreSQL client programs here")
def test_the_guides_postgresql_setup_gives_a_database_its_owner_can_migrate():
    """The guide's createuser and createdb lines, run as the server's admin, for a role and a database of this
    test's own; then Paystage's migrations, connected as that role (not a superuser): the tables are its to make."""
    import psycopg2

    from storage.database import open_database, upgrade

    server = urlsplit(POSTGRES_URL)
    name = f"paystage_guide_{uuid.uuid4().hex[:10]}"
    admin = ["-h", server.hostname, "-p", str(server.port or 5432), "-U", server.username or "postgres"]
    lines = [line.removeprefix("sudo -u postgres ").split() for line in guide_commands()
             if line.startswith("sudo -u postgres create")]
    assert [words[0] for words in lines] == ["createuser", "createdb"]
    try:
        for words in lines:
            words = [word.replace("paystage", name) for word in words]
            subprocess.run([words[0], *admin, *words[1:]], check=True, capture_output=True, timeout=60)
        database = open_database(server._replace(netloc=f"{name}@{server.netloc.rpartition('@')[2]}",
                                                 path=f"/{name}").geturl())
        assert upgrade(database)
        assert database.execute_sql("SELECT current_user").fetchone()[0] == name
        database.close()
    finally:
        connection = psycopg2.connect(POSTGRES_URL)
        connection.autocommit = True
        connection.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.cursor().execute(f'DROP ROLE IF EXISTS "{name}"')
        connection.close()


def test_make_clean_removes_only_what_a_build_makes():
    """data/ holds the database and the key that signs every link already sent: no make target may remove it."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^clean:\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    removed = [word for line in recipe.splitlines() for word in line.split()[2:] if line.split()[:2] == ["rm", "-rf"]]
    assert removed and set(removed) <= {"$(VENV)", "build", "*.egg-info", "*.mo"}, removed
    assert not [line for line in makefile.splitlines() if line.startswith("\t") and "rm " in line and (
        "data" in line or "DATA" in line or "sqlite" in line or "secret_key" in line)]


if __name__ == "__main__":
    sys.stdout.write(render_env_example())
