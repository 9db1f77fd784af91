"""Every way start-up fails, as a person meets it: `python -m paystage.cli run|web|worker` with a setting wrong or a
service away. Each stops with one line on standard error, no traceback, naming the setting or the service and what
to do; exit code 2 when a setting is wrong (the same command fails the same way until it is fixed), 3 when a
service, the port or the database is not there now (it may work later); and none of the secrets it was given in
its output.

What is no reason to stop: Telegram or Twilio not answering. `paystage run` serves and works without them, the bot
starts when Telegram answers, and a text waits in the outbox until Twilio does. A provider "coming back" is a relay
starting to listen on the address Paystage was given, in front of the local API in sandbox/.

On one SQLite file one `paystage worker` or `paystage run` at a time (a lock next to the file); `paystage web`
beside it is the documented split (README, Texting customers). Several workers on PostgreSQL: test_two_workers.py.
"""

import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from sandbox import LocalBotAPI, LocalTwilioAPI
from sandbox.server import closed_port
from storage.models import OutboxMessage
from tests.databases import POSTGRES_URL
from tests.run_harness import free_port
from tests.worker_process import WorkerProcess, backend, due_now, seed_backlog, wait_until, worker_env

ROOT = Path(__file__).resolve().parent.parent
DB_PASSWORD = "db-password-never-printed"
SECRETS = {  # every secret setting, each given to every start-up below
    "PAYSTAGE_SECRET_KEY": "startup-secret-key-never-printed-0123456789",
    "TWILIO_AUTH_TOKEN": "twilio-auth-token-never-printed",
    "TELEGRAM_BOT_TOKEN": "123456:bot-token-never-printed",
    "STRIPE_SECRET_KEY": "sk_test_stripe_key_never_printed",
    "STRIPE_WEBHOOK_SECRET": "whsec_webhook_secret_never_printed",
}


def environment(tmp_path: Path, **env: str) -> dict[str, str]:
    """A live configuration (every secret set, every service on a closed port of this machine), `env` on top."""
    port = free_port()
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("PAYSTAGE_", "DATABASE_URL", "TWILIO_", "TELEGRAM_", "STRIPE_", "PUBLIC_BASE_URL"))
            and k not in ("HOST", "PORT")}
    nowhere = f"http://127.0.0.1:{closed_port()}"
    base.update(SECRETS, PYTHONUNBUFFERED="1", PAYSTAGE_DATA_DIR=str(tmp_path / "data"),
                DATABASE_URL=f"sqlite:///{tmp_path / 'paystage.sqlite3'}", PORT=str(port),
                PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", TWILIO_ACCOUNT_SID="AC" + "0" * 32,
                TWILIO_FROM_NUMBER="+14155550100", TWILIO_API_BASE_URL=nowhere, TELEGRAM_API_BASE_URL=nowhere,
                STRIPE_API_BASE_URL=nowhere)
    base.update(env)
    return base


