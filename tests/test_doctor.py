"""`paystage doctor`: one line per check, and an exit code that says whether something needed is wrong."""

import os
import subprocess
import sys

from paystage.doctor import doctor
from paystage.settings import Settings
from sandbox import LocalStripeAPI
from sandbox.server import closed_port


def settings_with(tmp_path, **env) -> Settings:
    return Settings.from_env({"PAYSTAGE_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/d.sqlite3",
                              **env})


def test_doctor_says_stripe_answers_in_test_mode(tmp_path, capsys):
    with LocalStripeAPI() as stripe_api:
        code = doctor(settings_with(tmp_path, STRIPE_SECRET_KEY=stripe_api.secret_key,
                                    STRIPE_WEBHOOK_SECRET="whsec_test", STRIPE_API_BASE_URL=stripe_api.base_url))
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.split()[1] == "stripe"]
    assert code == 0 and line.startswith("ok ") and "TEST mode" in line and "/stripe/webhook" in line


def test_doctor_refuses_a_wrong_stripe_key_without_printing_it(tmp_path, capsys):
    with LocalStripeAPI() as stripe_api:
        code = doctor(settings_with(tmp_path, STRIPE_SECRET_KEY="sk_test_not_the_right_one",
                                    STRIPE_WEBHOOK_SECRET="whsec_test", STRIPE_API_BASE_URL=stripe_api.base_url))
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.split()[1] == "stripe"]
    assert code == 1 and line.startswith("NO ") and "STRIPE_SECRET_KEY is wrong" in line
    assert "sk_test_not_the_right_one" not in out


def test_doctor_without_stripe_says_how_customers_pay(tmp_path, capsys):
    assert doctor(settings_with(tmp_path)) == 0
    assert "own payment instructions" in capsys.readouterr().out


def lines_of(out: str) -> dict[str, str]:
    return {line.split()[1]: line for line in out.splitlines()}


def test_doctor_without_credentials_says_each_channel_is_not_configured_and_the_sandbox_plays_it(tmp_path):
    """`paystage doctor` as a newcomer runs it: no accounts, so `paystage run` is the sandbox. Not "ok"."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAYSTAGE_", "DATABASE_URL", "TWILIO_", "TELEGRAM_", "STRIPE_"))}
    run = subprocess.run([sys.executable, "-m", "paystage.cli", "doctor"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = lines_of(run.stdout)
    for channel in ("twilio", "telegram", "stripe"):
        assert lines[channel].startswith("--  ") and "not configured (sandbox)" in lines[channel], lines[channel]
    assert lines["database"].startswith("ok ") and "not made yet" in lines["database"]
    assert list(tmp_path.iterdir()) == []  # a look makes no database, no data folder, no key


def test_doctor_with_the_sandbox_off_says_where_unsent_messages_go(tmp_path, capsys):
    code = doctor(settings_with(tmp_path), sandbox=False)
    lines = lines_of(capsys.readouterr().out)
    assert code == 0
    assert lines["twilio"].startswith("--  ") and "not configured: customer texts are logged" in lines["twilio"]
    assert lines["telegram"].startswith("--  ") and "not configured: no bot runs" in lines["telegram"]


def test_doctor_names_where_the_secret_key_comes_from(tmp_path, capsys):
    key = "a-key-from-the-environment-long-enough-to-sign"
    doctor(settings_with(tmp_path, PAYSTAGE_SECRET_KEY=key))
    doctor(settings_with(tmp_path))  # generates DATA_DIR/secret_key
    from_env, generated = [line for line in capsys.readouterr().out.splitlines() if "secret key" in line]
    assert from_env.startswith("ok ") and "PAYSTAGE_SECRET_KEY" in from_env and key not in from_env
    assert generated.startswith("ok ") and str(tmp_path / "secret_key") in generated and "back it up" in generated


def test_doctor_says_a_database_that_does_not_answer_without_its_password(tmp_path, capsys):
    url = f"postgresql://paystage:db-password-1@127.0.0.1:{closed_port()}/paystage"
    assert doctor(settings_with(tmp_path, DATABASE_URL=url)) == 1
    line = lines_of(capsys.readouterr().out)["database"]
    assert line.startswith("NO ") and "Connection refused" in line and "db-password-1" not in line
