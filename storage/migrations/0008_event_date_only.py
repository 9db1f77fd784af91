"""An event can be a day with no time of day ("Dec 3"): shown as the day alone, never as a made-up 12:00 AM."""
from datetime import time, timezone
from zoneinfo import ZoneInfo

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, Model


def up(migrator, db):
    migrator.migrate(migrator.add_column("event", "date_only", BooleanField(default=False)))

    class Customer(Model):
        timezone = CharField(max_length=64)

        class Meta:
            database = db
            table_name = "customer"

    class Job(Model):
        customer = ForeignKeyField(Customer)

        class Meta:
            database = db
            table_name = "job"

    class Event(Model):
        job = ForeignKeyField(Job)
        scheduled_at = DateTimeField(null=True)
        date_only = BooleanField(default=False)

        class Meta:
            database = db
            table_name = "event"

    # Until now a day typed alone ("Dec 3") was stored as the start of that day where the contractor is, which
    # is the customer's timezone unless the contractor has moved since: an event at exactly that midnight was
    # typed as a day. Nothing else changes: the moment stays, and so does every due moment it gives.
    rows = (Event.select(Event.id, Event.scheduled_at, Customer.timezone).join(Job).join(Customer)
            .where(Event.scheduled_at.is_null(False)).tuples())
    days = [event_id for event_id, at, tz in rows
            if at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).time() == time(0)]
    for start in range(0, len(days), 500):
        Event.update(date_only=True).where(Event.id.in_(days[start:start + 500])).execute()
