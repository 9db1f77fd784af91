"""The tables. Money is integer minor units; every moment is stored as naive UTC.

The schema is created and changed only by the numbered migrations in
storage/migrations/; these classes are how the rest of the code reads and
writes it, and a test checks the two agree.
"""

from datetime import datetime, timezone

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    Check,
    DatabaseProxy,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

db = DatabaseProxy()


class UtcDateTimeField(DateTimeField):
    """Takes and gives timezone-aware datetimes; stores them as naive UTC."""

    def db_value(self, value):
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"{self.name}: naive datetime; Paystage keeps every moment timezone-aware")
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Contractor(BaseModel):
    telegram_id = BigIntegerField(unique=True, null=True)
    business_name = CharField(max_length=120)
    phone = CharField(max_length=20, default="")
    timezone = CharField(max_length=64)
    currency = CharField(max_length=3)
    locale = CharField(max_length=16)
    payment_instructions = TextField(default="")
    created_at = UtcDateTimeField()
    payment_account = CharField(max_length=64, null=True)  # a connected Stripe account: their customers pay into it
    payment_account_ready = BooleanField(default=False)  # the account finished onboarding and can take payments
    language = CharField(max_length=8, default="en")  # what the bot and its notices speak: Telegram's, en or es


class Customer(BaseModel):
    contractor = ForeignKeyField(Contractor, backref="customers", on_delete="CASCADE")
    name = CharField(max_length=120)
    phone = CharField(max_length=20, index=True)  # E.164; inbound SMS find the customer by it
    timezone = CharField(max_length=64)
    opted_out_at = UtcDateTimeField(null=True)
    language = CharField(max_length=8, default="en")  # their texts and page: en or es (ESPAÑOL / ENGLISH)
    created_at = UtcDateTimeField()

    class Meta:
        indexes = ((("contractor", "phone"), True),)


class Job(BaseModel):
    ref = CharField(max_length=12, unique=True)  # J-7K2Q: shown in every message
    contractor = ForeignKeyField(Contractor, backref="jobs", on_delete="CASCADE")
    customer = ForeignKeyField(Customer, backref="jobs", on_delete="CASCADE")
    title = CharField(max_length=200)
    currency = CharField(max_length=3)
    locale = CharField(max_length=16)
    state = CharField(max_length=16, default="active")  # active, cancelled
    plan_sent_at = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField()


class LineItem(BaseModel):
    """The job's price is the sum of its line items."""

    job = ForeignKeyField(Job, backref="line_items", on_delete="CASCADE")
    position = IntegerField()
    description = CharField(max_length=200)
    amount = BigIntegerField()


class Event(BaseModel):
    job = ForeignKeyField(Job, backref="events", on_delete="CASCADE")
    position = IntegerField()
    name = CharField(max_length=80)
    scheduled_at = UtcDateTimeField(null=True)
    # a day with no time of day ("Dec 3"): scheduled_at is the start of that day in the customer's timezone
    date_only = BooleanField(default=False)
    state = CharField(max_length=16, default="scheduled")  # scheduled, done, cancelled
    done_at = UtcDateTimeField(null=True)
    warned_for = UtcDateTimeField(null=True)  # the scheduled time the contractor was warned of (unpaid "before")

    class Meta:
        indexes = ((("job", "name"), True), (("state", "scheduled_at"), False))


class Milestone(BaseModel):
    job = ForeignKeyField(Job, backref="milestones", on_delete="CASCADE")
    position = IntegerField()
    label = CharField(max_length=80)
    percent = IntegerField(null=True)  # basis points of what fixed amounts leave (retainage: held back of each)
    fixed = BigIntegerField(null=True)  # minor units
    retainage = BooleanField(default=False)  # holds back `percent` of every percentage milestone until its trigger
    trigger_kind = CharField(max_length=8)  # now, before, after, date
    event = ForeignKeyField(Event, null=True, backref="milestones", on_delete="RESTRICT")
    lead_minutes = IntegerField(default=0)
    net_days = IntegerField(default=0)
    trigger_date = DateField(null=True)
    amount = BigIntegerField(default=0)
    paid = BigIntegerField(default=0)  # the sum of its payment parts, kept in the same transaction
    due_at = UtcDateTimeField(null=True)  # set once the trigger can say when
    announced_at = UtcDateTimeField(null=True)  # when the payment-due message was queued
    reminders_sent = IntegerField(default=0)
    next_reminder_at = UtcDateTimeField(null=True, index=True)  # None: no reminder to come

    class Meta:
        # the due scan: not yet announced, due_at reached
        indexes = ((("announced_at", "due_at"), False),)


# the next moment anything falls due: the earliest due_at among milestones not yet announced
Milestone.add_index(Milestone.due_at, where=Milestone.announced_at.is_null())


