"""Sandbox mode (docs/design.md, "Sandbox"; issue 9): when `paystage run` is the sandbox, and that it never is with real
credentials or off loopback; and `paystage run` itself as a newcomer starts it, with nothing in the environment."""

import json
import time
import urllib.error
import urllib.request

import pytest

from paystage.app import start_sandbox
from paystage.settings import REAL_CREDENTIALS, SettingError, Settings, sandbox_mode
from sandbox import LocalBotAPI, LocalTwilioAPI
from tests.run_harness import paystage_run
from tests.test_cli import paystage

TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "a-real-looking-auth-token",
          "TWILIO_FROM_NUMBER": "+14155550100"}


def test_no_credentials_make_the_sandbox():
    assert sandbox_mode({}) is True
    assert sandbox_mode({"TELEGRAM_BOT_TOKEN": " ", "TWILIO_API_BASE_URL": "http://127.0.0.1:9"}) is True


@pytest.mark.parametrize("name", ["TELEGRAM_BOT_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
                                  "TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID", "STRIPE_SECRET_KEY"])
def test_any_real_credential_makes_the_live_product(name):
    assert sandbox_mode({name: "123456:ABC"}) is False


def test_sandbox_off_is_the_live_product_even_with_nothing_set():
    assert sandbox_mode({"PAYSTAGE_SANDBOX": "off"}) is False


def test_sandbox_on_with_real_credentials_is_refused_naming_them():
    with pytest.raises(SettingError) as refused:
        sandbox_mode({"PAYSTAGE_SANDBOX": "on", "TELEGRAM_BOT_TOKEN": "123456:ABC", **TWILIO})
    assert "PAYSTAGE_SANDBOX=on" in str(refused.value) and "TELEGRAM_BOT_TOKEN" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert sandbox_mode({"PAYSTAGE_SANDBOX": "on"}) is True


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_the_sandbox_listens_on_loopback(host):
    assert sandbox_mode({"HOST": host}) is True


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "paystage.example.com"])
def test_the_sandbox_refuses_any_other_host_unless_allowed(host):
    with pytest.raises(SettingError, match="PAYSTAGE_SANDBOX_ANY_HOST=yes"):
        sandbox_mode({"HOST": host})
    with pytest.raises(SettingError, match="PAYSTAGE_SANDBOX_ANY_HOST=yes"):
        sandbox_mode({"HOST": host, "PAYSTAGE_SANDBOX_ANY_HOST": "no"})
    assert sandbox_mode({"HOST": host, "PAYSTAGE_SANDBOX_ANY_HOST": "yes"}) is True
    assert sandbox_mode({"HOST": host, **TWILIO}) is False  # the live product listens where it is told


@pytest.mark.parametrize("env, named", [({"PAYSTAGE_SANDBOX": "maybe"}, "PAYSTAGE_SANDBOX"),
                                        ({"HOST": "0.0.0.0", "PAYSTAGE_SANDBOX_ANY_HOST": "1"},
                                         "PAYSTAGE_SANDBOX_ANY_HOST")])
def test_a_malformed_sandbox_setting_is_named(env, named):
    with pytest.raises(SettingError, match=f"^{named}="):
        sandbox_mode(env)


@pytest.mark.parametrize("env, named", [
    ({"PAYSTAGE_SANDBOX": "on", "TELEGRAM_BOT_TOKEN": "123456:ABC"}, "PAYSTAGE_SANDBOX=on"),
    ({"HOST": "0.0.0.0"}, "PAYSTAGE_SANDBOX_ANY_HOST"),
])
def test_paystage_run_refuses_a_sandbox_it_must_not_run_with_one_line(tmp_path, env, named):
    unset = {name: "" for name in REAL_CREDENTIALS}  # the developer's own, if any, are not this test's
    run = paystage("run", tmp_path=tmp_path, **{**unset, **env})
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and named in run.stderr


def test_the_sandbox_runs_on_its_own_fresh_database_and_keeps_everything_on_this_machine(tmp_path):
    """Whatever .env says for the live product: its database, its public address, its webhook."""
    live = {"PAYSTAGE_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite3'}",
            "PUBLIC_BASE_URL": "https://pay.example.com", "TELEGRAM_MODE": "webhook", "PORT": "8123"}
    (tmp_path / "sandbox.sqlite3").write_text("a session before")
    settings, world = start_sandbox(live, Settings.from_env(live))
    try:
        assert not (tmp_path / "sandbox.sqlite3").exists()
        assert settings.database_url == f"sqlite:///{tmp_path / 'sandbox.sqlite3'}"
        assert settings.public_base_url == world.public_base_url == "http://127.0.0.1:8123"
        assert settings.telegram.mode == "polling"
        assert settings.telegram.api_base_url == world.bot_api.base_url
        assert settings.twilio.api_base_url == world.twilio_api.base_url
        assert settings.stripe.api_base_url == world.stripe_api.base_url
    finally:
        world.close()


def call(url: str, body: dict | None = None) -> tuple[int, str]:
    """GET `url`, or POST `body` to it as JSON; (status, the body's text)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def bot_says(base: str, timeout: float = 20) -> list[str]:
    """The bot's messages in the sandbox page's chat, once there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        said = [m["text"] for m in json.loads(call(base + "/sandbox/state")[1])["chat"] if not m["mine"]]
        if said:
            return said
        time.sleep(0.1)
    raise AssertionError("the bot said nothing")


def test_paystage_run_with_no_credentials_is_the_sandbox(tmp_path):
    """The whole product against the world started in its process: the page at /, the visitor's /start typed on
    the page answered by the bot."""
    with paystage_run(tmp_path) as (story, process):
        startup = (tmp_path / "run.log").read_text().splitlines()
        assert startup[-1] == f"Open {story.base}/", startup
        assert "nothing leaves this machine" in startup[-2]
        status, page = call(story.base + "/")
        assert status == 200 and "<html" in page.lower()
        assert call(story.base + "/sandbox/chat", {"text": "/start"})[0] == 202
        assert "Welcome" in bot_says(story.base)[0]
    assert process.returncode == 0
    # its own database, not the live one (DATABASE_URL, here run.sqlite3)
    assert (tmp_path / "sandbox.sqlite3").exists() and not (tmp_path / "run.sqlite3").exists()


def test_paystage_run_with_credentials_has_no_sandbox_route(tmp_path):
    with LocalBotAPI() as telegram, LocalTwilioAPI() as twilio, paystage_run(tmp_path, telegram, twilio) as started:
        story, _ = started
        assert call(story.base + "/")[0] == 404
        assert call(story.base + "/sandbox/state")[0] == 404
        assert call(story.base + "/healthz")[0] == 200
    assert "sandbox" not in (tmp_path / "run.log").read_text()
