"""Request size limits: no one can make the web app hold a large body before a signature check refuses it.

Each route takes what its sender really sends: Twilio's form posts up to 64 KiB (a text's Body is at most 1,600
characters), Telegram's updates up to 256 KiB, GET routes no body at all. The Flask app refuses a larger body
(413) and any multipart body (415) before reading it; the WSGI server refuses a body over the largest limit
itself, after the headers, without reading it. The last tests run the real `paystage web` and `paystage run`.
"""

import io
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from sms.app import create_app
from tests.run_harness import stop

ROOT = Path(__file__).resolve().parent.parent
KIB, MIB = 1024, 1024 * 1024
TWILIO_LIMIT, TELEGRAM_LIMIT = 64 * KIB, 256 * KIB
TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC = "https://pay.example"
GARBAGE = {"X-Twilio-Signature": "forged0123456789abcdefghijk="}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def app(ctx):
    return create_app(ctx, public_base_url=PUBLIC, twilio_auth_token=TOKEN)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def signatures_checked(monkeypatch):
    """Every form a Twilio signature was computed over, in order."""
    checked = []
    validate = RequestValidator.validate

    def spy(self, uri, params, signature):
        checked.append(params)
        return validate(self, uri, params, signature)

    monkeypatch.setattr(RequestValidator, "validate", spy)
    return checked


def a_text(body: str) -> dict[str, str]:
    """The form Twilio posts for an inbound text (the fields it really sends)."""
    return {"ToCountry": "US", "ToState": "CA", "SmsMessageSid": "SM" + "1" * 32, "NumMedia": "0",
            "ToCity": "SAN FRANCISCO", "FromZip": "94103", "SmsSid": "SM" + "1" * 32, "FromState": "CA",
            "SmsStatus": "received", "FromCity": "SAN FRANCISCO", "Body": body, "FromCountry": "US",
            "To": "+14155550100", "MessagingServiceSid": "MG" + "2" * 32, "ToZip": "94105", "NumSegments": "11",
            "MessageSid": "SM" + "1" * 32, "AccountSid": "AC" + "3" * 32, "From": "+14155550134",
            "ApiVersion": "2010-04-01"}


def padded_form(size: int) -> bytes:
    return urllib.parse.urlencode({"From": "+14155550134", "Body": "x" * size}).encode()


# --- the Flask app -----------------------------------------------------------------------------------------------


def test_the_longest_text_twilio_can_send_is_answered(client, planned):
    form = a_text("€" * 1600)  # 1,600 characters, each 9 bytes once percent-encoded
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/sms/inbound", form)
    response = client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200 and b"<Response" in response.data


@pytest.mark.parametrize("path", ["/sms/inbound", "/sms/status"])
def test_a_twilio_post_over_64_kib_is_refused_before_its_signature_is_computed(client, signatures_checked, path):
    response = client.post(path, data=padded_form(TWILIO_LIMIT), headers=GARBAGE | FORM)
    assert response.status_code == 413
    assert signatures_checked == []


def post_without_a_length(client, path: str, body: bytes, headers: dict[str, str]):
    """What a server that does not dechunk Transfer-Encoding: chunked hands over: a stream it ends, no length."""
    environ = EnvironBuilder(path, method="POST", input_stream=io.BytesIO(body), headers=headers).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    response = client.open(Request(environ))
    assert response.request.content_length is None
    return response


def test_a_body_without_a_content_length_is_refused_past_the_limit(client, signatures_checked):
    response = post_without_a_length(client, "/sms/inbound", padded_form(2 * MIB), GARBAGE | FORM)
    assert response.status_code == 413
    assert signatures_checked == []


def test_a_text_without_a_content_length_is_answered_within_the_limit(client, planned):
    form = a_text("BAL")
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/sms/inbound", form)
    response = post_without_a_length(client, "/sms/inbound", urllib.parse.urlencode(form).encode(),
                                     FORM | {"X-Twilio-Signature": signature})
    assert response.status_code == 200 and planned in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/sms/inbound", "/sms/status"])
def test_a_multipart_post_is_refused_as_no_route_takes_a_file(client, signatures_checked, path):
    form = {"From": "+14155550134", "Body": "BAL", "MediaUrl0": (io.BytesIO(b"x" * KIB), "photo.jpg")}
    response = client.post(path, data=form, headers=GARBAGE, content_type="multipart/form-data")
    assert response.status_code == 415
    assert signatures_checked == []