def paystage(command: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paystage.cli", command], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def given_secrets(env: dict[str, str]) -> list[str]:
    found = [env[name] for name in SECRETS if env.get(name)]
    password = urllib.parse.urlsplit(env.get("DATABASE_URL", "")).password
    return found + ([password] if password else [])


def assert_stopped_with_one_line(run: subprocess.CompletedProcess, env: dict[str, str], code: int, *words: str):
    said = run.stderr
    assert "Traceback" not in said, said
    assert said.count("\n") == 1 and said.startswith("paystage: "), said
    assert run.returncode == code, (run.returncode, said)
    for word in words:
        assert word in said, (word, said)
    for secret in given_secrets(env):
        for form in (secret, urllib.parse.quote(secret, safe="")):
            assert form not in said + run.stdout, f"a secret is in the output: {said}"


def postgres_at(port: int, database: str = "paystage") -> str:
    return f"postgresql://paystage:{DB_PASSWORD}@127.0.0.1:{port}/{database}"


# --- a setting is wrong: exit code 2 ---------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["run", "web", "worker"])
def test_a_database_url_that_is_no_url_is_one_line_naming_it(tmp_path, command):
    env = environment(tmp_path, DATABASE_URL="foo")
    assert_stopped_with_one_line(paystage(command, env), env, 2, "DATABASE_URL", "sqlite:///", "postgresql://")


def test_a_mysql_database_url_is_refused_without_its_password(tmp_path):
    env = environment(tmp_path, DATABASE_URL=f"mysql://paystage:{DB_PASSWORD}@127.0.0.1:3306/paystage")
    assert_stopped_with_one_line(paystage("run", env), env, 2, "DATABASE_URL", "MySQL is not supported")


def test_a_sqlite_file_where_no_folder_can_be_made_is_one_line(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    env = environment(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'a-file' / 'paystage.sqlite3'}")
    assert_stopped_with_one_line(paystage("worker", env), env, 2, "DATABASE_URL", "cannot open the SQLite database")


@pytest.mark.skipif(not POSTGRES_URL, reason="a PostgreSQL server: set PAYSTAGE_TEST_POSTGRES_URL")
def test_a_postgresql_database_that_does_not_exist_is_a_setting_to_fix(tmp_path):
    server = urllib.parse.urlsplit(POSTGRES_URL)
    url = server._replace(netloc=f"{server.username}:{DB_PASSWORD}@{server.hostname}:{server.port or 5432}",
                          path="/paystage_no_such_database").geturl()
    env = environment(tmp_path, DATABASE_URL=url)
    assert_stopped_with_one_line(paystage("worker", env), env, 2, "DATABASE_URL", "does not exist")


def test_a_public_base_url_with_credentials_is_refused_without_them(tmp_path):
    env = environment(tmp_path, PUBLIC_BASE_URL=f"https://owner:{DB_PASSWORD}@pay.example.com")
    run = paystage("web", env)
    assert_stopped_with_one_line(run, env, 2, "PUBLIC_BASE_URL")
    assert DB_PASSWORD not in run.stderr


def test_a_host_that_is_not_this_machines_is_one_line_naming_it(tmp_path):
    env = environment(tmp_path, HOST="192.0.2.1")  # TEST-NET-1: never an address of this machine
    assert_stopped_with_one_line(paystage("web", env), env, 2, "HOST='192.0.2.1'")


def test_a_bot_token_telegram_refuses_stops_paystage_run_without_printing_it(tmp_path):
    with LocalBotAPI(token="654321:the-token-telegram-knows") as telegram:
        env = environment(tmp_path, TELEGRAM_API_BASE_URL=telegram.base_url)
        run = paystage("run", env)
        refused = [r for r in telegram.requests if r["status"] == 401]
    assert refused, "Telegram was never asked"
    assert_stopped_with_one_line(run, env, 2, "TELEGRAM_BOT_TOKEN", "@BotFather")


# --- a service, the port or the database is not there now: exit code 3 ------------------------------------------

@pytest.mark.parametrize("command", ["run", "web", "worker"])
def test_postgresql_that_does_not_answer_is_one_line_without_the_password(tmp_path, command):
    env = environment(tmp_path, DATABASE_URL=postgres_at(closed_port()))
    assert_stopped_with_one_line(paystage(command, env), env, 3, "DATABASE_URL", "PostgreSQL does not answer",
                                 "paystage:***@127.0.0.1")


@pytest.mark.parametrize("command", ["run", "web"])
def test_a_port_already_taken_is_one_line_naming_port(tmp_path, command):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = environment(tmp_path, PORT=str(taken.getsockname()[1]))
        run = paystage(command, env)
    assert_stopped_with_one_line(run, env, 3, f"PORT={env['PORT']}", "already listens")


# --- one SQLite writer family -------------------------------------------------------------------------------------

def test_a_second_worker_or_run_on_one_sqlite_file_refuses_until_the_first_has_stopped(tmp_path):
    """Exit code 3, not 2: nothing in the settings is wrong, the file is taken now; once the first process has
    stopped (or died: the OS lets go of the lock) the same command starts."""
    with backend("sqlite", tmp_path) as url, LocalTwilioAPI() as api:
        env = worker_env(url, api, tmp_path / "data")
        first = WorkerProcess(env, tmp_path / "first.log")
        try:
            wait_until(first.started, timeout=30, what="the first worker running")
            for command in ("worker", "run"):
                second = paystage(command, {**env, "PORT": str(free_port())})
                assert_stopped_with_one_line(second, env, 3, str(Path(url.removeprefix("sqlite:///"))),
                                             "in use by another", f"process {first.process.pid}", "PostgreSQL")
            assert first.stop() == 0
        finally:
            first.ensure_dead()
        again = WorkerProcess(env, tmp_path / "again.log")
        try:
            wait_until(again.started, timeout=30, what="a worker once the first has stopped")
            again.kill()  # no handler runs: the lock goes with the process
        finally:
            again.ensure_dead()
        after_a_crash = WorkerProcess(env, tmp_path / "after-a-crash.log")
        try:
            wait_until(after_a_crash.started, timeout=30, what="a worker after one was killed")
        finally:
            after_a_crash.stop()


def test_paystage_web_runs_beside_a_worker_on_one_sqlite_file(tmp_path):
    """The README's split (`paystage web` and `paystage worker`): the web app takes no writer lock."""
    with backend("sqlite", tmp_path) as url, LocalTwilioAPI() as api:
        env = worker_env(url, api, tmp_path / "data")
        worker = WorkerProcess(env, tmp_path / "worker.log")
        port = free_port()
        log = open(tmp_path / "web.log", "w")
        web = subprocess.Popen([sys.executable, "-m", "paystage.cli", "web"], env={**env, "PORT": str(port)},
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(worker.started, timeout=30, what="the worker running")
            wait_until(lambda: answers(f"http://127.0.0.1:{port}/healthz", web), timeout=30,
                       what="paystage web answering beside the worker")
        finally:
            web.terminate()
            web.wait(timeout=20)
            log.close()
            worker.stop()


# --- no reason to stop: Telegram or Twilio away -------------------------------------------------------------------

class _RelayServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class Relay:
    """Listens on `port` of 127.0.0.1 and passes every connection on to `target`: a provider coming back at the
    address Paystage was given."""

    def __init__(self, port: int, target: int):
        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                with socket.create_connection(("127.0.0.1", target), timeout=30) as upstream:
                    back = threading.Thread(target=_pump, args=(upstream, self.request), daemon=True)
                    back.start()
                    _pump(self.request, upstream)
                    back.join(timeout=30)

        self.server = _RelayServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def answers(url: str, process: subprocess.Popen) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"the process exited with {process.returncode}")
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError("it did not stop within 30 s of SIGTERM") from None


def test_paystage_run_serves_without_telegram_and_starts_the_bot_when_telegram_answers(tmp_path):
    telegram_port = closed_port()
    env = environment(tmp_path, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{telegram_port}")
    log_path = tmp_path / "run.log"
    with LocalBotAPI(token=SECRETS["TELEGRAM_BOT_TOKEN"]) as telegram, open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "paystage.cli", "run"], env=env, cwd=ROOT, stdout=log,
                                   stderr=subprocess.STDOUT)
        relay = None
        try:
            wait_until(lambda: answers(f"{env['PUBLIC_BASE_URL']}/healthz", process), timeout=30,
                       what="the web app answering while Telegram does not")
            wait_until(lambda: "worker started" in log_path.read_text(), timeout=10, what="the worker running")
            said = log_path.read_text()
            assert [line for line in said.splitlines() if "Telegram does not answer" in line] != [], said
            relay = Relay(telegram_port, telegram.port)  # Telegram is back
            wait_until(lambda: telegram.calls_to("getUpdates"), timeout=30, what="the bot polling once Telegram "
                       "answers (its next try is at most 6 s away)")
            telegram.push_message(555, "/start", first_name="Granite & Co")
            assert telegram.wait_for_sent(1, timeout=20)[0]["chat_id"] == 555  # the bot answers
            assert stop(process) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if relay:
                relay.close()
    said = log_path.read_text()
    assert "Traceback" not in said, said
    assert sum("Telegram does not answer" in line for line in said.splitlines()) == 1, said
    for secret in given_secrets(env):
        assert secret not in said


def test_a_text_waits_while_twilio_does_not_answer_and_goes_out_when_it_does(tmp_path):
    twilio_port = closed_port()
    with backend("sqlite", tmp_path) as url, LocalTwilioAPI() as twilio:
        [body] = seed_backlog(1, due_at=due_now())
        reachable_later = SimpleNamespace(account_sid=twilio.account_sid, auth_token=twilio.auth_token,
                                          base_url=f"http://127.0.0.1:{twilio_port}")
        worker = WorkerProcess(worker_env(url, reachable_later, tmp_path / "data"), tmp_path / "worker.log")
        relay = None
        try:
            wait_until(lambda: OutboxMessage.get().attempts == 1, timeout=30, what="a first try at the text")
            row = OutboxMessage.get()
            assert row.state == "pending" and "could not reach Twilio" in row.last_error
            assert row.next_attempt_at > datetime.now(timezone.utc)  # tried again later: 15 to 30 s, with jitter
            assert worker.process.poll() is None, worker.log
            relay = Relay(twilio_port, twilio.port)  # Twilio is back
            OutboxMessage.update(next_attempt_at=datetime.now(timezone.utc)).execute()  # ... and the wait is over
            wait_until(lambda: OutboxMessage.get().state == "sent", timeout=30, what="the text sent")
            assert [m["body"] for m in twilio.messages] == [body]
            assert worker.stop() == 0
        finally:
            worker.ensure_dead()
            if relay:
                relay.close()
        assert "Traceback" not in worker.log, worker.log
        assert twilio.auth_token not in worker.log
