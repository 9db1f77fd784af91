"""SMS webhook benchmark: signed BAL texts through waitress, side by side with a bare Flask route.

    .venv/bin/python bench/sms_webhook.py [--jobs 100000] [--rate 100] [--seconds 20] [--load-seconds 10]
                                          [--rounds 3] [--connections 8]

Goals (issue 11, "Fast under bursts"; issue 4 asked for 25 ms and 50%): p99 <= 10 ms for signed BAL texts at 100
requests per second; maximum throughput of POST /sms/inbound >= 35% of a bare Flask route's that answers a constant
TwiML document. A third route, the ceiling, checks the signature, reads the form and answers TwiML as the real one
does, with a constant text and no database: what the real route could reach if the answer cost nothing.

The jobs are seeded the way bench/core_bench.py seeds them (each with its own customer, a sent plan, 3 events,
3 milestones, the deposit paid) in a SQLite file in a temporary folder. A subprocess serves one WSGI app with
waitress.create_server, which is what `paystage web`'s waitress.serve calls, with its settings (4 threads, the
default): werkzeug's DispatcherMiddleware sends /bare to a minimal Flask app with one route answering a constant
TwiML <Message>, /ceiling to one whose /sms/inbound is the real one without the use case (the real app's request
hooks, sms.signature.twilio_signed, sms.webhooks.field and twiml, a constant text), and everything else to the real
app (sms.app.create_app). All routes therefore share one server, one thread pool and one process.

The client is this process, so the server's threads do not share its GIL (the machine has 2 cores: one for
the server, one for the client). Every request, to either route, is a BAL text from a random seeded customer
with a fresh MessageSid, signed with RequestValidator.compute_signature, sent with http.client over
keep-alive connections on loopback. Each answer is checked: 200, a TwiML <Message>, and for the real route the
customer's job, what was paid ($1,000.00) and what remains ($3,000.00); failures are counted and shown.

1. Fixed rate: each route in turn gets `--rate` requests per second for `--seconds`, sent on a schedule by 8
   threads. Latency runs from the moment a request was due to be sent to the end of its answer, so a server
   that stalls the schedule is not hidden by a client that waits for it.
2. Maximum throughput: `--connections` closed-loop threads, each on its own connection, for `--load-seconds`
   per route, the routes taking turns `--rounds` times (the median round is reported: on a shared machine the
   others' load moves between rounds, and the turns spread it over every route alike). More connections than
   server threads keep the server's queue non-empty between round trips.
   The CPU used by the server, the client and every other process is printed for each phase, to show which
   side was the limit and whether something else on the machine was competing.
"""

import argparse
import http.client
import itertools
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twilio.request_validator import RequestValidator  # noqa: E402

from bench.core_bench import NOW, seed  # noqa: E402

PUBLIC = "https://pay.example"  # what Twilio signs: PUBLIC_BASE_URL + path
TOKEN = "bench-auth-token"
OUR_NUMBER = "+14155550100"
REAL, BARE, CEILING = "/sms/inbound", "/bare/", "/ceiling/sms/inbound"
BARE_TEXT = ("Balance for Kitchen countertops (J-B0000000): Paid so far: $1,000.00 of $4,000.00. "
             "Remaining: $3,000.00. Pay or see your plan: https://pay.example/p/J-B0000000.1800000000.abcdef")
SERVER_THREADS = 4  # waitress's default, which `paystage web` uses
SCHEDULE_THREADS = 8  # at 100/s each sends every 80 ms, so one slow answer does not delay the next request


# --- the server (a subprocess) ---------------------------------------------------------------------------------