class Payment(BaseModel):
    job = ForeignKeyField(Job, backref="payments", on_delete="CASCADE")
    amount = BigIntegerField()
    method = CharField(max_length=32)
    reference = CharField(max_length=120, null=True, unique=True)  # provider's id: a retry never records twice
    milestone = ForeignKeyField(Milestone, null=True, on_delete="SET NULL")  # named by the payer, if any
    received_at = UtcDateTimeField()
    actor = CharField(max_length=64)
    # a refund is a payment of its own, negative, naming the payment it gives money back from
    refund_of = ForeignKeyField("self", null=True, backref="refunds", on_delete="CASCADE")


class PaymentPart(BaseModel):
    """How much of a payment went to which milestone."""

    payment = ForeignKeyField(Payment, backref="parts", on_delete="CASCADE")
    milestone = ForeignKeyField(Milestone, backref="parts", on_delete="CASCADE")
    amount = BigIntegerField()


class AuditRecord(BaseModel):
    job = ForeignKeyField(Job, null=True, backref="audit", on_delete="CASCADE")
    actor = CharField(max_length=64)  # contractor:12, customer:+14155550134, system
    at = UtcDateTimeField()
    kind = CharField(max_length=32)
    old = TextField(default="{}")  # JSON
    new = TextField(default="{}")  # JSON


class OutboxMessage(BaseModel):
    """A message to send, written in the same transaction as its cause."""

    channel = CharField(max_length=16)  # sms, telegram
    recipient = CharField(max_length=32)  # E.164 phone, or Telegram chat id
    body = TextField()
    kind = CharField(max_length=32)
    dedupe_key = CharField(max_length=160, unique=True)  # derived from the cause: one cause, one message
    job = ForeignKeyField(Job, null=True, backref="outbox", on_delete="CASCADE")
    reply = BooleanField(default=False)  # a direct answer to the customer: quiet hours do not hold it
    state = CharField(max_length=16, default="pending")  # pending, sending, sent, failed, cancelled
    attempts = IntegerField(default=0)
    next_attempt_at = UtcDateTimeField()
    claimed_until = UtcDateTimeField(null=True)  # a sending worker's lease
    timezone = CharField(max_length=64, null=True)  # the customer's, for quiet hours
    created_at = UtcDateTimeField()
    sent_at = UtcDateTimeField(null=True)
    provider_id = CharField(max_length=64, null=True, index=True)
    last_error = TextField(default="")
    delivery_status = CharField(max_length=16, null=True)  # from the provider's callbacks, never going back
    delivery_error = IntegerField(null=True)

    class Meta:
        indexes = ((("state", "next_attempt_at", "id"), False),)  # a claim reads due texts in order (outbox.claim)


class RateLimit(BaseModel):
    """A shared pace for one sender (a Twilio number, a Telegram chat): the next free moment to send."""

    key = CharField(max_length=64, unique=True)
    next_at = UtcDateTimeField()


class InboundMessage(BaseModel):
    """Provider ids of inbound messages already handled: a provider retry is processed once."""

    provider_id = CharField(max_length=64, unique=True)
    channel = CharField(max_length=16)
    received_at = UtcDateTimeField()
    reply = TextField(null=True)  # what it was answered, given again to a retry


class PhoneChoice(BaseModel):
    """The job a phone with several active jobs picked (by replying its number) for its next texts."""

    phone = CharField(max_length=20, unique=True)
    job = ForeignKeyField(Job, on_delete="CASCADE")
    chosen_at = UtcDateTimeField()


class BotState(BaseModel):
    """The Telegram bot's durable state (bot/persistence.py): conversation states; user, chat and bot data."""

    kind = CharField(max_length=16)  # conversation, user_data, chat_data, bot_data, callback_data
    name = CharField(max_length=64)  # the conversation's name; "" for the other kinds
    key = CharField(max_length=128)  # JSON: a conversation key as a list ("[12,34]"), a user or chat id ("34"), or ""
    value = TextField()  # JSON
    updated_at = UtcDateTimeField()

    class Meta:
        indexes = ((("kind", "name", "key"), True),)


class Owner(BaseModel):
    """The contractor who owns this Paystage: the first to /start it. They invite the others.

    One row at most, and its id is always 1: when two people send the first /start
    at once, both inserts name the same key and exactly one of them wins.
    """

    id = IntegerField(primary_key=True, constraints=[Check("id = 1")])
    contractor = ForeignKeyField(Contractor, on_delete="RESTRICT")
    claimed_at = UtcDateTimeField()


class Invite(BaseModel):
    """A one-time code the owner hands out: whoever sends /start CODE before it expires joins as a contractor."""

    code_hash = CharField(max_length=64, unique=True)  # SHA-256 of the code: the code itself is never stored
    created_by = ForeignKeyField(Contractor, backref="invites", on_delete="CASCADE")
    created_at = UtcDateTimeField()
    expires_at = UtcDateTimeField()
    used_at = UtcDateTimeField(null=True)
    used_by = ForeignKeyField(Contractor, null=True, backref="+", on_delete="SET NULL")


