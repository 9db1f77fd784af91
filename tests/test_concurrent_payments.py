"""Payments from two writers at once (a webhook and a contractor's /paid, or two webhooks) add up exactly.

SQLite serialises writers by itself; PostgreSQL needs the job locked for the
length of the use case, or two payments both see the deposit open and both
apply to it.
"""

import threading

from core.context import Actor
from core.jobs import job_status
from core.payments import record_payment
from storage.models import Payment, PaymentPart, db

WRITERS = 4


def pay_at_once(ctx, ref: str, amounts: list[int]) -> list[BaseException]:
    start = threading.Barrier(len(amounts))
    failures: list[BaseException] = []

    def pay(i: int, amount: int) -> None:
        try:
            with db.connection_context():
                start.wait(timeout=10)
                record_payment(ctx, Actor.system("card"), ref, amount, "card", reference=f"pi_{ref}_{i}")
        except BaseException as error:  # noqa: BLE001 - reported by the test
            failures.append(error)

    threads = [threading.Thread(target=pay, args=(i, amount)) for i, amount in enumerate(amounts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return failures


def test_four_payments_at_once_apply_exactly_what_was_received(ctx, contractor, planned):
    assert pay_at_once(ctx, planned, [100_000] * WRITERS) == []

    job = job_status(ctx, contractor, planned)
    assert [m.paid for m in job.milestones] == [100_000, 100_000, 200_000]
    assert sum(p.amount for p in Payment.select()) == 400_000
    assert sum(p.amount for p in PaymentPart.select()) == 400_000
    assert job.paid == 400_000 and job.remaining == 0 and job.credit == 0


def test_payments_at_once_beyond_the_total_leave_exact_credit(ctx, contractor, planned):
    assert pay_at_once(ctx, planned, [150_000] * WRITERS) == []

    job = job_status(ctx, contractor, planned)
    assert [m.paid for m in job.milestones] == [100_000, 100_000, 200_000]
    assert sum(p.amount for p in PaymentPart.select()) == 400_000
    assert job.paid == 600_000 and job.credit == 200_000