def serve(database_path: str) -> None:
    """Serve the real app and the bare route on one waitress server; print its port."""
    import waitress
    from flask import Flask, Response
    from twilio.twiml.messaging_response import MessagingResponse
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from core.clock import FrozenClock
    from core.context import Context
    from core.links import PaymentLinks
    from sms import request_limits, response_headers
    from sms.app import create_app
    from sms.signature import twilio_signed
    from sms.webhooks import field, twiml
    from storage.database import open_database

    logging.basicConfig(level=logging.WARNING, format="server %(levelname)s %(name)s: %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a queue is the point of the closed loop
    open_database(f"sqlite:///{database_path}")
    ctx = Context(clock=FrozenClock(NOW), links=PaymentLinks(PUBLIC, "bench-secret"))
    real = create_app(ctx, public_base_url=PUBLIC, twilio_auth_token=TOKEN)

    bare = Flask("bare")
    answer = MessagingResponse()
    answer.message(BARE_TEXT)
    constant = str(answer)

    @bare.post("/")
    def inbound():
        return Response(constant, mimetype="application/xml")

    ceiling = Flask("ceiling")  # mounted at /ceiling, where its path is /sms/inbound: signed_url() is PUBLIC + CEILING
    ceiling.config.update(PUBLIC_BASE_URL=PUBLIC + "/ceiling", TWILIO_AUTH_TOKEN=TOKEN)
    request_limits.init_app(ceiling)
    response_headers.init_app(ceiling)

    @ceiling.post(REAL)
    @twilio_signed
    def signed():
        field("From"), field("MessageSid"), field("Body")  # what the real route reads before the use case
        return twiml(BARE_TEXT)

    server = waitress.create_server(DispatcherMiddleware(real, {"/bare": bare, "/ceiling": ceiling}), host="127.0.0.1",
                                    port=0, threads=SERVER_THREADS, ident="paystage")
    print(server.effective_port, flush=True)
    server.run()


# --- the client ------------------------------------------------------------------------------------------------


class Texts:
    """Signed BAL texts from random seeded customers, each with a fresh MessageSid (thread-safe)."""

    def __init__(self, phones: list[str]):
        self.phones = phones
        self.rng = random.Random(4)
        self.sids = itertools.count(1)
        self.validator = RequestValidator(TOKEN)
        self.lock = threading.Lock()

    def next(self, path: str = REAL) -> tuple[int, bytes, dict[str, str]]:
        with self.lock:
            n = self.rng.randrange(len(self.phones))
            sid = f"SM{next(self.sids):032d}"
        form = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": self.phones[n], "To": OUR_NUMBER,
                "Body": "BAL", "NumMedia": "0"}
        signature = self.validator.compute_signature(PUBLIC + path, form)
        return n, urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded",
                                             "X-Twilio-Signature": signature}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # ms
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, latency: float, failure: str | None) -> None:
        with self.lock:
            self.latencies.append(latency)
            if failure:
                self.failures.append(failure)


def problem(path: str, customer: int, status: int, data: bytes) -> str | None:
    """What is wrong with an answer, or None when it is a 200 TwiML <Message> (with the amounts, if real)."""
    if status != 200:
        return f"{path}: HTTP {status}: {data[:200]!r}"
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return f"{path}: not XML: {data[:200]!r}"
    message = root.find("Message")
    if root.tag != "Response" or message is None or not message.text:
        return f"{path}: no <Message>: {data[:200]!r}"
    if path == REAL:
        ref = f"J-B{customer:07d}"
        if not all(part in message.text for part in (ref, "$1,000.00", "$3,000.00")):
            return f"{path}: customer {customer}: expected {ref}, $1,000.00 and $3,000.00 in {message.text!r}"
    return None


