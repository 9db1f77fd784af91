"""A worker down for six hours: on its return, exactly the right messages, each once, none in quiet hours."""

from zoneinfo import ZoneInfo

from core.delivery import LoggingSender
from core.dispatcher import DeliveryPolicy, Dispatcher
from core.events import add_event
from core.jobs import Item, create_job
from core.loop import turn
from core.plans import send_plan, set_plan
from core.quiet_hours import QuietHours
from sms.sender import TwilioSender
from storage.models import Customer, OutboxMessage

NIGHT = QuietHours.parse("21:00-08:00")


def job_for(ctx, contractor, name, phone, tz, plan, measurement_at):
    job = create_job(ctx, contractor, customer_name=name, phone=phone, title="Countertops",
                     items=[Item("Countertops", 400_000)])
    Customer.update(timezone=tz).where(Customer.phone == job.customer_phone).execute()
    add_event(ctx, contractor, job.ref, "Measurement", measurement_at)
    add_event(ctx, contractor, job.ref, "Installation", None)
    set_plan(ctx, contractor, job.ref, plan)
    send_plan(ctx, contractor, job.ref)
    return job.ref


def test_six_hours_down_sends_what_fell_due_once_and_waits_out_the_night(ctx, clock, contractor, twilio_api, utc):
    sms = TwilioSender(twilio_api.account_sid, twilio_api.auth_token, from_number="+14155550100",
                       api_base_url=twilio_api.base_url, timeout=5)
    dispatcher = Dispatcher(clock, {"sms": sms, "telegram": LoggingSender("telegram")},
                            DeliveryPolicy(quiet_hours=NIGHT, sms_interval=None))

    def worker_runs():
        turn(ctx)
        dispatcher.drain()

    clock.set(utc(2026, 12, 1, 3))
    # B: a deposit due since Dec 1, its first reminder falls due at 03:00 UTC on Dec 4, while the worker is down
    b = job_for(ctx, contractor, "Bo", "(415) 555-0102", "America/New_York", "50% now, rest after install",
                utc(2026, 12, 20, 15))
    clock.set(utc(2026, 12, 2, 0))
    # A (New York): due a day before its Measurement, at 01:00 UTC on Dec 4 (20:00 in New York)
    a = job_for(ctx, contractor, "Al", "(415) 555-0101", "America/New_York", "25% before measure, rest after install",
                utc(2026, 12, 5, 1))
    # C (Berlin): due at 04:00 UTC on Dec 4, five in the morning in Berlin
    c = job_for(ctx, contractor, "Cy", "+49 30 901820", "Europe/Berlin", "25% before measure, rest after install",
                utc(2026, 12, 5, 4))
    clock.set(utc(2026, 12, 3, 15))
    worker_runs()  # daytime in New York and in Berlin: the plans go out
    clock.set(utc(2026, 12, 4, 0))
    worker_runs()  # the last run before going down: nothing else is due yet
    before = len(twilio_api.messages)
    assert before == 7  # three consent texts, three plans and B's deposit
    first_new = OutboxMessage.select().order_by(OutboxMessage.id.desc()).first().id

    clock.set(utc(2026, 12, 4, 6))  # back six hours later... and then running every quarter of an hour
    while clock() <= utc(2026, 12, 4, 14):
        worker_runs()
        clock.advance(minutes=15)

    texts = list(OutboxMessage.select().where(OutboxMessage.id > first_new, OutboxMessage.channel == "sms")
                 .order_by(OutboxMessage.id))
    by_job = sorted((m.job.ref, m.kind) for m in texts)
    assert by_job == sorted([(a, "payment_due"), (b, "reminder"), (c, "payment_due")])
    assert all(m.state == "sent" for m in texts)
    assert len(twilio_api.messages) == before + 3  # each once
    for m in texts:
        assert not NIGHT.is_quiet(m.sent_at, m.timezone), f"{m.kind} to {m.recipient} sent at night"
    sent_at = {m.job.ref: m.sent_at for m in texts}
    assert sent_at[c] == utc(2026, 12, 4, 7)  # 08:00 in Berlin: the first moment out of its night
    assert sent_at[a] == sent_at[b] == utc(2026, 12, 4, 13)  # 08:00 in New York
    warnings = OutboxMessage.select().where(OutboxMessage.kind == "before_event_unpaid")
    assert sorted(w.job.ref for w in warnings) == sorted([a, c])


def test_the_worker_never_texts_a_customer_at_night_even_when_it_runs_all_night(ctx, clock, contractor,
                                                                              twilio_api, utc):
    sms = TwilioSender(twilio_api.account_sid, twilio_api.auth_token, from_number="+14155550100",
                       api_base_url=twilio_api.base_url, timeout=5)
    dispatcher = Dispatcher(clock, {"sms": sms, "telegram": LoggingSender("telegram")},
                            DeliveryPolicy(quiet_hours=NIGHT, sms_interval=None))
    clock.set(utc(2026, 12, 2, 0))
    job_for(ctx, contractor, "Al", "(415) 555-0101", "America/New_York", "25% before measure, rest after install",
            utc(2026, 12, 5, 6))
    clock.set(utc(2026, 12, 4, 0))
    while clock() <= utc(2026, 12, 4, 18):
        turn(ctx)
        dispatcher.drain()
        clock.advance(minutes=10)
    due = OutboxMessage.get(OutboxMessage.kind == "payment_due")
    new_york = due.sent_at.astimezone(ZoneInfo("America/New_York"))
    assert due.created_at == utc(2026, 12, 4, 6)  # fell due at 01:00 in New York...
    assert (new_york.hour, new_york.minute) == (8, 0)  # ...and was sent at eight