@pytest.mark.parametrize("path", ["/healthz", "/p/J-NOPE.1800000000.abc", "/nowhere"])
def test_a_get_takes_no_body(client, path):
    response = client.get(path, data=b"x" * KIB, headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 413


def test_a_get_without_a_body_is_served(client):
    assert client.get("/healthz").status_code == 200


@pytest.fixture
def telegram_web(api, app):
    """The web app with the Telegram webhook mounted, as `paystage run` mounts it in webhook mode."""
    from bot.app import build_application
    from bot.commands import Services
    from bot.runner import BotRunner
    from bot.webhook import webhook_blueprint
    from tests.bot_harness import TOKEN as BOT_TOKEN

    runner = BotRunner(build_application(BOT_TOKEN, Services(app.config["PAYSTAGE_CONTEXT"]),
                                         api_base_url=api.base_url, polling=False),
                       webhook_url=PUBLIC + "/telegram/webhook", webhook_secret="s3cret-token")
    runner.start()
    app.register_blueprint(webhook_blueprint("s3cret-token", runner))
    yield app.test_client()
    runner.stop()


def test_a_telegram_update_is_taken_up_to_256_kib_and_refused_above(telegram_web, api):
    secret = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
    update = api.make_message_update(555, "/start", first_name="Granite & Co")
    large = dict(update, padding="x" * (TELEGRAM_LIMIT - 2 * KIB))
    assert telegram_web.post("/telegram/webhook", json=large, headers=secret).status_code == 200
    too_large = dict(update, padding="x" * TELEGRAM_LIMIT)
    assert telegram_web.post("/telegram/webhook", json=too_large, headers=secret).status_code == 413
    multipart = telegram_web.post("/telegram/webhook", data={"update": (io.BytesIO(b"{}"), "u.json")},
                                  headers=secret, content_type="multipart/form-data")
    assert multipart.status_code == 415


# --- the real server ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz(base: str, timeout: float) -> float:
    """How long /healthz took to answer 200, in seconds."""
    start = time.monotonic()
    with urllib.request.urlopen(base + "/healthz", timeout=timeout) as response:
        assert response.status == 200
    return time.monotonic() - start


@pytest.fixture(scope="module", params=["web", "run"])
def server(request, tmp_path_factory):
    """`paystage web` or `paystage run` in a child process: (its base URL, its pid)."""
    folder = tmp_path_factory.mktemp(request.param)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAYSTAGE_", "DATABASE_URL", "TWILIO_", "TELEGRAM_"))}
    env.update(PAYSTAGE_DATA_DIR=str(folder), DATABASE_URL=f"sqlite:///{folder / 'web.sqlite3'}", PORT=str(port),
               PUBLIC_BASE_URL=base, TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN=TOKEN,
               TWILIO_FROM_NUMBER="+14155550100", TWILIO_API_BASE_URL="http://127.0.0.1:9", PYTHONUNBUFFERED="1")
    log = open(folder / "server.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "paystage.cli", request.param], env=env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                healthz(base, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(f"paystage {request.param} did not start:\n"
                                         + (folder / "server.log").read_text()) from None
                time.sleep(0.1)
        yield base, process.pid
    finally:
        stop(process)
        log.close()


def memory_kib(pid: int, field: str) -> int:
    """VmRSS (resident now) or VmHWM (the peak since the last reset_peak) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM starts again from VmRSS


def connect(base: str) -> socket.socket:
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    return socket.create_connection((host, int(port)), timeout=60)


def send_in_background(sock: socket.socket, pieces) -> threading.Thread:
    """Send each piece in turn on a thread of its own, until done or the server closes the connection."""

    def send():
        try:
            for piece in pieces:
                sock.sendall(piece)
        except OSError:
            pass  # the server answered and closed: what the test wants

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def answer(sock: socket.socket, timeout: float) -> tuple[int | None, bool]:
    """The status of the server's answer (None if none came in `timeout`), and whether it then closed."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(64 * KIB):
            received += chunk
        closed = True
    except ConnectionResetError:
        closed = True
    except TimeoutError:
        closed = False
    status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/") else None
    return status, closed


def test_a_huge_unsigned_text_is_refused_without_the_server_holding_it(server):
    base, pid = server
    size = 30 * MIB
    healthz(base, timeout=30)  # warm: the first request imports and allocates what every request uses
    before = memory_kib(pid, "VmRSS")
    reset_peak(pid)
    sock = connect(base)
    head = (f"POST /sms/inbound HTTP/1.1\r\nHost: pay.example\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {GARBAGE['X-Twilio-Signature']}\r\nContent-Length: {size}\r\n\r\n").encode()
    body = b"From=%2B14155550134&Body=" + b"x" * (size - 25)
    sender = send_in_background(sock, [head] + [body[i:i + MIB] for i in range(0, size, MIB)])
    status, closed = answer(sock, timeout=60)
    sender.join(timeout=60)
    sock.close()
    grown = memory_kib(pid, "VmHWM") - before
    assert grown < 8 * KIB, f"the server grew by {grown} KiB for a body of {size // KIB} KiB (answered {status})"
    assert status == 413 and closed


def test_the_server_refuses_a_length_over_the_largest_limit_from_the_headers_alone(server):
    base, _ = server
    sock = connect(base)
    sock.sendall(f"POST /sms/inbound HTTP/1.1\r\nHost: pay.example\r\nContent-Type: application/x-www-form-urlencoded"
                 f"\r\nContent-Length: {TELEGRAM_LIMIT + 1}\r\n\r\n".encode())  # and no body: none is waited for
    assert answer(sock, timeout=30) == (413, True)
    sock.close()


def test_a_chunk_size_line_that_never_ends_is_cut_off_at_the_limit_and_the_server_keeps_answering(server):
    base, _ = server
    sock = connect(base)
    sock.sendall(b"POST /sms/inbound HTTP/1.1\r\nHost: pay.example\r\nTransfer-Encoding: chunked\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" + b"f" * (128 * KIB))
    assert healthz(base, timeout=30) < 30  # while that connection is open and its size line unfinished
    assert answer(sock, timeout=0.5) == (None, False)  # nothing refused yet: under the limit
    # the rest of the limit and a little more, then nothing: a server that wants more never answers
    send_in_background(sock, [b"f" * (8 * KIB)] * ((TELEGRAM_LIMIT - 128 * KIB) // (8 * KIB) + 2))
    assert answer(sock, timeout=30) == (413, True)
    sock.close()
    assert healthz(base, timeout=30) < 30
