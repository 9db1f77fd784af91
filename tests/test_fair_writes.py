"""SQLite's writers in one process take turns, first come first served (storage/database.py, FairSqliteDatabase):
a thread committing back to back no longer holds every other writer back until it stops."""

import threading
import time

import pytest

from storage.database import FairLock, open_database, upgrade
from storage.models import Contractor, db


@pytest.fixture
def sqlite(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'paystage.sqlite3'}")
    upgrade(database)
    yield database
    database.close()


def started(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_the_lock_is_handed_to_its_waiters_in_the_order_they_came():
    lock = FairLock()
    lock.acquire(timeout=1)
    order = []

    def waiter(n):
        lock.acquire(timeout=10)
        order.append(n)
        lock.release()

    threads = []
    for n in range(5):
        threads.append(started(lambda n=n: waiter(n)))
        while len(lock._waiting) < n + 1:  # queued behind the holder, in this order
            time.sleep(0.001)
    lock.release()
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]


def test_a_waiter_gives_up_after_its_timeout_and_leaves_the_queue():
    lock = FairLock()
    lock.acquire(timeout=1)
    with pytest.raises(TimeoutError):
        lock.acquire(timeout=0.01)
    lock.release()
    lock.acquire(timeout=0.01)  # free: nobody left waiting for it


def test_a_writer_gets_in_between_the_transactions_of_a_thread_writing_back_to_back(sqlite):
    """Before, SQLite's busy handler slept while the other thread retook the lock: the autocommit UPDATE here
    waited until the burst ended. Now it waits for the transaction in progress, and perhaps the one queued
    before it: never more than two of them."""
    row = Contractor.create(business_name="Granite & Co", timezone="UTC", currency="USD", locale="en_US",
                            created_at=_now())
    commits = 0
    stop = threading.Event()

    def burst():
        nonlocal commits
        with db.connection_context():
            while not stop.is_set():
                with db.atomic():
                    Contractor.update(phone=str(commits)).where(Contractor.id == row.id).execute()
                    time.sleep(0.002)  # a use case's transaction: a few reads and writes
                commits += 1

    writer = started(burst)
    try:
        while commits < 3:
            time.sleep(0.001)
        gaps = []
        for _ in range(10):
            before = commits
            Contractor.update(payment_instructions="cash").where(Contractor.id == row.id).execute()
            gaps.append(commits - before)
    finally:
        stop.set()
        writer.join(timeout=10)
    assert max(gaps) <= 2, gaps


def test_a_transaction_rolled_back_lets_the_next_writer_in(sqlite):
    with pytest.raises(RuntimeError), db.atomic():
        Contractor.create(business_name="Granite & Co", timezone="UTC", currency="USD", locale="en_US",
                          created_at=_now())
        raise RuntimeError("the use case failed")
    done = threading.Event()

    def write():
        with db.connection_context():
            Contractor.create(business_name="Stone Co", timezone="UTC", currency="USD", locale="en_US",
                              created_at=_now())
        done.set()

    started(write)
    assert done.wait(timeout=5)
    assert [c.business_name for c in Contractor.select()] == ["Stone Co"]


def _now():
    from core.clock import system_clock

    return system_clock()
