"""Burst: 10,000 payments falling due at once, 1,000 events marked done and 100 texts a second, on real processes.

    .venv/bin/python bench/burst.py [--jobs 100000] [--due 10000] [--events 1000] [--inbound-rate 100]
        [--seconds 60] [--kill] [--kill-after 2000] [--lease-seconds 300] [--dispatchers 1] [--lead 20]
        [--deadline 900]
        [--postgres-url postgresql://postgres@127.0.0.1:5432]

Goals (issue 11, "Fast under bursts"): every payment-due text reaches Twilio, none twice (0 duplicates) and none
lost (0 lost); with one worker killed by SIGKILL in the middle, still 0 lost and at most one duplicate per kill.
Reported beside them: the time until every due text reached Twilio, the due latency (p50/p99) and the inbound p99;
the issue's latency goals elsewhere are p99 <= 100 ms paced and <= 500 ms back to back from an event marked done
(bench/due_latency.py), and p99 <= 25 ms for a BAL text (bench/sms_webhook.py).

The product runs as an operator runs it, against one PostgreSQL database of the benchmark's own
(`paystage_burst_<random>`, dropped at the end): two `paystage worker` processes and one `paystage web`, with quiet
hours and pacing off (PAYSTAGE_QUIET_HOURS=off, PAYSTAGE_SMS_PER_SECOND=0) and their texts going to the local
Twilio API (sandbox/) through TWILIO_API_BASE_URL. The local Twilio runs in a process of its own, so it shares no
GIL with anyone, and records every text it accepts (recipient, sender, body, arrival time), which this benchmark
reads at the end through a route the subclass below adds. Each worker has its own TWILIO_FROM_NUMBER, so the From
of a text tells which worker sent it.

Seeded (`--jobs` jobs, batched inserts, each job its own customer and phone, 50 contractors, every plan sent and its
consent text already sent; plan "20% now, 20% 3 days before Measurement, 30% after Removal, 30% after Installation"
of $4,000.00, the deposit paid): `--due` jobs whose "before" payment falls due at T0 (their measurement is 3 days
after T0); `--events` jobs whose measurement and removal are done and paid, their installation still to come; the
rest with everything ahead by days. T0 is set `--lead` seconds after the processes are started, so each worker's
first scan schedules its precise date job for T0 (the "next-moment" job of paystage/worker.py).

At T0, at once: the workers' date jobs announce the `--due` milestones; a process of its own calls
`core.events.mark_event_done` for the `--events` installations back to back, on its own connection, as the bot's
/done does (the workers learn of those texts by the NOTIFY its commits send, storage/wake.py); and this process posts
signed BAL texts to `paystage web`'s /sms/inbound at `--inbound-rate` a second for `--seconds` (random seeded
customers, 16 threads on a schedule, latency from the moment each was due to the end of its answer, the answer
checked for the customer's job reference).

What is expected is computed from the seed, never from the outbox: one payment-due text ("is now due") to each of
the `--due` + `--events` phones. Lost: an expected phone without its text by `--deadline` seconds after T0.
Duplicates: a (recipient, body) that arrived more than once. Unexpected: any other text. Due latency: arrival - T0
for the milestones that fell due, arrival - the call for the events marked done. The benchmark waits until every
expected text arrived and no text is left pending or sending in the outbox (or the deadline), then 2 s more for a
late duplicate.

With `--kill`, the first worker is killed with SIGKILL once `--kill-after` texts have arrived; the other finishes.
A batch the killed worker had claimed stays its own until its lease runs out (PAYSTAGE_SEND_LEASE_SECONDS,
`--lease-seconds`, 300 by default as in production); the text it was sending when killed may go twice.
"""

import argparse
import json
import multiprocessing
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sms_webhook import PUBLIC, REAL, TOKEN, Connection, Tally, Texts, percentiles, run_threads  # noqa: E402
from sandbox import LocalTwilioAPI  # noqa: E402
from storage.models import (  # noqa: E402
    Contractor,
    Customer,
    Event,
    Job,
    LineItem,
    Milestone,
    OutboxMessage,
    Payment,
    PaymentPart,
    db,
)
from tests.databases import private_database  # noqa: E402
from tests.worker_process import REPO, WorkerProcess, worker_env  # noqa: E402