class HeldText(BaseModel):
    """A customer's own words, texted while their phone had several jobs and had not picked one.

    Kept until the phone picks a job by its number, then passed on to that job's
    contractor: never guessed, never shown to another business.
    """

    phone = CharField(max_length=20, index=True)
    body = TextField()
    message_id = CharField(max_length=64, unique=True)  # the provider's id: also the relay's dedupe key
    received_at = UtcDateTimeField()


class Checkout(BaseModel):
    """A customer's tap on Pay: what it pays for, and how the provider's checkout session for it went.

    Made before the provider is asked, so the session carries its id and a
    webhook that overtakes the provider's own answer still finds it.
    """

    job = ForeignKeyField(Job, backref="checkouts", on_delete="CASCADE")
    key = CharField(max_length=64, unique=True)  # the provider's idempotency key: a double tap makes one session
    milestones = TextField()  # JSON list of the milestone ids it pays, in plan order
    amount = BigIntegerField()  # minor units, as open when the customer tapped
    currency = CharField(max_length=3)
    method = CharField(max_length=16)  # card, bank
    state = CharField(max_length=16, default="creating")  # creating, open, processing, paid, failed, expired, broken
    session_id = CharField(max_length=255, null=True, unique=True)
    url = TextField(null=True)
    payment_intent = CharField(max_length=255, null=True)
    account = CharField(max_length=64, null=True)  # the contractor's connected account, when payments go there
    created_at = UtcDateTimeField()
    expires_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        indexes = ((("job", "state"), False),)


class ProviderEvent(BaseModel):
    """An event a payment provider delivered, kept by its id: deliveries come at least once, so each is applied once."""

    event_id = CharField(max_length=255, unique=True)
    kind = CharField(max_length=64)
    received_at = UtcDateTimeField()
    outcome = CharField(max_length=32)  # what applying it did: paid, processing, failed, duplicate, unknown_job, ...


class ChangeOrder(BaseModel):
    """A price change the customer is asked to approve (docs/design.md, "Change orders"), and its answer.

    The plan stands as it was until the answer: approved (by text or on the
    page) applies it, declined or expired leaves it. The contractor may apply
    it without an answer only by saying why (`applied_because`). What the customer answered, when,
    how and to which exact words is kept here as evidence.
    """

    job = ForeignKeyField(Job, backref="change_orders", on_delete="CASCADE")
    number = IntegerField()  # the job's 1st, 2nd... change order: what both sides call it
    kind = CharField(max_length=8)  # total, add, remove, edit: core.pricing.PriceChange
    description = CharField(max_length=200, default="")
    amount = BigIntegerField(default=0)
    reason = CharField(max_length=300, default="")  # what changes, in words: core.status.PriceChangeView.reason
    old_total = BigIntegerField()  # the price when it was proposed
    new_total = BigIntegerField()
    # waiting (to be sent when the one before it is answered), pending, approved, declined, expired, replaced,
    # applied (by the contractor without an answer, saying why), withdrawn (the plan was replaced or the job
    # cancelled)
    state = CharField(max_length=10)
    proposed_by = CharField(max_length=64)  # contractor:12
    proposed_at = UtcDateTimeField()
    sent_at = UtcDateTimeField(null=True)
    text = TextField(default="")  # the exact text the customer was sent
    remind_at = UtcDateTimeField(null=True)  # None once reminded, or when not pending
    expires_at = UtcDateTimeField(null=True)
    answered_at = UtcDateTimeField(null=True)
    answered_via = CharField(max_length=8, null=True)  # sms, page, telegram (the contractor), system (expired)
    answered_by = CharField(max_length=64, null=True)  # the customer's phone, or contractor:12
    message_id = CharField(max_length=64, null=True)  # the provider's id of the answering text (a MessageSid)
    request = TextField(default="")  # the page request that answered: address, browser, the link it came by
    shown = TextField(default="")  # the exact words the customer answered to, in the channel they used
    applied_because = TextField(default="")  # why the contractor applied it without the customer's approval

    class Meta:
        indexes = ((("job", "number"), True), (("state", "remind_at"), False), (("state", "expires_at"), False))


class WorkerTurn(BaseModel):
    """The worker's last turn of the loop, kept where every process sees it (/healthz, /metrics in the web app).

    One row, id 1, rewritten by whichever worker turned last: the question is whether any does.
    """

    id = IntegerField(primary_key=True, constraints=[Check("id = 1")])
    at = UtcDateTimeField()  # when the turn ended
    took_ms = IntegerField()  # how long it took
    every_ms = IntegerField()  # the worker's scan interval: a turn is late after a few of them


MODELS = [
    Contractor,
    Customer,
    Job,
    LineItem,
    Event,
    Milestone,
    Payment,
    PaymentPart,
    AuditRecord,
    OutboxMessage,
    RateLimit,
    InboundMessage,
    PhoneChoice,
    BotState,
    Owner,
    Invite,
    HeldText,
    Checkout,
    ProviderEvent,
    ChangeOrder,
    WorkerTurn,
]
