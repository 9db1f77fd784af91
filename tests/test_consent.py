"""The first text a business sends a phone is its consent text: who writes, what for, STOP and HELP (issue 10)."""

from core.context import Actor
from core.jobs import Item, create_job, register_contractor
from core.plans import send_plan, set_plan


def consent_texts(outbox):
    return [body for _, _, body in outbox("consent")]


def test_the_first_text_of_a_business_comes_after_its_consent_text_once(ctx, contractor, planned, outbox):
    kinds = [kind for channel, kind, _ in outbox() if channel == "sms"]
    assert kinds[:2] == ["consent", "plan"]
    second = create_job(ctx, contractor, customer_name="Dana Whitfield", phone="(415) 555-0134", title="Bathroom",
                        items=[Item("Bathroom", 100_000)])
    set_plan(ctx, contractor, second.ref, "100% now")
    send_plan(ctx, contractor, second.ref)
    [consent] = consent_texts(outbox)  # the same business, the same phone: once
    assert consent.startswith("Granite & Co: Hi Dana") and "Msg & data rates may apply" in consent  # a US phone


def test_another_business_texting_the_same_phone_sends_its_own(ctx, planned, outbox):
    other = Actor.contractor(register_contractor(ctx, business_name="Tile Masters", telegram_id=777).id)
    job = create_job(ctx, other, customer_name="Dana W.", phone="(415) 555-0134", title="Backsplash",
                     items=[Item("Backsplash", 50_000)])
    set_plan(ctx, other, job.ref, "100% now")
    send_plan(ctx, other, job.ref)
    assert [c.split(":")[0] for c in consent_texts(outbox)] == ["Granite & Co", "Tile Masters"]


def test_a_phone_outside_the_us_is_not_told_of_us_carrier_rates(ctx, contractor, outbox):
    job = create_job(ctx, contractor, customer_name="Hans", phone="+49 30 901820", title="Kitchen",
                     items=[Item("Kitchen", 100_000)])
    set_plan(ctx, contractor, job.ref, "100% now")
    send_plan(ctx, contractor, job.ref)
    [consent] = consent_texts(outbox)
    assert "STOP" in consent and "rates" not in consent