SECRET = "burst-bench-secret-" + "x" * 16  # every process signs links with the same key
NUMBERS = ("+15005550006", "+15005550007")  # a worker's TWILIO_FROM_NUMBER: the From tells who sent a text
CONTRACTORS = 50
JOBS_PER_STATEMENT = 500
JOBS_PER_TRANSACTION = 5_000
DAY = timedelta(days=1)
LEAD = 3 * DAY  # the "before" payment falls due 3 days before the measurement: no day-before warning with it
INBOUND_THREADS = 16  # at 100/s each sends every 160 ms, so one slow answer does not hold up the schedule
# label, percent, trigger, event position, lead minutes, amount of a $4,000.00 job
TERMS = [("Deposit", 2000, "now", None, 0, 80_000),
         ("Before Measurement", 2000, "before", 0, int(LEAD.total_seconds() // 60), 80_000),
         ("After Removal", 3000, "after", 1, 0, 120_000),
         ("After Installation", 3000, "after", 2, 0, 120_000)]
EVENTS = ["Measurement", "Removal", "Installation"]

CUSTOMER_FIELDS = [Customer.id, Customer.contractor, Customer.name, Customer.phone, Customer.timezone,
                   Customer.created_at]
JOB_FIELDS = [Job.id, Job.ref, Job.contractor, Job.customer, Job.title, Job.currency, Job.locale, Job.state,
              Job.plan_sent_at, Job.created_at]
EVENT_FIELDS = [Event.id, Event.job, Event.position, Event.name, Event.scheduled_at, Event.state, Event.done_at]
MILESTONE_FIELDS = [Milestone.id, Milestone.job, Milestone.position, Milestone.label, Milestone.percent,
                    Milestone.trigger_kind, Milestone.event, Milestone.lead_minutes, Milestone.amount, Milestone.paid,
                    Milestone.due_at, Milestone.announced_at]
PAYMENT_FIELDS = [Payment.id, Payment.job, Payment.amount, Payment.method, Payment.received_at, Payment.actor]
CONSENT_FIELDS = [OutboxMessage.channel, OutboxMessage.recipient, OutboxMessage.body, OutboxMessage.kind,
                  OutboxMessage.dedupe_key, OutboxMessage.job, OutboxMessage.state, OutboxMessage.next_attempt_at,
                  OutboxMessage.created_at, OutboxMessage.sent_at]


def phone(j: int) -> str:
    return f"+1415{2_000_000 + j:07d}"


def ref(j: int) -> str:
    return f"J-B{j:07d}"


# --- seeding ---------------------------------------------------------------------------------------------------

def job_rows(j: int, role: str, now: datetime, rng: random.Random) -> dict[str, list[tuple]]:
    """Job number `j` (ids derived from it) in its `role`: "due" (its "before" payment falls due at T0, which `arm`
    sets), "event" (measurement and removal done and paid, installation to come) or "background" (all ahead)."""
    contractor = j % CONTRACTORS + 1
    if role == "event":
        sent = now - 20 * DAY
        events = [(now - 13 * DAY, now - 13 * DAY), (now - 6 * DAY, now - 6 * DAY), (now + 2 * DAY, None)]
    else:
        sent = now - rng.uniform(1, 30) * DAY
        measurement = now + LEAD + timedelta(hours=1) if role == "due" else now + rng.uniform(4, 60) * DAY
        events = [(measurement, None), (measurement + 7 * DAY, None), (measurement + 14 * DAY, None)]
    rows = {"customer": [(j + 1, contractor, f"Customer {j}", phone(j), "America/New_York", sent)],
            "job": [(j + 1, ref(j), contractor, j + 1, "Kitchen countertops", "USD", "en_US", "active", sent, sent)],
            "line_item": [(j + 1, 0, "Countertops", 400_000)],
            "event": [(3 * j + p + 1, j + 1, p, EVENTS[p], at, "done" if done else "scheduled", done)
                      for p, (at, done) in enumerate(events)],
            "milestone": [], "payment": [],
            "consent": [("sms", phone(j), "(consent text)", "consent", f"consent:{contractor}:{phone(j)}", j + 1,
                         "sent", sent, sent, sent)]}
    for p, (label, percent, kind, event, lead, amount) in enumerate(TERMS):
        if kind == "now":
            due_at = sent
        elif kind == "before":
            due_at = events[event][0] - LEAD
        else:
            due_at = events[event][1]  # done_at, or None while the event is to come
        paid = due_at is not None and due_at <= now
        milestone_id = 4 * j + p + 1
        rows["milestone"].append((milestone_id, j + 1, p, label, percent, kind,
                                  3 * j + event + 1 if event is not None else None, lead, amount,
                                  amount if paid else 0, due_at, due_at if paid else None))
        if paid:  # a payment per paid milestone, with the same id, applied to it whole
            rows["payment"].append((milestone_id, j + 1, amount, "card", due_at, "system:bench"))
    return rows


def role_of(j: int, due: int, events: int) -> str:
    return "due" if j < due else "event" if j < due + events else "background"


def seed(jobs: int, due: int, events: int) -> None:
    """Every job, in batched inserts, a transaction per JOBS_PER_TRANSACTION jobs; then sequences and statistics."""
    now, rng = datetime.now(timezone.utc), random.Random(11)
    Contractor.insert_many([dict(id=c, telegram_id=10_000 + c, business_name=f"Bench Co {c}", currency="USD",
                                 timezone="America/New_York", locale="en_US", created_at=now - 400 * DAY)
                            for c in range(1, CONTRACTORS + 1)]).execute()
    for start in range(0, jobs, JOBS_PER_TRANSACTION):
        with db.atomic():
            for chunk in range(start, min(start + JOBS_PER_TRANSACTION, jobs), JOBS_PER_STATEMENT):
                rows: dict[str, list[tuple]] = {}
                for j in range(chunk, min(chunk + JOBS_PER_STATEMENT, jobs)):
                    for table, new in job_rows(j, role_of(j, due, events), now, rng).items():
                        rows.setdefault(table, []).extend(new)
                Customer.insert_many(rows["customer"], fields=CUSTOMER_FIELDS).execute()
                Job.insert_many(rows["job"], fields=JOB_FIELDS).execute()
                LineItem.insert_many(rows["line_item"], fields=[LineItem.job, LineItem.position,
                                                                LineItem.description, LineItem.amount]).execute()
                Event.insert_many(rows["event"], fields=EVENT_FIELDS).execute()
                Milestone.insert_many(rows["milestone"], fields=MILESTONE_FIELDS).execute()
                Payment.insert_many(rows["payment"], fields=PAYMENT_FIELDS).execute()
                PaymentPart.insert_many([(p[0], p[0], p[2]) for p in rows["payment"]],
                                        fields=[PaymentPart.payment, PaymentPart.milestone, PaymentPart.amount]
                                        ).execute()
                OutboxMessage.insert_many(rows["consent"], fields=CONSENT_FIELDS).execute()
    for model in (Contractor, Customer, Job, Event, Milestone, Payment):
        table = model._meta.table_name
        db.execute_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM \"{table}\"))")
    db.execute_sql("ANALYZE")


def arm(t0: datetime, due: int) -> None:
    """The `due` jobs' "before" payments fall due at `t0`: their measurements move to 3 days after it."""
    with db.atomic():
        Milestone.update(due_at=t0).where(Milestone.job <= due, Milestone.position == 1).execute()
        Event.update(scheduled_at=t0 + LEAD).where(Event.job <= due, Event.position == 0).execute()


# --- the local Twilio, in a process of its own -----------------------------------------------------------------

class RecordingTwilioAPI(LocalTwilioAPI):
    """The local Twilio, plus what a benchmark in another process needs: GET /bench/count, how many texts it
    accepted, and GET /bench/arrivals, each one as [to, from, body, arrival time in seconds since the epoch]."""

    def _handle(self, method, path, headers, form):
        if method == "GET" and path == "/bench/count":
            with self._lock:
                return 200, len(self._messages), {}
        if method == "GET" and path == "/bench/arrivals":
            with self._lock:
                return 200, [[m["to"], m["from"], m["body"], m["received_at"].timestamp()] for m in self._messages], {}
        return super()._handle(method, path, headers, form)


def serve_twilio(account_sid: str, pipe) -> None:
    """The local Twilio until the pipe says stop (or closes); its port goes back through the pipe first."""
    with RecordingTwilioAPI(account_sid, TOKEN) as api:
        pipe.send(api.port)
        try:
            pipe.recv()
        except EOFError:
            pass


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


# --- the contractors marking events done, in a process of its own ----------------------------------------------

def mark_events(database_url: str, first: int, count: int, t0: float, pipe) -> None:
    """From `t0` on, mark jobs first .. first+count-1's installations done back to back, as /done does; sends
    back [(phone, when the call started, how long it took in ms)] and this process's CPU seconds."""
    from core.clock import system_clock
    from core.context import Actor, Context
    from core.events import mark_event_done
    from core.links import PaymentLinks
    from core.quiet_hours import QuietHours
    from storage.database import open_database

    database = open_database(database_url)
    database.connect()
    ctx = Context(clock=system_clock, links=PaymentLinks(PUBLIC, SECRET), quiet_hours=QuietHours.parse("off"))
    pipe.send("ready")
    time.sleep(max(0.0, t0 - time.time()))
    cpu_at_t0 = cpu()
    marked = []
    for j in range(first, first + count):
        called = time.time()
        result = mark_event_done(ctx, Actor.contractor(j % CONTRACTORS + 1), ref(j), "Installation")
        assert len(result.announced) == 1, (ref(j), result.announced)
        marked.append((phone(j), called, (time.time() - called) * 1000))
    database.close()
    pipe.send((marked, cpu() - cpu_at_t0))


# --- the product's processes -----------------------------------------------------------------------------------

def product_env(database_url: str, twilio_url: str, account_sid: str, data_dir: Path, number: str,
                lease_seconds: float, dispatchers: int) -> dict[str, str]:
    """A `paystage worker`'s or `paystage web`'s environment (tests/worker_process.py's), links at PUBLIC."""
    api = SimpleNamespace(account_sid=account_sid, auth_token=TOKEN, base_url=twilio_url)
    env = worker_env(database_url, api, data_dir, from_number=number, lease_seconds=lease_seconds)
    env.update(PAYSTAGE_SECRET_KEY=SECRET, PUBLIC_BASE_URL=PUBLIC, PAYSTAGE_DISPATCHERS=str(dispatchers))
    return env


def start_web(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    """`paystage web` on 127.0.0.1:`port`, once it answers /healthz (503 too: no worker has turned yet)."""
    log = open(log_path, "ab")
    web = subprocess.Popen([sys.executable, "-m", "paystage.cli", "web"], cwd=REPO,
                           env={**env, "HOST": "127.0.0.1", "PORT": str(port)}, stdin=subprocess.DEVNULL,
                           stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and web.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close()
            return web
        except urllib.error.HTTPError:
            return web
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"paystage web did not start:\n{log_path.read_text()[-3000:]}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu(pid: int | str = "self") -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """CPU seconds the PostgreSQL backends serving this database used since the first sample. Sampled: a backend
    that comes and goes between two samples (a scan's connection, say) is missed, one that ends counts to its last
    sample."""

    def __init__(self):
        self.start: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.sample(first=True)

    def sample(self, first: bool = False) -> None:
        for (pid,) in db.execute_sql("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"):
            try:
                used = cpu(pid)
            except FileNotFoundError:  # gone since
                continue
            self.start.setdefault(pid, used if first else 0.0)
            self.last[pid] = used

    def used(self) -> float:
        return sum(self.last[pid] - self.start[pid] for pid in self.last)


def machine_cpu() -> float:
    """CPU seconds every process on the machine has used (user nice system irq softirq steal), from /proc."""
    user, nice, system, _, _, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


# --- the inbound texts -----------------------------------------------------------------------------------------

def inbound(port: int, phones: list[str], rate: float, seconds: float, t0: float, tally: Tally) -> None:
    """`rate` signed BAL texts a second for `seconds` from t0, into `tally`, each timed from the moment it was due;
    an answer that is not a 200 TwiML <Message> naming the customer's job is a failure."""
    texts = Texts(phones)
    total = int(rate * seconds)
    requests = [texts.next() for _ in range(total)]  # signed before the clock starts

    def send(k: int) -> None:
        connection = Connection(port)
        for i in range(k, total, INBOUND_THREADS):
            due = t0 + i / rate
            time.sleep(max(0.0, due - time.time()))
            j, body, headers = requests[i]
            status, data = connection.post(REAL, body, headers)
            tally.add((time.time() - due) * 1000, answer_problem(j, status, data))
        connection.close()

    run_threads(send, INBOUND_THREADS)


def answer_problem(j: int, status: int, data: bytes) -> str | None:
    if status != 200:
        return f"HTTP {status}: {data[:200]!r}"
    try:
        text = ET.fromstring(data).findtext("Message") or ""
    except ET.ParseError:
        return f"not XML: {data[:200]!r}"
    return None if ref(j) in text else f"{ref(j)} not in {text[:200]!r}"


# --- the run ---------------------------------------------------------------------------------------------------

def outbox_unsettled() -> int:
    """Texts still to send or being sent (any process's): the settling condition, not what is expected."""
    return OutboxMessage.select().where(OutboxMessage.channel == "sms",
                                        OutboxMessage.state.in_(("pending", "sending"))).count()


def run(args, database_url: str, folder: Path) -> None:
    started = time.perf_counter()
    seed(args.jobs, args.due, args.events)
    print(f"seeded {args.jobs:,} jobs ({args.due:,} falling due at T0, {args.events:,} with an installation to "
          f"mark done) in {time.perf_counter() - started:.1f} s")
    expected = {phone(j): role_of(j, args.due, args.events) for j in range(args.due + args.events)}

    spawn = multiprocessing.get_context("spawn")
    account_sid = "AC" + secrets.token_hex(16)
    twilio_pipe, child_end = spawn.Pipe()
    twilio = spawn.Process(target=serve_twilio, args=(account_sid, child_end), daemon=True)
    twilio.start()
    child_end.close()  # ours closed, a child that dies is an EOFError here rather than a wait forever
    twilio_url = f"http://127.0.0.1:{twilio_pipe.recv()}"

    t0 = datetime.now(timezone.utc) + timedelta(seconds=args.lead)
    arm(t0, args.due)
    env = {n: product_env(database_url, twilio_url, account_sid, folder / "data", n, args.lease_seconds,
                         args.dispatchers)
           for n in NUMBERS}
    marker_pipe, child_end = spawn.Pipe()
    marker = spawn.Process(target=mark_events,
                           args=(database_url, args.due, args.events, t0.timestamp(), child_end), daemon=True)
    workers: list[WorkerProcess] = []
    web = None
    try:
        workers += [WorkerProcess(env[number], folder / f"worker-{k}.log") for k, number in enumerate(NUMBERS, 1)]
        port = free_port()
        web = start_web(env[NUMBERS[0]], port, folder / "web.log")
        marker.start()
        child_end.close()
        while not all(w.started() for w in workers):
            time.sleep(0.1)
        assert marker_pipe.recv() == "ready"
        margin = (t0 - datetime.now(timezone.utc)).total_seconds()
        print(f"two workers, paystage web and the marking process started; T0 in {margin:.1f} s"
              + ("" if margin > 2 else "   (TOO LATE: the workers' first scan may have announced before T0)"))
        load_before = os.getloadavg()
        tally = Tally()
        sender = threading.Thread(target=inbound, args=(port, [phone(j) for j in range(args.jobs)],
                                                        args.inbound_rate, args.seconds, t0.timestamp(), tally))
        sender.start()
        time.sleep(max(0.0, t0.timestamp() - time.time()))
        cpu_before = {name: cpu(pid) for name, pid in processes(workers, web, twilio).items()}
        cpu_before["machine"], wall_before, postgres = machine_cpu(), time.time(), BackendCpu()
        killed = watch(args, twilio_url, workers, len(expected), t0.timestamp(), postgres)
        marked, marker_cpu = marker_pipe.recv()
        sender.join()
        deadline = t0.timestamp() + args.deadline
        while outbox_unsettled() and time.time() < deadline:
            postgres.sample()
            time.sleep(0.5)
        time.sleep(2)  # a late duplicate
        postgres.sample()
        load_after = os.getloadavg()
        cpu_used = {name: cpu(pid) - cpu_before[name] for name, pid in processes(workers, web, twilio).items()}
        if killed:
            cpu_used["worker-1"] = killed["cpu"] - cpu_before["worker-1"]
        machine, wall = machine_cpu() - cpu_before["machine"], time.time() - wall_before
        cpu_used["PostgreSQL"] = postgres.used()
        arrivals = get_json(f"{twilio_url}/bench/arrivals")
        left = outbox_unsettled()
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.stop()
            worker.ensure_dead()
        if web:
            web.terminate()
            web.wait(timeout=20)
        if marker.pid:
            marker.join(timeout=10)
        twilio_pipe.send("stop")
        twilio.join(timeout=10)
    report(args, expected, arrivals, marked, tally, t0.timestamp(), killed, left)
    cpu_used["marking"] = marker_cpu
    cpu_used["everything else (other sessions)"] = machine - sum(cpu_used.values())
    print(f"CPU seconds over the {wall:.0f} s from T0 to the end ({machine / wall:.2f} of {os.cpu_count()} cores "
          "busy): " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu_used.items())
          + f"; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")


def processes(workers: list[WorkerProcess], web: subprocess.Popen, twilio) -> dict[str, int]:
    alive = {f"worker-{k}": w.process.pid for k, w in enumerate(workers, 1) if w.process.poll() is None}
    return {**alive, "web": web.pid, "twilio": twilio.pid, "this process": os.getpid()}


def watch(args, twilio_url: str, workers: list[WorkerProcess], expected: int, t0: float,
          postgres: BackendCpu) -> dict | None:
    """Until every expected text has arrived (or the deadline): with --kill, SIGKILL the first worker once
    --kill-after texts have arrived. Returns what was killed when, or None."""
    killed = None
    deadline = t0 + args.deadline
    rounds = 0
    while time.time() < deadline:
        rounds += 1
        if rounds % 5 == 0:
            postgres.sample()
        count = get_json(f"{twilio_url}/bench/count")
        if args.kill and killed is None and count >= args.kill_after:
            worker = workers[0]
            used = cpu(worker.process.pid)
            worker.kill()
            killed = {"at": time.time() - t0, "arrived": count, "cpu": used, "held": None}
            print(f"SIGKILL worker-1 (pid {worker.process.pid}) {killed['at']:.1f} s after T0, {count:,} texts in")
        if killed and killed["held"] is None and time.time() - t0 > killed["at"] + 2:
            killed["held"] = held_by_the_dead(t0 + killed["at"], args.lease_seconds)
        if count >= expected:
            break
        time.sleep(0.2)
    return killed


def held_by_the_dead(killed_at: float, lease: float) -> list[str]:
    """The phones of the texts the killed worker had claimed and left unsettled: 2 s after the kill, the rows still
    sending whose lease was taken before the kill (a live worker settles its batch well within 2 s)."""
    before = datetime.fromtimestamp(killed_at + lease, timezone.utc)
    return [m.recipient for m in OutboxMessage.select(OutboxMessage.recipient).where(
        OutboxMessage.state == "sending", OutboxMessage.claimed_until <= before)]


def report(args, expected: dict[str, str], arrivals: list, marked: list, tally: Tally, t0: float,
           killed: dict | None, left: int) -> None:
    called = {number: at for number, at, _ in marked}
    deadline = t0 + args.deadline
    first: dict[str, float] = {}
    unexpected = []
    for to, _, body, at in arrivals:
        if to in expected and "is now due" in body and at <= deadline:
            first.setdefault(to, at)
        elif to not in expected or "is now due" not in body:
            unexpected.append((to, body[:60]))
    duplicates = sum(n - 1 for n in Counter((to, body) for to, _, body, _ in arrivals).values())
    lost = [number for number in expected if number not in first]
    by_worker = Counter(sender for _, sender, _, _ in arrivals)
    due_ms = sorted((first[n] - t0) * 1000 for n, role in expected.items() if role == "due" and n in first)
    event_ms = sorted((first[n] - called[n]) * 1000 for n, role in expected.items() if role == "event" and n in first)
    marking = sorted(ms for _, _, ms in marked)

    print(f"texts expected {len(expected):,}, arrived {len(arrivals):,} "
          f"(by sender: {', '.join(f'{s} {n:,}' for s, n in sorted(by_worker.items()))})")
    if due_ms:
        print(f"  all {len(due_ms):,} due at T0 at Twilio {due_ms[-1] / 1000:.1f} s after T0; every expected text "
              f"{(max(first.values()) - t0):.1f} s after T0")
        p50, p99, worst = percentiles(due_ms)
        print(f"  due latency, {len(due_ms):,} payments falling due at T0 (arrival - T0): p50 {p50:,.0f} ms, "
              f"p99 {p99:,.0f} ms, max {worst:,.0f} ms")
    if event_ms:
        p50, p99, worst = percentiles(event_ms)
        took = max(at for _, at, _ in marked) - min(at for _, at, _ in marked)
        print(f"  due latency, {len(event_ms):,} events marked done back to back (arrival - the call; "
              f"{len(marked) / max(took, 1e-9):,.0f} marked/s, mark_event_done median {statistics.median(marking):.1f}"
              f" ms): p50 {p50:,.0f} ms, p99 {p99:,.0f} ms, max {worst:,.0f} ms   (goal elsewhere p99 <= 500 ms)")
    if tally.latencies:
        p50, p99, worst = percentiles(tally.latencies)
        print(f"  inbound BAL, {len(tally.latencies):,} at {args.inbound_rate:g}/s (from due to answered): "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms; failures {len(tally.failures)}"
              + (f", e.g. {tally.failures[:2]}" if tally.failures else "") + "   (goal elsewhere p99 <= 25 ms)")
    kills = 1 if killed else 0
    if killed:
        held = killed["held"] or []
        came = sorted(first[n] - t0 for n in held if n in first)
        print(f"  the killed worker held {len(held)} claimed texts (lease {args.lease_seconds:g} s: "
              f"free {killed['at'] + args.lease_seconds:.0f} s after T0 at the latest)"
              + (f": they arrived {came[0]:.1f}-{came[-1]:.1f} s after T0" if came else ""))
    print(f"  lost {len(lost)}   (goal 0) {'e.g. ' + ', '.join(lost[:5]) if lost else ''}")
    print(f"  duplicates {duplicates}   (goal {'<= 1, one kill' if kills else '0'})")
    print(f"  unexpected texts {len(unexpected)}{' e.g. ' + repr(unexpected[:3]) if unexpected else ''}; "
          f"texts left pending or sending in the outbox at the end {left}")
    met = not lost and duplicates <= kills and not unexpected and len(first) == len(expected)
    print(f"  => {'met' if met else 'MISSED'}: every due text out, 0 lost, "
          f"{'at most one duplicate per kill' if kills else '0 duplicates'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000, help="milestones falling due at T0")
    parser.add_argument("--events", type=int, default=1_000, help="events marked done back to back from T0")
    parser.add_argument("--inbound-rate", type=float, default=100, help="signed BAL texts a second")
    parser.add_argument("--seconds", type=float, default=60, help="how long the inbound texts come")
    parser.add_argument("--kill", action="store_true", help="SIGKILL one of the two workers mid-burst")
    parser.add_argument("--kill-after", type=int, default=2_000, help="texts arrived before the kill")
    parser.add_argument("--lease-seconds", type=float, default=300, help="PAYSTAGE_SEND_LEASE_SECONDS")
    parser.add_argument("--dispatchers", type=int, default=1, help="PAYSTAGE_DISPATCHERS of each worker")
    parser.add_argument("--lead", type=float, default=20, help="seconds from starting the processes to T0")
    parser.add_argument("--deadline", type=float, default=900, help="seconds after T0 a text counts as lost")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    assert args.due + args.events <= args.jobs, "--due + --events must not exceed --jobs"

    from storage.database import open_database, upgrade

    with tempfile.TemporaryDirectory() as folder, \
            private_database("postgres", Path(folder) / "unused", "paystage_burst", args.postgres_url) as url:
        database = open_database(url)
        upgrade(database)
        try:
            run(args, url, Path(folder))
        finally:
            database.close()


if __name__ == "__main__":
    main()
