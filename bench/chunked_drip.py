"""Malformed chunked bodies: how long /healthz takes while connections drip a chunk-size line that never ends.

    .venv/bin/python bench/chunked_drip.py [--connections 8] [--seconds 20] [--rate 1048576] [--before]

Issue 14, item 2. waitress's ChunkedReceiver keeps an unfinished chunk-size line and, on every read of 8 KiB,
joins it with the new bytes and searches the whole line for CRLF again, so a line that never ends costs more
with every read (quadratic) and grows in memory. Its parser stops a body at max_request_body_size, and counts
those bytes too.

A subprocess serves the real app (sms.app.create_app on a fresh SQLite file) with paystage.app.web_server, the
server of `paystage run` and `paystage web`, or with `--before` with waitress.create_server and waitress's
defaults (max_request_body_size 1 GiB), which both commands used before the limits. This process opens
`--connections` connections, each sending POST /sms/inbound with Transfer-Encoding: chunked and then hex digits
without CRLF, `--rate` bytes a second each in pieces of 8 KiB; when the server answers and closes, the connection
reconnects and starts again, as an attacker would. Meanwhile /healthz is asked every 0.2 s on a new connection
(timeout 60 s), and its times are printed with the server's CPU and its peak memory.
"""

import argparse
import http.client
import logging
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sms_webhook import CpuUse  # noqa: E402

PIECE = b"f" * 8192
HEAD = (b"POST /sms/inbound HTTP/1.1\r\nHost: pay.example\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n")


def serve(database_path: str, before: bool) -> None:
    """Serve the real app on a free port of 127.0.0.1; print the port."""
    import waitress

    from core.clock import system_clock
    from core.context import Context
    from core.links import PaymentLinks
    from paystage.app import web_server
    from sms.app import create_app
    from storage.database import open_database, upgrade

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a queue behind the dripping is what we measure
    upgrade(open_database(f"sqlite:///{database_path}"))
    app = create_app(Context(clock=system_clock, links=PaymentLinks("https://pay.example", "bench-secret")),
                     public_base_url="https://pay.example", twilio_auth_token="bench-auth-token-0123456789")
    server = (waitress.create_server(app, host="127.0.0.1", port=0, ident="paystage") if before
              else web_server(app, "127.0.0.1", 0))
    print(server.effective_port, server.adj.max_request_body_size, flush=True)
    server.run()


class Drip:
    """One connection after another, each dripping a chunk-size line that never ends until the server closes it."""

    def __init__(self, port: int, rate: float, until: float):
        self.port, self.rate, self.until = port, rate, until
        self.sent = self.refused = self.dropped = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while time.monotonic() < self.until:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            try:
                sock.sendall(HEAD)
                start = time.monotonic()
                sent = 0
                while time.monotonic() < self.until:
                    pause = start + sent / self.rate - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    sock.sendall(PIECE)
                    sent += len(PIECE)
                    self.sent += len(PIECE)
                    if sent % (64 * 1024) == 0 and self.answered(sock):
                        break
            except OSError:  # the server closed while we were sending: its answer may still be there to read
                sock.settimeout(1)
                try:
                    self.count(sock.recv(4096))
                except OSError:
                    self.count(b"")
            finally:
                sock.close()

    def answered(self, sock: socket.socket) -> bool:
        """Whether the server has answered (a 413, then closed); does not wait."""
        sock.setblocking(False)
        try:
            answer = sock.recv(4096)
        except BlockingIOError:
            return False
        finally:
            sock.setblocking(True)
        self.count(answer)
        return True

    def count(self, answer: bytes) -> None:
        if answer.startswith(b"HTTP/1.1 413"):
            self.refused += 1
        else:
            self.dropped += 1


def healthz(port: int) -> float | None:
    """Seconds /healthz took to answer 200, or None."""
    start = time.perf_counter()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", "/healthz")
        ok = connection.getresponse().status == 200
        connection.close()
    except OSError:
        return None
    return time.perf_counter() - start if ok else None


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=1024 * 1024, help="bytes a second per connection")
    parser.add_argument("--before", action="store_true", help="waitress's defaults, as before the limits")
    parser.add_argument("--serve", metavar="SQLITE_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.before)

    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, __file__, "--serve", f"{folder}/bench.sqlite3"] + (["--before"] * args.before)
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            port, cap = map(int, server.stdout.readline().split())
            quiet = [t for t in (healthz(port) for _ in range(20)) if t is not None]
            print(f"server pid {server.pid}, max_request_body_size {cap:,}; /healthz alone: "
                  f"median {statistics.median(quiet) * 1000:.1f} ms, peak RSS {peak_rss_mib(server.pid):.0f} MiB")
            cpu = CpuUse(server.pid)
            until = time.monotonic() + args.seconds
            drips = [Drip(port, args.rate, until) for _ in range(args.connections)]
            times, failed = [], 0
            while time.monotonic() < until:
                took = healthz(port)
                if took is None:
                    failed += 1
                else:
                    times.append(took * 1000)
                time.sleep(0.2)
            usage = str(cpu)
            for drip in drips:
                drip.thread.join(timeout=10)
            times.sort()
            sent = sum(d.sent for d in drips)
            print(f"{args.connections} connections dripping {args.rate / 1024:.0f} KiB/s each for {args.seconds:.0f} s:"
                  f" /healthz median {statistics.median(times):.1f} ms, p90 {times[int(len(times) * 0.9) - 1]:.1f} ms,"
                  f" max {times[-1]:.1f} ms ({len(times)} answered, {failed} failed)")
            print(f"  sent {sent / 2**20:.1f} MiB; connections refused with 413: {sum(d.refused for d in drips)},"
                  f" closed without a 413: {sum(d.dropped for d in drips)}; server peak RSS "
                  f"{peak_rss_mib(server.pid):.0f} MiB; {usage}")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
