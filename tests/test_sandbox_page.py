"""The sandbox page (sandbox/web.py) over the whole product, as `paystage run` runs it in sandbox mode.

One process, as `paystage run`: the Sandbox's local Bot API, Twilio and Stripe; the real bot polling the local Bot
API; the worker sending through its outbox; the web app with the sandbox blueprint on a live port. Built with
paystage/app.py's own builders from settings made with the world's env(). The story is played in headless Chromium
through the page as a visitor plays it; the endpoints' refusals over plain HTTP.
"""

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from paystage.app import build_bot, build_context, build_web_app, build_worker, open_storage, web_server
from paystage.settings import Settings
from sandbox.web import sandbox_blueprint
from sandbox.world import Sandbox
from storage.models import db
from tests.run_harness import free_port

pytest_plugins = ["tests.browser"]

LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
DANA = "+14155550134"
SAM = "+14155550188"
WAIT = 20_000  # ms a step of the story may take in the browser


@dataclass
class Running:
    world: Sandbox
    base: str
    settings: Settings


@pytest.fixture
def running(tmp_path):
    """`paystage run` in sandbox mode, in this process: the world, the bot, the worker and the page."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    world = Sandbox(base).start()
    env = {**world.env(), "PAYSTAGE_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
           "PUBLIC_BASE_URL": base, "PORT": str(port), "PAYSTAGE_QUIET_HOURS": "off", "PAYSTAGE_SMS_PER_SECOND": "0"}
    settings = Settings.from_env(env)
    open_storage(settings)
    ctx = build_context(settings)
    bot = build_bot(settings, ctx)
    web = build_web_app(settings, ctx)
    web.register_blueprint(sandbox_blueprint(world))
    server = web_server(web, "127.0.0.1", port)
    worker = build_worker(settings, ctx)
    thread = threading.Thread(target=server.run, name="web", daemon=True)
    thread.start()
    worker.start()
    bot.start()
    try:
        yield Running(world, base, settings)
    finally:
        bot.stop()
        worker.stop()
        server.close()
        world.close()
        db.close()


def call(base: str, path: str, body=None, *, raw: bytes | None = None, content_type="application/json"):
    """(status, JSON answer) of a GET, or a POST of `body` as JSON (or of `raw` bytes)."""
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": content_type} if data is not None else {}
    request = urllib.request.Request(base + path, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        with error:
            text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, {"html": text.decode()}


def test_the_page_is_served_with_a_policy_for_its_own_script(running):
    with urllib.request.urlopen(running.base + "/", timeout=10) as response:
        html = response.read().decode()
        policy = response.headers["Content-Security-Policy"]
    assert "Load the countertop story" in html and "/sandbox/static/sandbox.js" in html
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
