"""The outbox as a work queue (storage/outbox.py): a claim takes at most a batch, oldest first, with what sending
needs; claims side by side never share a message; mark_sent's SQL leaves a row as the ORM's update does."""

import threading
from datetime import timedelta

import pytest

from core.jobs import opted_out_among
from core.journal import enqueue
from storage import outbox
from storage.models import Customer, Job, OutboxMessage, db

LEASE = timedelta(minutes=5)


@pytest.fixture(params=["returning", "read-then-update"])
def claiming(request, monkeypatch, database):
    """Both ways of claiming: UPDATE ... RETURNING, and the claim for a SQLite without it (before 3.35)."""
    if request.param == "read-then-update":
        monkeypatch.setattr(outbox, "returns_rows", lambda: False)
    return request.param


def queue(n: int, now, job=None, phone=None) -> None:
    assert enqueue(channel="sms", recipient=phone or f"+1415555{n:04d}", body=f"Text {n}", kind="test",
                   key=f"outbox:{n}", now=now, job=job)


def test_a_claim_takes_at_most_a_batch_oldest_first_and_leases_it(ctx, clock, claiming):
    for n in range(25):
        queue(n, clock() - timedelta(seconds=25 - n))
    first = outbox.claim(clock(), LEASE, 10)
    second = outbox.claim(clock(), LEASE, 10)
    third = outbox.claim(clock(), LEASE, 10)
    assert [m.body for m in first] == [f"Text {n}" for n in range(10)]
    assert [m.body for m in second] == [f"Text {n}" for n in range(10, 20)]
    assert [m.body for m in third] == [f"Text {n}" for n in range(20, 25)]
    assert outbox.claim(clock(), LEASE, 10) == []
    assert {(m.state, m.claimed_until) for m in OutboxMessage.select()} == {("sending", clock() + LEASE)}


def test_a_claim_reads_each_messages_job_ref_and_a_batch_who_opted_out(ctx, clock, planned, claiming):
    dana = Customer.get()
    Customer.update(opted_out_at=clock()).execute()
    queue(1, clock())  # no job, a phone no customer has
    claimed = outbox.claim(clock(), LEASE, 10)
    by_kind = {m.kind: m for m in claimed}
    assert by_kind["plan"].job_ref == planned and by_kind["plan"].recipient == dana.phone
    stopped = opted_out_among({m.recipient for m in claimed})
    assert by_kind["plan"].recipient in stopped and by_kind["consent"].recipient in stopped
    assert by_kind["test"].job_ref is None and by_kind["test"].recipient not in stopped


def test_claims_side_by_side_never_share_a_message(ctx, clock, claiming):
    for n in range(200):
        queue(n, clock())
    taken: list[list[int]] = [[], [], []]

    def dispatcher(mine: list[int]):
        with db.connection_context():
            while batch := outbox.claim(clock(), LEASE, 7):
                mine.extend(m.id for m in batch)

    threads = [threading.Thread(target=dispatcher, args=(mine,)) for mine in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = [id for mine in taken for id in mine]
    assert sorted(everything) == sorted(m.id for m in OutboxMessage.select())  # each once, none twice


def test_a_batch_its_dispatcher_died_with_is_taken_again_first_once_its_lease_ran_out(ctx, clock, claiming):
    for n in range(12):
        queue(n, clock() - timedelta(seconds=12 - n))
    dead = outbox.claim(clock(), LEASE, 3)  # then its dispatcher died: no mark_sent
    alive = outbox.claim(clock() + LEASE / 2, LEASE, 3)  # within the lease the dead one's batch is not free
    assert [m.body for m in dead] == ["Text 0", "Text 1", "Text 2"]
    assert [m.body for m in alive] == ["Text 3", "Text 4", "Text 5"]
    again = outbox.claim(clock() + LEASE + timedelta(seconds=1), LEASE, 5)  # the dead one's lease ran out
    assert [m.body for m in again] == ["Text 0", "Text 1", "Text 2", "Text 6", "Text 7"]


def test_mark_sent_leaves_the_row_as_the_orms_update_does(ctx, clock, planned):
    job = Job.get()
    queue(1, clock(), job=job)
    queue(2, clock(), job=job)
    [_, _, one, two] = outbox.claim(clock(), LEASE, 10)  # after the consent and plan texts
    sent_at = clock() + timedelta(seconds=3)
    assert outbox.mark_sent(one.id, sent_at, "SM" + "1" * 32, 2)
    assert outbox._settle(two.id, state="sent", sent_at=sent_at, provider_id="SM" + "1" * 32, attempts=2,
                          last_error="")
    by_sql, by_orm = (OutboxMessage.select().where(OutboxMessage.id == id).dicts().get() for id in (one.id, two.id))
    differ = {"id", "body", "dedupe_key", "recipient"}
    assert {k: v for k, v in by_sql.items() if k not in differ} == {k: v for k, v in by_orm.items() if k not in differ}
    assert (by_sql["state"], by_sql["sent_at"], by_sql["claimed_until"]) == ("sent", sent_at, None)


def test_mark_sent_settles_only_a_message_still_being_sent(ctx, clock):
    queue(1, clock())
    [message] = outbox.claim(clock(), LEASE, 10)
    assert outbox.mark_sent(message.id, clock(), "SM" + "2" * 32, 1)
    assert not outbox.mark_sent(message.id, clock(), "SM" + "3" * 32, 1)  # not ours any more: nothing changes
    assert OutboxMessage.get_by_id(message.id).provider_id == "SM" + "2" * 32
