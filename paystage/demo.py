"""`paystage demo`: the countertop job of docs/design.md, start to finish, on a fresh SQLite file.

It drives the same core use cases the Telegram bot and the SMS webhook call,
and the same loop turn `paystage worker` runs, on a simulated clock; after
every step it prints the job's timeline and the messages the step queued for
the customer and the contractor.
"""

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from core.change_orders import propose_price_change
from core.clock import FrozenClock
from core.context import Actor, Context
from core.events import add_event, mark_event_done
from core.inbound import answer_text
from core.jobs import Item, create_job, job_status, register_contractor
from core.links import PaymentLinks
from core.loop import turn
from core.money import format_money
from core.payments import record_payment
from core.plans import send_plan, set_plan
from core.pricing import PriceChange, preview_price_change
from core.status import JobView
from core.wording.words import format_when, trigger_words
from paystage.settings import Settings
from storage.database import open_database, upgrade
from storage.models import OutboxMessage

NEW_YORK = ZoneInfo("America/New_York")


def local(*parts) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK).astimezone(timezone.utc)


class Story:
    """Prints each step with what it changed and what it queued."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.seen = 0
        self.number = 0

    def step(self, title: str) -> None:
        self.number += 1
        moment = self.ctx.clock().astimezone(NEW_YORK).strftime("%a %b %d, %I:%M %p")
        print(f"\n{'=' * 78}\n{self.number}. {title}   [{moment}]\n{'=' * 78}")

    def show(self, job: JobView) -> None:
        money = lambda cents: format_money(cents, job.currency, job.locale)  # noqa: E731
        print(f"{job.ref}  {job.title} for {job.customer_name}: total {money(job.total)}, "
              f"paid {money(job.paid)}, remaining {money(job.remaining)}"
              + (f", credit {money(job.credit)}" if job.credit else ""))
        for event in job.events:
            when = format_when(event.scheduled_at, job, event.date_only) if event.scheduled_at else "not scheduled"
            print(f"  event      {event.name:<14} {when:<26} {event.state}")
        for m in job.milestones:
            print(f"  payment {m.position + 1}  {money(m.amount):>11}  {trigger_words(m, job):<40} {m.status}")
        self.messages()

    def messages(self) -> None:
        queued = list(OutboxMessage.select().where(OutboxMessage.id > self.seen).order_by(OutboxMessage.id))
        for message in queued:
            to = "SMS to customer" if message.channel == "sms" else "Telegram to contractor"
            print(f"  -> {to} ({message.kind}):")
            print("     " + message.body.replace("\n", "\n     "))
            self.seen = message.id
        if not queued:
            print("  (no messages queued)")


def run_demo(settings: Settings, db_path: str | None = None) -> None:
    path = Path(db_path) if db_path else settings.data_dir / "demo.sqlite3"
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    upgrade(open_database(f"sqlite:///{path}"))
    clock = FrozenClock(local(2026, 12, 1, 8, 30))
    ctx = Context(clock=clock, links=PaymentLinks(settings.public_base_url, settings.secret_key),
                  defaults=settings.defaults)
    story = Story(ctx)
    print(f"Paystage demo on {path} (a fresh SQLite file; simulated time, America/New_York)")

    story.step("A contractor registers with the bot")
    contractor = register_contractor(ctx, business_name="Granite & Co Countertops", telegram_id=1001,
                                     phone="(415) 555-0100", payment_instructions="Zelle to pay@granite.example")
    me = Actor.contractor(contractor.id)
    print(f"  contractor #{contractor.id}: {contractor.business_name}")

    story.step("/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000")
    job = create_job(ctx, me, customer_name="Dana Whitfield", phone="(415) 555-0134",
                     title="Kitchen countertops", items=[Item("Kitchen countertops", 400_000)])
    ref = job.ref
    for name, when in [("Measurement", local(2026, 12, 3, 9)), ("Removal", local(2026, 12, 10, 8)),
                       ("Installation", local(2026, 12, 17, 9))]:
        add_event(ctx, me, ref, name, when)
    story.show(job_status(ctx, me, ref))

    story.step("/plan 25% before measurement, 25% after removal, 50% after installation")
    story.show(set_plan(ctx, me, ref, "25% before measurement, 25% after removal, 50% after installation"))

    story.step("The contractor taps Send: the customer gets the plan")
    story.show(send_plan(ctx, me, ref))

    clock.set(local(2026, 12, 2, 9, 0))
    story.step("Time passes; the worker's loop runs. A day before Measurement the first payment falls due")
    turn(ctx)
    story.show(job_status(ctx, me, ref))

    clock.set(local(2026, 12, 2, 13, 15))
    story.step("Dana pays $1,000.00 by card")
    story.show(record_payment(ctx, Actor.system("card"), ref, 100_000, "card", reference="ch_demo_1").job)

    clock.set(local(2026, 12, 3, 10, 30))
    story.step("/done Measurement")
    story.show(mark_event_done(ctx, me, ref, "measure").job)

    clock.set(local(2026, 12, 8, 16, 0))
    story.step("/price 4850 - Dana picked a thicker slab: preview first")
    preview = preview_price_change(ctx, me, ref, PriceChange.total(485_000))
    money = lambda cents: format_money(cents, "USD", "en_US")  # noqa: E731
    print(f"  {money(preview.old_total)} -> {money(preview.new_total)}")
    for change in preview.changes:
        print(f"  {change.label:<22} {money(change.old):>11} -> {money(change.new):>11}"
              + ("  (paid)" if change.paid and change.paid >= change.new else ""))
    story.messages()

    story.step("The contractor taps Send for approval: Dana gets the change order, the plan stands until she answers")
    propose_price_change(ctx, me, ref, PriceChange.total(485_000))
    story.messages()

    story.step("Dana texts YES: the plan recalculates, and the contractor is told")
    print(f"  reply to Dana: {answer_text(ctx, '+14155550134', 'YES', 'SM-demo-yes').text}")
    story.show(job_status(ctx, me, ref))

    clock.set(local(2026, 12, 10, 15, 0))
    story.step("/done removal: the second payment falls due at once")
    story.show(mark_event_done(ctx, me, ref, "removal").job)

    clock.set(local(2026, 12, 13, 15, 0))
    story.step("Three days pass and the second payment is still open: the loop sends a reminder")
    turn(ctx)
    story.show(job_status(ctx, me, ref))

    clock.set(local(2026, 12, 13, 18, 0))
    story.step("/paid 1283.33 check")
    story.show(record_payment(ctx, me, ref, 128_333, "check").job)

    clock.set(local(2026, 12, 17, 17, 0))
    story.step("/done install")
    story.show(mark_event_done(ctx, me, ref, "install").job)

    clock.set(local(2026, 12, 18, 10, 0))
    story.step("Dana pays the rest by card")
    story.show(record_payment(ctx, Actor.system("card"), ref, 256_667, "card", reference="ch_demo_2").job)
    print(f"\nDone. The demo's database stays at {path} for a look around.")
