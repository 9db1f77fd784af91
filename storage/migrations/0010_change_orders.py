"""A price change waits for the customer's approval as a change order, with the evidence of their answer."""
from peewee import (
    AutoField,
    BigIntegerField,
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
    class Job(Model):
        class Meta:
            database = db
            table_name = "job"

    class ChangeOrder(Model):
        id = AutoIncrementField() if isinstance(db, SqliteDatabase) else AutoField()
        job = ForeignKeyField(Job, on_delete="CASCADE")
        number = IntegerField()
        kind = CharField(max_length=8)
        description = CharField(max_length=200, default="")
        amount = BigIntegerField(default=0)
        reason = CharField(max_length=300, default="")
        old_total = BigIntegerField()
        new_total = BigIntegerField()
        state = CharField(max_length=10)
        proposed_by = CharField(max_length=64)
        proposed_at = DateTimeField()
        sent_at = DateTimeField(null=True)
        text = TextField(default="")
        remind_at = DateTimeField(null=True)
        expires_at = DateTimeField(null=True)
        answered_at = DateTimeField(null=True)
        answered_via = CharField(max_length=8, null=True)
        answered_by = CharField(max_length=64, null=True)
        message_id = CharField(max_length=64, null=True)
        request = TextField(default="")
        shown = TextField(default="")
        applied_because = TextField(default="")

        class Meta:
            database = db
            table_name = "change_order"
            indexes = ((("job", "number"), True), (("state", "remind_at"), False), (("state", "expires_at"), False))

    db.create_tables([ChangeOrder])
