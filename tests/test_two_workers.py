"""Two `paystage worker` processes dispatching the same backlog on PostgreSQL: every text goes out, none twice.

The dispatchers claim with FOR UPDATE SKIP LOCKED and take disjoint batches side by side; no text may reach the
local Twilio twice. On SQLite a second worker refuses to start (one writer family per file, a lock next to it:
tests/test_startup_failures.py), so there is no SQLite case here.

Which worker sent a text: the outbox cannot tell, so each worker is given its own Twilio number
(TWILIO_FROM_NUMBER), and the local Twilio records the From of every text. The backlog is queued not yet due,
both workers are started and seen running, then the whole backlog falls due in one UPDATE: both
dispatchers are polling by then, so each must get a share, however slowly either process started.
"""

from collections import Counter
from datetime import datetime, timezone

import pytest

from sandbox import LocalTwilioAPI
from storage.models import OutboxMessage
from tests.databases import POSTGRES_URL
from tests.worker_process import (
    WorkerProcess,
    backend,
    logs,
    not_yet_due,
    outbox_rows,
    seed_backlog,
    wait_until,
    worker_env,
)

MESSAGES = 600
NUMBERS = ("+15005550006", "+15005550007")  # one per worker: the From tells who sent a text


@pytest.fixture
def database_url(tmp_path):
    if not POSTGRES_URL:
        pytest.skip("two workers on PostgreSQL: set PAYSTAGE_TEST_POSTGRES_URL (the test makes its own "
                    "throwaway database there)")
    with backend("postgres", tmp_path) as url:
        yield url


def test_two_workers_send_a_backlog_once_between_them(database_url, tmp_path):
    bodies = seed_backlog(MESSAGES, due_at=not_yet_due())
    workers: list[WorkerProcess] = []
    with LocalTwilioAPI(latency=0.005) as api:
        try:
            # the default lease (5 minutes): the setting operators run with
            for n, number in enumerate(NUMBERS, start=1):
                env = worker_env(database_url, api, tmp_path / "data", from_number=number)
                workers.append(WorkerProcess(env, tmp_path / f"worker-{n}.log"))
            wait_until(lambda: all(w.started() for w in workers), timeout=30, what="both workers running")

            OutboxMessage.update(next_attempt_at=datetime.now(timezone.utc)).execute()  # the backlog falls due
            api.wait_for(MESSAGES, timeout=60)
            wait_until(lambda: all(row.state == "sent" for row in outbox_rows()), timeout=30,
                       what="every outbox row recorded as sent")
            for worker in workers:
                assert worker.stop() == 0, f"a worker did not stop cleanly on SIGTERM\n{logs(workers)}"
        except BaseException as error:
            error.add_note(logs(workers))
            raise
        finally:
            for worker in workers:
                worker.ensure_dead()
        received = api.messages  # final: both workers have exited

    times = Counter(m["body"] for m in received)
    by_worker = Counter(m["from"] for m in received)
    context = f"texts per worker {dict(by_worker)}"
    assert sorted(times) == sorted(bodies), context
    assert [body for body, n in times.items() if n > 1] == [], context
    assert len(received) == MESSAGES, context
    assert set(by_worker) == set(NUMBERS) and min(by_worker.values()) > 0, context
    sids = {m["body"]: m["sid"] for m in received}
    assert all(row.state == "sent" and row.provider_id == sids[row.body] for row in outbox_rows()), context
    print(f"\n{context}")
