"""The first schema: every table and index. A frozen copy, independent of storage.models."""
from peewee import *
from playhouse.sqlite_ext import AutoIncrementField


def _primary_key(db):
    """Ids are never reused, as with PostgreSQL's sequences: outbox dedupe keys and audit records name them."""
    return AutoIncrementField() if isinstance(db, SqliteDatabase) else AutoField()

def up(migrator, db):
    class Contractor(Model):
        id = _primary_key(db)
        telegram_id = BigIntegerField(unique=True, null=True)
        business_name = CharField(max_length=120)
        phone = CharField(max_length=20, default='')
        timezone = CharField(max_length=64)
        currency = CharField(max_length=3)
        locale = CharField(max_length=16)
        payment_instructions = TextField(default='')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'contractor'
    db.create_tables([Contractor])

    class Customer(Model):
        id = _primary_key(db)
        contractor = ForeignKeyField(Contractor, on_delete='CASCADE')
        name = CharField(max_length=120)
        phone = CharField(index=True, max_length=20)
        timezone = CharField(max_length=64)
        opted_out_at = DateTimeField(null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'customer'
            indexes = ((('contractor', 'phone'), True),)
    db.create_tables([Customer])

    class Job(Model):
        id = _primary_key(db)
        ref = CharField(unique=True, max_length=12)
        contractor = ForeignKeyField(Contractor, on_delete='CASCADE')
        customer = ForeignKeyField(Customer, on_delete='CASCADE')
        title = CharField(max_length=200)
        currency = CharField(max_length=3)
        locale = CharField(max_length=16)
        state = CharField(max_length=16, default='active')
        plan_sent_at = DateTimeField(null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'job'
    db.create_tables([Job])

    class AuditRecord(Model):
        id = _primary_key(db)
        job = ForeignKeyField(Job, null=True, on_delete='CASCADE')
        actor = CharField(max_length=64)
        at = DateTimeField()
        kind = CharField(max_length=32)
        old = TextField(default='{}')
        new = TextField(default='{}')
        class Meta:
            database = db
            table_name = 'audit_record'
    db.create_tables([AuditRecord])

    class Event(Model):
        id = _primary_key(db)
        job = ForeignKeyField(Job, on_delete='CASCADE')
        position = IntegerField()
        name = CharField(max_length=80)
        scheduled_at = DateTimeField(null=True)
        state = CharField(max_length=16, default='scheduled')
        done_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'event'
            indexes = ((('job', 'name'), True),)
    db.create_tables([Event])

    class InboundMessage(Model):
        id = _primary_key(db)
        provider_id = CharField(unique=True, max_length=64)
        channel = CharField(max_length=16)
        received_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'inbound_message'
    db.create_tables([InboundMessage])

    class LineItem(Model):
        id = _primary_key(db)
        job = ForeignKeyField(Job, on_delete='CASCADE')
        position = IntegerField()
        description = CharField(max_length=200)
        amount = BigIntegerField()
        class Meta:
            database = db
            table_name = 'line_item'
    db.create_tables([LineItem])

    class Milestone(Model):
        id = _primary_key(db)
        job = ForeignKeyField(Job, on_delete='CASCADE')
        position = IntegerField()
        label = CharField(max_length=80)
        percent = IntegerField(null=True)
        fixed = BigIntegerField(null=True)
        trigger_kind = CharField(max_length=8)
        event = ForeignKeyField(Event, null=True, on_delete='RESTRICT')
        lead_minutes = IntegerField(default=0)
        net_days = IntegerField(default=0)
        trigger_date = DateField(null=True)
        amount = BigIntegerField(default=0)
        paid = BigIntegerField(default=0)
        due_at = DateTimeField(null=True)
        announced_at = DateTimeField(null=True)
        reminders_sent = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'milestone'
            indexes = ((('announced_at', 'due_at'), False),)
    db.create_tables([Milestone])

    class OutboxMessage(Model):
        id = _primary_key(db)
        channel = CharField(max_length=16)
        recipient = CharField(max_length=32)
        body = TextField()
        kind = CharField(max_length=32)
        dedupe_key = CharField(unique=True, max_length=160)
        job = ForeignKeyField(Job, null=True, on_delete='CASCADE')
        reply = BooleanField(default=False)
        state = CharField(max_length=16, default='pending')
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField()
        created_at = DateTimeField()
        sent_at = DateTimeField(null=True)
        provider_id = CharField(null=True, max_length=64)
        last_error = TextField(default='')
        class Meta:
            database = db
            table_name = 'outbox_message'
            indexes = ((('state', 'next_attempt_at'), False),)
    db.create_tables([OutboxMessage])

    class Payment(Model):
        id = _primary_key(db)
        job = ForeignKeyField(Job, on_delete='CASCADE')
        amount = BigIntegerField()
        method = CharField(max_length=32)
        reference = CharField(unique=True, null=True, max_length=120)
        milestone = ForeignKeyField(Milestone, null=True, on_delete='SET NULL')
        received_at = DateTimeField()
        actor = CharField(max_length=64)
        class Meta:
            database = db
            table_name = 'payment'
    db.create_tables([Payment])

    class PaymentPart(Model):
        id = _primary_key(db)
        payment = ForeignKeyField(Payment, on_delete='CASCADE')
        milestone = ForeignKeyField(Milestone, on_delete='CASCADE')
        amount = BigIntegerField()
        class Meta:
            database = db
            table_name = 'payment_part'
    db.create_tables([PaymentPart])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('payment_part'))
    migrator.migrate(migrator.drop_table('payment'))
    migrator.migrate(migrator.drop_table('outbox_message'))
    migrator.migrate(migrator.drop_table('milestone'))
    migrator.migrate(migrator.drop_table('line_item'))
    migrator.migrate(migrator.drop_table('inbound_message'))
    migrator.migrate(migrator.drop_table('event'))
    migrator.migrate(migrator.drop_table('audit_record'))
    migrator.migrate(migrator.drop_table('job'))
    migrator.migrate(migrator.drop_table('customer'))
    migrator.migrate(migrator.drop_table('contractor'))
