"""The `paystage` command, run as a user runs it: a separate process with its own environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def paystage(*args, tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PAYSTAGE_", "DATABASE_URL"))}
    environment.update(PAYSTAGE_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run([sys.executable, "-m", "paystage.cli", *args], capture_output=True, text=True,
                          env=environment, cwd=tmp_path, timeout=120)


def test_demo_tells_the_countertop_story_to_the_last_receipt(tmp_path):
    run = paystage("demo", tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "$1,000.00 before Measurement" in out  # the plan as the customer reads it
    assert "After Removal: $1,000.00 -> $1,283.33" in out  # docs/design.md, "Recalculation": price up, first paid
    assert "After Installation: $2,000.00 -> $2,566.67" in out
    assert "paid in full" in out
    assert out.count("SMS to customer (payment_due)") == 3
    assert (tmp_path / "data" / "demo.sqlite3").exists()


def test_demo_starts_from_a_fresh_file_each_time(tmp_path):
    first = paystage("demo", tmp_path=tmp_path)
    again = paystage("demo", tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("SMS to customer") == first.stdout.count("SMS to customer")


def test_db_upgrade_applies_the_migrations_once(tmp_path):
    def db(action):
        return paystage("db", action, tmp_path=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'main.sqlite3'}")

    assert "pending: 0001_initial, 0002_delivery" in db("status").stdout
    assert "applied: 0001_initial, 0002_delivery" in db("upgrade").stdout
    assert "up to date" in db("upgrade").stdout


@pytest.mark.parametrize("setting, value", [("PAYSTAGE_TIMEZONE", "Mars/Olympus"), ("PAYSTAGE_CURRENCY", "ZZZ")])
def test_a_malformed_setting_stops_with_one_line_naming_it(tmp_path, setting, value):
    run = paystage("db", "status", tmp_path=tmp_path, **{setting: value})
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and setting in run.stderr


def test_paystage_web_answers_a_signed_bal_over_real_http(tmp_path):
    """`paystage web` under waitress: the demo's customer texts BAL and gets the right amounts."""
    import socket
    import time
    import urllib.parse
    import urllib.request
    import xml.etree.ElementTree as ET

    from twilio.request_validator import RequestValidator

    demo = paystage("demo", tmp_path=tmp_path)  # leaves data/demo.sqlite3: the countertop job, paid in full
    assert demo.returncode == 0, demo.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    public = "https://pay.example"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYSTAGE_", "DATABASE_URL", "TWILIO_"))}
    env.update(PAYSTAGE_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'demo.sqlite3'}",
               PORT=str(port), PUBLIC_BASE_URL=public, TWILIO_ACCOUNT_SID="AC" + "0" * 32,
               TWILIO_AUTH_TOKEN="web-token-for-the-cli-test", TWILIO_FROM_NUMBER="+14155550100")
    server = subprocess.Popen([sys.executable, "-m", "paystage.cli", "web"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("paystage web did not come up")
        form = {"MessageSid": "SM" + "1" * 32, "From": "+14155550134", "To": "+14155550100", "Body": "BAL"}
        signature = RequestValidator("web-token-for-the-cli-test").compute_signature(public + "/sms/inbound", form)
        request = urllib.request.Request(base + "/sms/inbound", data=urllib.parse.urlencode(form).encode(),
                                         headers={"X-Twilio-Signature": signature})
        with urllib.request.urlopen(request, timeout=5) as response:
            reply = ET.fromstring(response.read()).find("Message").text
        assert "$4,850.00" in reply and "Kitchen countertops" in reply
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_version_is_the_installed_packages(tmp_path):
    from importlib.metadata import version

    run = paystage("--version", tmp_path=tmp_path)
    assert run.returncode == 0 and run.stdout == f"paystage {version('paystage')}\n"


class Reading(dict):
    """An environment that notes every name read from it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def get(self, name, default=None):
        self.read.add(name)
        return super().get(name, default)

    def __getitem__(self, name):
        self.read.add(name)
        return super().__getitem__(name)

    def __contains__(self, name):
        self.read.add(name)
        return super().__contains__(name)


def test_the_settings_the_help_names_are_the_ones_read_and_each_is_in_the_readme(tmp_path):
    """SETTING_GROUPS is what every --help names: it must hold exactly what from_env and sandbox_mode read, with
    every branch taken (every setting given), and the README must explain each one."""
    from paystage.settings import SETTING_GROUPS, Settings, sandbox_mode

    env = Reading(PAYSTAGE_DATA_DIR=str(tmp_path), DATABASE_URL="postgresql://paystage@db:5432/paystage",
                  PAYSTAGE_SECRET_KEY="k" * 40, TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN="t" * 32,
                  TWILIO_FROM_NUMBER="+14155550100", TWILIO_API_BASE_URL="http://127.0.0.1:9",
                  TELEGRAM_BOT_TOKEN="123456:ABC", TELEGRAM_MODE="webhook", TELEGRAM_WEBHOOK_SECRET="s" * 16,
                  TELEGRAM_API_BASE_URL="http://127.0.0.1:9", PAYSTAGE_ALLOWED_TELEGRAM_IDS="555",
                  STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET="whsec_x", STRIPE_API_BASE_URL="http://x.test",
                  METRICS_PORT="9100", PAYSTAGE_SANDBOX="off")
    Settings.from_env(env)
    sandbox_mode(env)
    without_credentials = Reading(PAYSTAGE_SANDBOX="auto")  # the sandbox's own checks, of the host
    sandbox_mode(without_credentials)
    read = env.read | without_credentials.read
    named = [name for names in SETTING_GROUPS.values() for name in names]
    assert len(named) == len(set(named)), "a setting in two groups"
    assert sorted(read - set(named)) == [], "read, but no --help names it: add it to SETTING_GROUPS"
    assert sorted(set(named) - read) == [], "named, but never read"
    readme = (ROOT / "README.md").read_text()
    assert [name for name in named if f"`{name}`" not in readme] == [], "in no table of the README"


def help_of(command: str, capsys) -> str:
    from paystage.cli import main

    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_each_commands_help_says_what_it_does_and_the_settings_it_reads(capsys):
    from paystage.cli import COMMANDS, reads

    for command, (what, _more, _groups) in COMMANDS.items():
        said = help_of(command, capsys)
        assert f"paystage {command}: {what}." in said, command
        assert "Settings it reads" in said and all(name in said for name in reads(command)), command
    web, worker = named_in_help("web", capsys), named_in_help("worker", capsys)
    assert {"HOST", "PORT", "TWILIO_AUTH_TOKEN"} <= web  # it listens; it checks Twilio's signatures
    assert "PORT" not in worker and "TWILIO_AUTH_TOKEN" in worker  # it listens nowhere; it sends texts
    assert help_of("compliance", capsys).endswith("README): none.")


def named_in_help(command: str, capsys) -> set[str]:
    return set(help_of(command, capsys).partition("Settings it reads")[2].partition(": ")[2].rstrip(".").split(", "))


@pytest.mark.parametrize("args", [["--help"], ["compliance"], ["doctor"], ["db", "status"], ["export", "J-7K2Q"],
                                  ["worker", "--help"]])
def test_a_command_that_keeps_nothing_makes_no_data_folder_where_it_runs(tmp_path, args):
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PAYSTAGE_", "DATABASE_URL", "TWILIO_", "TELEGRAM_", "STRIPE_"))}
    run = subprocess.run([sys.executable, "-m", "paystage.cli", *args], capture_output=True, text=True,
                         env=environment, cwd=tmp_path, timeout=60)
    assert "Traceback" not in run.stderr, run.stderr
    assert list(tmp_path.iterdir()) == [], f"paystage {' '.join(args)} left {list(tmp_path.iterdir())}"
