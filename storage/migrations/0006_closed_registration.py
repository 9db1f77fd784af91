"""Closed registration: the contractor who owns this Paystage, the invites they hand out, and the texts a phone
with several jobs sent before it picked one."""
import json
from datetime import datetime, timezone

from peewee import (
    AutoField,
    BigIntegerField,
    Check,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
)
from playhouse.sqlite_ext import AutoIncrementField


def up(migrator, db):
    def primary_key():
        return AutoIncrementField() if isinstance(db, SqliteDatabase) else AutoField()

    class Contractor(Model):
        telegram_id = BigIntegerField(null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "contractor"

    class Owner(Model):
        id = IntegerField(primary_key=True, constraints=[Check("id = 1")])  # one row: two first /start, one owner
        contractor = ForeignKeyField(Contractor, on_delete="RESTRICT")
        claimed_at = DateTimeField()

        class Meta:
            database = db
            table_name = "owner"

    class Invite(Model):
        id = primary_key()
        code_hash = CharField(max_length=64, unique=True)
        created_by = ForeignKeyField(Contractor, on_delete="CASCADE")
        created_at = DateTimeField()
        expires_at = DateTimeField()
        used_at = DateTimeField(null=True)
        used_by = ForeignKeyField(Contractor, null=True, backref="+", on_delete="SET NULL")

        class Meta:
            database = db
            table_name = "invite"

    class HeldText(Model):
        id = primary_key()
        phone = CharField(max_length=20, index=True)
        body = TextField()
        message_id = CharField(max_length=64, unique=True)
        received_at = DateTimeField()

        class Meta:
            database = db
            table_name = "held_text"

    class AuditRecord(Model):
        actor = CharField(max_length=64)
        at = DateTimeField()
        kind = CharField(max_length=32)
        old = TextField(default="{}")
        new = TextField(default="{}")

        class Meta:
            database = db
            table_name = "audit_record"

    db.create_tables([Owner, Invite, HeldText])

    # An install that upgrades keeps its contractors: the earliest one with a Telegram chat owns it
    # (the owner invites through the bot). With none, the first /start claims it, as on a fresh install.
    first = (Contractor.select().where(Contractor.telegram_id.is_null(False))
             .order_by(Contractor.created_at, Contractor.id).first())
    if first is not None:
        now = datetime.now(timezone.utc).replace(tzinfo=None)  # naive UTC, as every moment is stored
        Owner.create(id=1, contractor=first.id, claimed_at=now)
        AuditRecord.create(actor="system:migration", at=now, kind="owner_assigned",
                           new=json.dumps({"contractor": first.id, "why": "earliest contractor at upgrade"}))
