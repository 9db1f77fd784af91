"""Who may use a Paystage: the first to /start it owns it; others come with the owner's invite or a listed id.

Run on SQLite and, with PAYSTAGE_TEST_POSTGRES_URL, on PostgreSQL: the races are the databases' to settle.
"""

import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from peewee import IntegrityError
from playhouse.migrations import Runner

from core import access
from core.access import INVITED, LISTED, OWNER, RETURNING, invite, join, owner_id
from core.context import Actor
from core.errors import NotAllowed
from storage.database import MIGRATIONS, open_database, upgrade
from storage.models import AuditRecord, Contractor, Invite, Owner, db
from tests.databases import POSTGRES_URL, private_database

CODE = re.compile(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")


def owner(ctx):
    """The first /start on a fresh install: Granite & Co owns it; returns them as an actor."""
    return Actor.contractor(join(ctx, telegram_id=555, name="Granite & Co").contractor.id)


def rows():
    """What a refusal must leave as it was."""
    return Contractor.select().count(), Invite.select().count(), Owner.select().count(), AuditRecord.select().count()


# --- the owner ---------------------------------------------------------------------------------------------------


def test_the_first_to_start_a_fresh_install_owns_it(ctx):
    joined = join(ctx, telegram_id=555, name="Granite & Co")
    assert (joined.via, joined.owner) == (OWNER, True)
    assert owner_id() == joined.contractor.id
    kinds = [r.kind for r in AuditRecord.select().order_by(AuditRecord.id)]
    assert kinds == ["contractor_registered", "owner_claimed"]
    assert '"via": "owner"' in AuditRecord.get(AuditRecord.kind == "contractor_registered").new


def test_the_owner_starting_again_is_greeted_and_nothing_changes(ctx):
    first = join(ctx, telegram_id=555, name="Granite & Co")
    before = rows()
    again = join(ctx, telegram_id=555, name="Someone Else")
    assert (again.via, again.owner, again.contractor.id) == (RETURNING, True, first.contractor.id)
    assert rows() == before


def test_with_an_allow_list_only_a_listed_id_can_become_the_owner(ctx):
    """A bot's username is public: with the list set, a stranger cannot claim it before its operator."""
    with pytest.raises(NotAllowed, match="private"):
        join(ctx, telegram_id=999, name="Mallory", allowed_ids=frozenset({555}))
    assert owner_id() is None and Contractor.select().count() == 0
    assert join(ctx, telegram_id=555, name="Granite & Co", allowed_ids=frozenset({555})).via == OWNER


def test_a_contractor_from_before_may_claim_an_install_nobody_owns(ctx):
    from core.jobs import register_contractor

    earlier = register_contractor(ctx, business_name="Granite & Co", telegram_id=555)
    joined = join(ctx, telegram_id=555, name="Granite & Co")
    assert (joined.via, joined.owner, joined.contractor.id) == (OWNER, True, earlier.id)


# --- strangers ---------------------------------------------------------------------------------------------------


def test_a_stranger_is_told_it_is_private_how_to_get_in_and_their_id_and_nothing_is_written(ctx):
    owner(ctx)
    before = rows()
    with pytest.raises(NotAllowed) as refused:
        join(ctx, telegram_id=999_888, name="Mallory Scam Ltd")
    message = str(refused.value)
    assert "this Paystage is private" in message
    assert "ask the owner for an invite" in message and "/invite" in message and "/start CODE" in message
    assert "999888" in message and "PAYSTAGE_ALLOWED_TELEGRAM_IDS" in message
    assert rows() == before


def test_a_listed_telegram_id_joins_without_a_code(ctx):
    owner(ctx)
    joined = join(ctx, telegram_id=777, name="Tile Masters", allowed_ids=frozenset({777}))
    assert (joined.via, joined.owner) == (LISTED, False)
    assert '"via": "allowed_id"' in AuditRecord.get(AuditRecord.kind == "contractor_registered",
                                                    AuditRecord.actor == f"contractor:{joined.contractor.id}").new


# --- invites -----------------------------------------------------------------------------------------------------


def test_an_invite_lets_exactly_one_person_in(ctx, clock):
    invitation = invite(ctx, owner(ctx))
    assert CODE.fullmatch(invitation.code) and invitation.expires_at == clock() + timedelta(days=7)
    joined = join(ctx, telegram_id=777, name="Tile Masters", code=invitation.code)
    assert (joined.via, joined.owner) == (INVITED, False)
    assert Invite.get().used_by_id == joined.contractor.id
    before = rows()
    with pytest.raises(NotAllowed, match="already used"):
        join(ctx, telegram_id=888, name="Roof Pros", code=invitation.code)
    assert rows() == before
    assert [r.kind for r in AuditRecord.select().order_by(AuditRecord.id)][-3:] == [
        "invite_created", "contractor_registered", "invite_used"]


def test_an_invite_code_may_be_typed_in_any_case_with_spaces_or_without_dashes(ctx):
    invitation = invite(ctx, owner(ctx))
    typed = invitation.code.lower().replace("-", " ")
    assert join(ctx, telegram_id=777, name="Tile Masters", code=typed).via == INVITED


def test_an_invite_expires_after_seven_days(ctx, clock):
    boss = owner(ctx)
    early, late = invite(ctx, boss), invite(ctx, boss)
    clock.advance(days=7, seconds=-1)
    assert join(ctx, telegram_id=777, name="Tile Masters", code=early.code).via == INVITED
    clock.advance(seconds=1)
    before = rows()
    with pytest.raises(NotAllowed, match="expired") as refused:
        join(ctx, telegram_id=888, name="Roof Pros", code=late.code)
    assert "Ask the owner for a new one" in str(refused.value) and "888" in str(refused.value)
    assert rows() == before


@pytest.mark.parametrize("code", ["K7Q2-M9XP-4RTW", "hello", "-", "🙂" * 40, "1" * 5000])
def test_a_wrong_code_lets_no_one_in_and_says_what_to_do(ctx, code):
    invite(ctx, owner(ctx))
    before = rows()
    with pytest.raises(NotAllowed) as refused:
        join(ctx, telegram_id=888, name="Roof Pros", code=code)
    assert "invite" in str(refused.value) and "888" in str(refused.value)
    assert rows() == before


def test_only_the_owner_may_invite_and_the_others_are_told_why(ctx):
    owner(ctx)
    member = Actor.contractor(join(ctx, telegram_id=777, name="Tile Masters",
                                   allowed_ids=frozenset({777})).contractor.id)
    before = rows()
    with pytest.raises(NotAllowed, match="Only the owner of this Paystage, Granite & Co, can invite people"):
        invite(ctx, member)
    assert rows() == before


def test_a_code_is_stored_only_as_its_hash_and_never_audited(ctx):
    invitation = invite(ctx, owner(ctx))
    plain = invitation.code.replace("-", "")
    [stored] = Invite.select()
    assert stored.code_hash == hashlib.sha256(plain.encode()).hexdigest()
    join(ctx, telegram_id=777, name="Tile Masters", code=invitation.code)
    for record in AuditRecord.select():
        assert plain not in record.new + record.old and invitation.code not in record.new + record.old


def test_someone_already_in_leaves_an_invite_unused(ctx):
    invitation = invite(ctx, owner(ctx))
    assert join(ctx, telegram_id=555, name="Granite & Co", code=invitation.code).via == RETURNING
    assert Invite.get().used_at is None
    assert join(ctx, telegram_id=777, name="Tile Masters", code=invitation.code).via == INVITED


# --- races ------------------------------------------------------------------------------------------------------


THREADS = 8


def at_once(attempt, count=THREADS):
    """`attempt(n)` in `count` threads released together; what each returned, or the NotAllowed it raised."""
    gate = threading.Barrier(count)

    def run(n):
        with db.connection_context():
            gate.wait()
            try:
                return attempt(n)
            except NotAllowed as refused:
                return refused

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_two_first_starts_at_once_make_exactly_one_owner(ctx):
    results = at_once(lambda n: join(ctx, telegram_id=1000 + n, name=f"Contractor {n}"))
    owners = [r for r in results if not isinstance(r, NotAllowed)]
    assert len(owners) == 1 and owners[0].via == OWNER
    assert Owner.select().count() == 1 and Contractor.select().count() == 1
    assert all("private" in str(r) for r in results if isinstance(r, NotAllowed))


def test_a_claim_made_after_reading_that_nobody_owns_it_is_refused_by_the_database(ctx):
    """The read-then-write race made certain: the second claimant read "no owner" before the first committed."""
    owner(ctx)
    with pytest.raises(IntegrityError):
        access._claim(ctx, 999, "Mallory Scam Ltd")
    assert Contractor.select().count() == 1 and owner_id() == Contractor.get().id


def test_two_people_with_one_code_at_once_one_gets_in(ctx):
    code = invite(ctx, owner(ctx)).code
    results = at_once(lambda n: join(ctx, telegram_id=2000 + n, name=f"Contractor {n}", code=code))
    joined = [r for r in results if not isinstance(r, NotAllowed)]
    assert len(joined) == 1 and joined[0].via == INVITED
    assert Contractor.select().count() == 2
    assert all("already used" in str(r) for r in results if isinstance(r, NotAllowed))


# --- an install that upgrades ----------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"])
def before_owners(request, tmp_path):
    """A database as it was before owners (migrated to 0005), with the models bound to it."""
    with private_database(request.param, tmp_path / "old.sqlite3", "paystage_upgrade") as url:
        database = open_database(url)
        Runner(database, directory=str(MIGRATIONS)).up(target="0005_scan_indexes")
        yield database
        database.close()


def old_contractor(database, name, telegram_id, created):
    database.execute_sql(
        "INSERT INTO contractor (telegram_id, business_name, phone, timezone, currency, locale, "
        "payment_instructions, created_at) VALUES (%s, %s, '', 'UTC', 'USD', 'en_US', '', %s)".replace(
            "%s", database.param), (telegram_id, name, created))


def test_an_upgraded_install_keeps_its_contractors_and_the_earliest_with_telegram_owns_it(before_owners):
    old_contractor(before_owners, "Bench Co", None, datetime(2026, 1, 1))  # no Telegram: could never invite
    old_contractor(before_owners, "Granite & Co", 555, datetime(2026, 2, 1))
    old_contractor(before_owners, "Tile Masters", 777, datetime(2026, 3, 1))
    upgrade(before_owners)
    assert [c.business_name for c in Contractor.select().order_by(Contractor.id)] == [
        "Bench Co", "Granite & Co", "Tile Masters"]
    assert Contractor.get_by_id(owner_id()).business_name == "Granite & Co"
    assert AuditRecord.get(AuditRecord.kind == "owner_assigned").actor == "system:migration"


def test_an_upgraded_install_with_no_telegram_contractor_is_owned_by_the_first_start(before_owners, clock):
    from core.context import Context
    from core.links import PaymentLinks

    old_contractor(before_owners, "Bench Co", None, datetime(2026, 1, 1))
    upgrade(before_owners)
    assert owner_id() is None
    ctx = Context(clock=clock, links=PaymentLinks("https://pay.example", "test-secret"))
    assert join(ctx, telegram_id=555, name="Granite & Co").via == OWNER
