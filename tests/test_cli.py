"""The `paystage` command, run as a user runs it: a separate process with its own environment."""

import os
import subprocess
import sys

import pytest


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
