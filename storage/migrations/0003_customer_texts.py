"""Customer texts: the reply given to each inbound text, the job a phone picked, delivery status from Twilio."""
from peewee import *
from playhouse.sqlite_ext import AutoIncrementField


def up(migrator, db):
    migrator.migrate(
        # a provider retry of an inbound text gets the same answer, without doing anything twice
        migrator.add_column("inbound_message", "reply", TextField(null=True)),
        # Twilio's delivery status callbacks find the message by its SID
        migrator.add_index("outbox_message", ("provider_id",), False),
        migrator.add_column("outbox_message", "delivery_status", CharField(max_length=16, null=True)),
        migrator.add_column("outbox_message", "delivery_error", IntegerField(null=True)),
    )

    class Job(Model):
        class Meta:
            database = db
            table_name = "job"

    class PhoneChoice(Model):
        id = AutoIncrementField() if isinstance(db, SqliteDatabase) else AutoField()
        phone = CharField(max_length=20, unique=True)
        job = ForeignKeyField(Job, on_delete="CASCADE")
        chosen_at = DateTimeField()

        class Meta:
            database = db
            table_name = "phone_choice"

    db.create_tables([PhoneChoice])
