"""Delivery: reminder times, sending leases, quiet hours by the customer's timezone, and rate limits."""
from peewee import *
from playhouse.sqlite_ext import AutoIncrementField


def up(migrator, db):
    migrator.migrate(
        # when the next overdue reminder goes out (None: no more reminders)
        migrator.add_column("milestone", "next_reminder_at", DateTimeField(null=True)),
        migrator.add_index("milestone", ("next_reminder_at",), False),
        # a message being sent is leased; a worker that dies mid-send leaves it to be taken again
        migrator.add_column("outbox_message", "claimed_until", DateTimeField(null=True)),
        # the customer's timezone, for quiet hours (None for Telegram messages)
        migrator.add_column("outbox_message", "timezone", CharField(max_length=64, null=True)),
        # the day-before warning scans events by their time
        migrator.add_index("event", ("state", "scheduled_at"), False),
    )

    class RateLimit(Model):
        id = AutoIncrementField() if isinstance(db, SqliteDatabase) else AutoField()
        key = CharField(max_length=64, unique=True)
        next_at = DateTimeField()

        class Meta:
            database = db
            table_name = "rate_limit"

    db.create_tables([RateLimit])
