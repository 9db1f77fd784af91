"""Crash safety: `paystage worker` killed with SIGKILL at random moments while it sends 1,000 texts.

A worker is a separate process sending to a local Twilio over real HTTP on 127.0.0.1. It is killed five
times (after a random number of new texts reached the local Twilio, or after a random short delay from its start)
and started again; then it runs until everything is sent and is stopped with SIGTERM.

What must hold afterwards (issue 3, "Reliability tests"): every text reached the local Twilio; a text reached it
twice only when a kill fell between Twilio accepting it and the worker committing that, so at most one
duplicate per kill. A dispatcher sends one text at a time, so that text is exactly the last one the killed
worker got accepted. Each life of the worker sends from its own number (TWILIO_FROM_NUMBER), so the local Twilio's
record says which life sent what, and the test checks that too. The outbox says every row was sent, with
the SID the local Twilio returned for the copy the worker lived to record.

Set PAYSTAGE_CRASH_SEED to replay another schedule of kills (the timing of each kill still varies).
"""

import os
import random
import signal
import subprocess
import time
from collections import defaultdict

import pytest

from sandbox import LocalTwilioAPI
from tests.databases import POSTGRES_URL
from tests.worker_process import (
    WorkerProcess,
    backend,
    due_now,
    logs,
    outbox_rows,
    seed_backlog,
    wait_until,
    worker_env,
)

MESSAGES = 1000
KILLS = 5
SEED = int(os.environ.get("PAYSTAGE_CRASH_SEED", "20261201"))
LEASE_SECONDS = 1  # a claim abandoned by a kill is taken again a second later


def life_number(life: int) -> str:
    """The From number of the worker's `life`-th run (1, 2, ...)."""
    return f"+1500555{life:04d}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("PostgreSQL: set PAYSTAGE_TEST_POSTGRES_URL to run the crash test there too")
    with backend(request.param, tmp_path) as url:
        yield url


def test_a_worker_killed_five_times_delivers_every_text_with_at_most_one_duplicate_per_kill(database_url,
                                                                                              tmp_path):
    bodies = seed_backlog(MESSAGES, due_at=due_now())
    rng = random.Random(SEED)
    workers: list[WorkerProcess] = []
    kills: list[str] = []  # how each kill fell
    with LocalTwilioAPI(latency=0.003) as api:  # a few ms per send, so kills land mid-request too

        def start() -> WorkerProcess:
            life = len(workers) + 1
            env = worker_env(database_url, api, tmp_path / "data", from_number=life_number(life),
                             lease_seconds=LEASE_SECONDS)
            workers.append(WorkerProcess(env, tmp_path / f"worker-{life}.log"))
            return workers[-1]

        def unique_bodies() -> int:
            return len({m["body"] for m in api.messages})

        def wait_for_texts(worker: WorkerProcess, total: int, timeout: float = 60) -> None:
            """Until Twilio has `total` texts, or every text (a late schedule may ask for more than are left)."""
            deadline = time.monotonic() + timeout
            while True:
                try:
                    api.wait_for(total, timeout=0.5)
                    return
                except TimeoutError:
                    if unique_bodies() == MESSAGES:
                        return
                    worker.started()  # raises if the worker died on its own
                    if time.monotonic() > deadline:
                        raise

        try:
            for _ in range(KILLS):
                # every draw is made whatever happens, so a seed always means the same schedule
                by_count = rng.random() < 0.75
                count, pause, delay = rng.randint(10, 150), rng.uniform(0, 0.01), rng.uniform(0.2, 2.0)
                worker = start()
                if by_count:
                    kills.append(f"after {count} new texts")
                    wait_for_texts(worker, len(api.messages) + count)
                    time.sleep(pause)  # anywhere in the next send, or between two
                else:
                    kills.append(f"{delay:.2f} s after start")
                    time.sleep(delay)  # may fall in start-up, a claim, or a send
                worker.kill()

            last = start()
            wait_until(lambda: unique_bodies() == MESSAGES, timeout=90, what="every text reaching the local Twilio")
            wait_until(lambda: all(row.state == "sent" for row in outbox_rows()), timeout=30,
                       what="every outbox row recorded as sent")
            assert last.stop() == 0, "the worker did not stop cleanly on SIGTERM"
            assert "worker stopped" in last.log
        except BaseException as error:
            error.add_note(f"seed {SEED}, kills {kills}\n{logs(workers)}")
            raise
        finally:
            for worker in workers:
                worker.ensure_dead()
        received = api.messages  # final: every worker has exited

    sids = defaultdict(list)  # body -> the SIDs the local Twilio returned for it, in order
    for message in received:
        sids[message["body"]].append(message["sid"])
    duplicated = {body: len(s) for body, s in sids.items() if len(s) > 1}
    per_life = [sum(m["from"] == life_number(life) for m in received) for life in range(1, KILLS + 2)]
    context = f"seed {SEED}, kills {kills}, texts per life {per_life}, duplicated {sorted(duplicated)}"

    assert set(sids) == set(bodies), context
    assert len(duplicated) <= KILLS, context
    assert max(len(s) for s in sids.values()) <= 2, context
    # a duplicate's first copy is the text in flight when its worker died: the last one that life sent
    last_of_killed_life = {max((i for i, m in enumerate(received) if m["from"] == life_number(life)), default=None)
                           for life in range(1, KILLS + 1)}
    first_copy = {m["body"]: i for i, m in reversed(list(enumerate(received)))}
    assert {first_copy[body] for body in duplicated} <= last_of_killed_life, context

    rows = outbox_rows()
    assert len(rows) == MESSAGES
    assert {row.state for row in rows} == {"sent"}, context
    for row in rows:
        # the SID whose answer the worker lived to record: for a duplicate, the second copy's
        assert row.provider_id == sids[row.body][-1], (row.body, row.provider_id, sids[row.body], context)
    print(f"\n{context}")


STOP_WITHIN = 10  # seconds: the send in flight (a pace wait of at most 2 s, then the HTTP call) and out


def test_sigterm_stops_a_worker_within_seconds_even_with_a_backlog(tmp_path):
    with backend("sqlite", tmp_path) as url:
        seed_backlog(300, due_at=due_now())
        with LocalTwilioAPI() as api:
            env = worker_env(url, api, tmp_path / "data")
            env["PAYSTAGE_SMS_PER_SECOND"] = "1"  # the default: a Twilio long code's pace
            worker = WorkerProcess(env, tmp_path / "worker.log")
            try:
                api.wait_for(2, timeout=30)
                worker.process.send_signal(signal.SIGTERM)
                try:
                    worker.process.wait(timeout=STOP_WITHIN)
                except subprocess.TimeoutExpired:
                    pass
                sent = len(api.messages)
                assert worker.process.returncode == 0, (
                    f"still running {STOP_WITHIN} s after SIGTERM, {sent} of 300 texts sent\n{worker.log}")
            finally:
                worker.ensure_dead()
        # what it did not send waits for the next worker: nothing is lost, nothing given up on
        assert {row.state for row in outbox_rows()} <= {"sent", "pending", "sending"}
        assert sum(row.state == "sent" for row in outbox_rows()) == sent < 300
