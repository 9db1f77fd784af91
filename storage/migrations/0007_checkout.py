"""Paying from the link: each checkout a customer starts, each provider event applied once, and the payment
account a contractor connects."""
from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    Model,
    SqliteDatabase,
    TextField,
)
from playhouse.sqlite_ext import AutoIncrementField


def up(migrator, db):
    def primary_key():
        return AutoIncrementField() if isinstance(db, SqliteDatabase) else AutoField()

    class Payment(Model):
        class Meta:
            database = db
            table_name = "payment"

    migrator.migrate(
        migrator.add_column("contractor", "payment_account", CharField(max_length=64, null=True)),
        migrator.add_column("contractor", "payment_account_ready", BooleanField(default=False)),
        # a refund is a negative payment naming the one it gives money back from
        migrator.add_column("payment", "refund_of_id", ForeignKeyField(Payment, null=True, field=Payment.id,
                                                                       on_delete="CASCADE")),
    )

    class Job(Model):
        class Meta:
            database = db
            table_name = "job"

    class Checkout(Model):
        id = primary_key()
        job = ForeignKeyField(Job, on_delete="CASCADE")
        key = CharField(max_length=64, unique=True)
        milestones = TextField()
        amount = BigIntegerField()
        currency = CharField(max_length=3)
        method = CharField(max_length=16)
        state = CharField(max_length=16, default="creating")
        session_id = CharField(max_length=255, null=True, unique=True)
        url = TextField(null=True)
        payment_intent = CharField(max_length=255, null=True)
        account = CharField(max_length=64, null=True)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "checkout"
            indexes = ((("job", "state"), False),)

    class ProviderEvent(Model):
        id = primary_key()
        event_id = CharField(max_length=255, unique=True)
        kind = CharField(max_length=64)
        received_at = DateTimeField()
        outcome = CharField(max_length=32)

        class Meta:
            database = db
            table_name = "provider_event"

    db.create_tables([Checkout, ProviderEvent])
