"""Dispatch rate: texts per second from the outbox to Twilio (the local one, sandbox/), with the rate limit off and on.

    .venv/bin/python bench/dispatch.py [--backends sqlite,postgresql] [--connections keep-alive,close]
        [--messages 2000] [--paced 200] [--per-second 20] [--postgres-url postgresql://postgres@127.0.0.1:5432]

Goals: >= 500 texts/s with one worker and the rate limit off (issue 11; issue 3 asked 200/s); with the limit on,
the measured rate within 5% of the setting.

One `Dispatcher.drain()` (one worker, quiet hours off) sends `--messages` queued payment-due texts through the
real `TwilioSender` to a LocalTwilioAPI on 127.0.0.1 (real HTTP, in this process). With `keep-alive` the local
Twilio keeps the connection open between texts, as Twilio does (twilio-python's session reuses it); with `close`
it closes it after each answer, so every text opens a new one. Then `--paced` more with the limit on:
PAYSTAGE_SMS_PER_SECOND=`--per-second`, which the app turns into DeliveryPolicy(sms_interval=1/rate s); the
rate is measured from when the requests arrived at the local Twilio (first to last). Each text goes to its own
customer and has its own job, as the dispatcher reads both (a STOP withholds the text; the job's ref is logged).

PostgreSQL runs in a database of its own, `paystage_bench_<pid>`, dropped at the end.
"""

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.clock import system_clock  # noqa: E402
from core.dispatcher import DeliveryPolicy, Dispatcher  # noqa: E402
from core.journal import enqueue  # noqa: E402
from core.quiet_hours import QuietHours  # noqa: E402
from sandbox import LocalTwilioAPI  # noqa: E402
from sms.sender import TwilioSender  # noqa: E402
from storage.models import Contractor, Customer, Job, OutboxMessage, db  # noqa: E402
from tests.databases import migrated_database  # noqa: E402

FROM = "+15005550006"
# what a payment-due text looks like: one GSM-7 segment and a bit
BODY = ("Granite & Co: Hi Dana, $1,000.00 is now due for Kitchen countertops (J-7K2Q): After Removal. Removal was "
        "done on Dec 10.\nPay here: https://pay.example/p/J-7K2Q/{n:06d}\nThank you!")


def bench_database(backend: str, postgres_url: str, folder: str):
    """A fresh, migrated database of its own; a PostgreSQL one is dropped afterwards."""
    kind = "sqlite" if backend == "sqlite" else "postgres"
    return migrated_database(kind, Path(folder), "paystage_bench_dispatch", postgres_url)


def queue(first: int, count: int) -> list[str]:
    """`count` customers, each with a job and its payment-due text waiting in the outbox; returns their phones."""
    now = datetime.now(timezone.utc)
    contractor = Contractor.get_or_none() or Contractor.create(
        business_name="Granite & Co", timezone="America/New_York", currency="USD", locale="en_US", created_at=now)
    phones = [f"+1415{2_000_000 + n:07d}" for n in range(first, first + count)]
    with db.atomic():
        Customer.insert_many([dict(contractor=contractor, name=f"Customer {n}", phone=phone,
                                   timezone="America/New_York", created_at=now)
                              for n, phone in enumerate(phones, first)]).execute()
        customers = dict(Customer.select(Customer.phone, Customer.id).where(Customer.phone.in_(phones)).tuples())
        Job.insert_many([dict(ref=f"J-{n:06d}", contractor=contractor, customer=customers[phone],
                              title="Kitchen countertops", currency="USD", locale="en_US", created_at=now)
                         for n, phone in enumerate(phones, first)]).execute()
        jobs = dict(Job.select(Job.customer, Job.id).where(Job.customer.in_(list(customers.values()))).tuples())
        for n, phone in enumerate(phones, first):
            enqueue(channel="sms", recipient=phone, body=BODY.format(n=n), kind="payment_due",
                    key=f"bench:{n}:due", now=now, job=jobs[customers[phone]], timezone="America/New_York")
    return phones


def drain(api: LocalTwilioAPI, policy: DeliveryPolicy, count: int) -> tuple[float, float, list[dict]]:
    """Send what is queued with one dispatcher; (seconds the drain took, CPU seconds this process spent meanwhile
    (the dispatcher and the local Twilio: the load of other processes changes the first more than the second), the
    texts Twilio accepted meanwhile)."""
    sender = TwilioSender(api.account_sid, api.auth_token, from_number=FROM, api_base_url=api.base_url)
    dispatcher = Dispatcher(system_clock, {"sms": sender}, policy, sms_sender_id=FROM)
    before = len(api.messages)
    started, cpu = time.perf_counter(), time.process_time()
    claimed = dispatcher.drain()
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    arrived = api.messages[before:]
    sent = OutboxMessage.select().where(OutboxMessage.state == "sent").count()
    assert claimed == count == len(arrived) and sent == before + count, (claimed, len(arrived), sent)
    return took, cpu, arrived


def bench(backend: str, connections: str, api: LocalTwilioAPI, messages: int, paced: int, per_second: float) -> None:
    print(f"{backend}, connections {connections}:")
    quiet_off = QuietHours.parse("off")
    queue(0, messages)
    took, cpu, _ = drain(api, DeliveryPolicy(quiet_hours=quiet_off, sms_interval=None), messages)
    print(f"  rate limit off: {messages:,} texts in {took:.2f} s = {messages / took:,.0f} texts/s, one dispatcher"
          f"   (goal >= 500/s); CPU {cpu / messages * 1000:.2f} ms a text")

    queue(messages, paced)
    policy = DeliveryPolicy(quiet_hours=quiet_off, sms_interval=timedelta(seconds=1 / per_second))
    took, _, arrived = drain(api, policy, paced)
    times = [m["received_at"].timestamp() for m in arrived]
    rate = (len(times) - 1) / (times[-1] - times[0])
    print(f"  rate limit {per_second:g}/s (PAYSTAGE_SMS_PER_SECOND={per_second:g}): {paced:,} texts, "
          f"{rate:.2f} texts/s at the local Twilio ({(rate / per_second - 1) * 100:+.1f}%; drain {paced / took:.2f}/s)"
          f"   (goal within 5% of {per_second:g}/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--connections", default="keep-alive,close",
                        help="keep-alive: the local Twilio keeps connections open, as Twilio does; close: one a text")
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--paced", type=int, default=200)
    parser.add_argument("--per-second", type=float, default=20)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        for connections in args.connections.split(","):
            with (tempfile.TemporaryDirectory() as folder, bench_database(backend, args.postgres_url, folder),
                  LocalTwilioAPI(keep_alive=connections == "keep-alive") as api):
                bench(backend, connections, api, args.messages, args.paced, args.per_second)


if __name__ == "__main__":
    main()