class Connection:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            self.conn.request("POST", path, body=body, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return 0, repr(exc).encode()

    def close(self) -> None:
        self.conn.close()


def fixed_rate(port: int, path: str, texts: Texts, rate: float, seconds: float) -> Tally:
    """`rate` requests per second for `seconds`, each timed from the moment it was due."""
    total = int(rate * seconds)
    requests = [texts.next(path) for _ in range(total)]  # signed before the clock starts
    tally = Tally()
    start = time.perf_counter() + 0.1

    def worker(k: int) -> None:
        connection = Connection(port)
        for i in range(k, total, SCHEDULE_THREADS):
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            customer, body, headers = requests[i]
            status, data = connection.post(path, body, headers)
            tally.add((time.perf_counter() - due) * 1000, problem(path, customer, status, data))
        connection.close()

    run_threads(worker, SCHEDULE_THREADS)
    return tally


def closed_loop(port: int, path: str, texts: Texts, connections: int, seconds: float) -> tuple[Tally, float]:
    """As many requests as `connections` closed-loop clients get answered in `seconds`; (tally, elapsed)."""
    tally = Tally()
    deadline = time.perf_counter() + seconds

    def worker(k: int) -> None:
        connection = Connection(port)
        while time.perf_counter() < deadline:
            customer, body, headers = texts.next(path)
            sent = time.perf_counter()
            status, data = connection.post(path, body, headers)
            tally.add((time.perf_counter() - sent) * 1000, problem(path, customer, status, data))
        connection.close()

    started = time.perf_counter()
    run_threads(worker, connections)
    return tally, time.perf_counter() - started


def run_threads(target, count: int) -> None:
    threads = [threading.Thread(target=target, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def cpu_seconds(pid: int | str) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuUse:
    """CPU used by the server, this client and every other process while a phase runs, in cores."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid
        self.start = self._sample()

    def _sample(self) -> tuple[float, float, float, float]:
        # the machine's first line: user nice system idle iowait irq softirq steal, in clock ticks
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
        busy = user + nice + system + irq + softirq + steal
        return time.perf_counter(), cpu_seconds(self.server_pid), cpu_seconds("self"), busy / os.sysconf("SC_CLK_TCK")

    def __str__(self) -> str:
        end = self._sample()
        elapsed, server, client, everything = (b - a for a, b in zip(self.start, end))
        return (f"CPU in cores: server {server / elapsed:.2f}, client {client / elapsed:.2f}, "
                f"other processes {max(everything - server - client, 0) / elapsed:.2f}")


def percentiles(latencies: list[float]) -> tuple[float, float, float]:
    samples = sorted(latencies)
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1], samples[-1]


def report_failures(name: str, tally: Tally) -> int:
    if tally.failures:
        print(f"  {name}: {len(tally.failures)} failures, e.g. {tally.failures[:3]}")
    return len(tally.failures)


def start_server(database: str, script: str = __file__) -> tuple[subprocess.Popen, int]:
    """Run `script --serve database` (this benchmark's by default); once it answers /healthz, (process, port)."""
    server = subprocess.Popen([sys.executable, script, "--serve", database], stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return server, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not answer /healthz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--load-seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--serve", metavar="SQLITE_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)

    from storage.database import open_database, upgrade

    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/bench.sqlite3"
        database = open_database(f"sqlite:///{path}")
        upgrade(database)
        started = time.perf_counter()
        phones = seed(args.jobs)
        database.close()
        print(f"seeded {args.jobs:,} jobs in {time.perf_counter() - started:.1f} s")

        server, port = start_server(path)
        try:
            texts = Texts(phones)
            failures = 0
            print(f"waitress, {SERVER_THREADS} threads, one server on 127.0.0.1:{port} (pid {server.pid}): "
                  f"real app at {REAL}, bare Flask app at {BARE}, ceiling at {CEILING} (DispatcherMiddleware)")
            _, body, headers = texts.next()
            sample = Connection(port)
            status, data = sample.post(REAL, body, headers)
            sample.close()
            print(f"sample answer ({status}): {ET.fromstring(data).findtext('Message')!r}")
            for path in (REAL, CEILING, BARE):  # warm-up, not counted in the figures
                failures += report_failures(f"warm-up {path}", closed_loop(port, path, texts, args.connections, 2)[0])

            for path, goal in ((REAL, "   (goal p99 <= 10 ms)"), (BARE, "   (the bare route, for comparison)")):
                cpu = CpuUse(server.pid)
                tally = fixed_rate(port, path, texts, args.rate, args.seconds)
                p50, p99, worst = percentiles(tally.latencies)
                print(f"{args.rate:.0f} requests/s for {args.seconds:.0f} s, {path}: p50 {p50:.1f} ms, "
                      f"p99 {p99:.1f} ms, max {worst:.1f} ms ({len(tally.latencies):,} requests; {cpu}){goal}")
                failures += report_failures(path, tally)

            rates = {path: [] for path in (REAL, CEILING, BARE)}
            for _ in range(args.rounds):
                for path in rates:
                    cpu = CpuUse(server.pid)
                    tally, elapsed = closed_loop(port, path, texts, args.connections, args.load_seconds)
                    rates[path].append(len(tally.latencies) / elapsed)
                    p50, p99, _ = percentiles(tally.latencies)
                    print(f"maximum throughput, {args.connections} connections for {args.load_seconds:.0f} s, "
                          f"{path}: {rates[path][-1]:,.0f} requests/s (p50 {p50:.1f} ms, p99 {p99:.1f} ms; {cpu})")
                    failures += report_failures(path, tally)
            real, ceiling, bare = (statistics.median(rates[path]) for path in (REAL, CEILING, BARE))
            print(f"median rounds: {REAL} {real:,.0f}/s, {CEILING} {ceiling:,.0f}/s, {BARE} {bare:,.0f}/s")
            print(f"throughput of {REAL} / {BARE}: {real / bare:.0%}   (goal >= 35%)")
            print(f"throughput of {CEILING} / {BARE}: {ceiling / bare:.0%} (the most the real route could reach); "
                  f"{REAL} / {CEILING}: {real / ceiling:.0%}")
            print(f"failed answers: {failures}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
