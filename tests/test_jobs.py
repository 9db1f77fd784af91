"""Creating jobs and who may see them."""

import re

import pytest

from core.context import Actor
from core.errors import InvalidInput, NotFound
from core.jobs import Item, create_job, job_status, jobs_on_phone, register_contractor
from storage.models import AuditRecord, Customer, Job


def new_job(ctx, actor, **overrides):
    fields = dict(customer_name="Dana Whitfield", phone="(415) 555-0134", title="Kitchen countertops",
                  items=[Item("Kitchen countertops", 400_000)])
    fields.update(overrides)
    return create_job(ctx, actor, **fields)


def test_new_job_has_a_short_reference_and_an_e164_phone(ctx, contractor):
    job = new_job(ctx, contractor)
    assert re.fullmatch(r"J-[2-9A-HJ-NP-Z]{4}", job.ref)
    assert job.customer_phone == "+14155550134" and job.total == 400_000
    assert AuditRecord.get(AuditRecord.kind == "job_created").actor == str(contractor)


def test_line_items_add_up_to_the_total(ctx, contractor):
    job = new_job(ctx, contractor, items=[Item("Slab", 300_000), Item("Sink", 35_000)])
    assert job.total == 335_000


def test_the_same_customer_phone_is_one_customer_with_several_jobs(ctx, contractor):
    new_job(ctx, contractor)
    new_job(ctx, contractor, title="Bathroom vanity")
    assert Customer.select().count() == 1
    assert [j.title for j in jobs_on_phone(ctx, "+14155550134")] == ["Kitchen countertops", "Bathroom vanity"]


@pytest.mark.parametrize("overrides, message", [
    ({"phone": "not a phone"}, "not a phone number"),
    ({"phone": "555"}, "not a phone number"),
    ({"customer_name": "  "}, "name is missing"),
    ({"title": ""}, "title"),
    ({"items": []}, "price"),
    ({"items": [Item("Slab", -5)]}, "more than zero"),
    ({"items": [Item("Slab", 10**13)]}, "at most"),
])
def test_bad_input_is_refused_with_a_reason_and_writes_nothing(ctx, contractor, overrides, message):
    with pytest.raises(InvalidInput, match=message):
        new_job(ctx, contractor, **overrides)
    assert Job.select().count() == 0 and Customer.select().count() == 0


def test_another_contractors_job_is_not_found(ctx, contractor):
    job = new_job(ctx, contractor)
    stranger = Actor.contractor(register_contractor(ctx, business_name="Other Co", telegram_id=777).id)
    with pytest.raises(NotFound):
        job_status(ctx, stranger, job.ref)


def test_a_customer_sees_only_jobs_on_their_own_phone(ctx, contractor):
    job = new_job(ctx, contractor)
    assert job_status(ctx, Actor.customer("+14155550134"), job.ref).ref == job.ref
    with pytest.raises(NotFound):
        job_status(ctx, Actor.customer("+14155550199"), job.ref)


def test_registering_the_same_telegram_user_twice_returns_the_same_contractor(ctx):
    first = register_contractor(ctx, business_name="Granite", telegram_id=42)
    again = register_contractor(ctx, business_name="Granite again", telegram_id=42)
    assert first.id == again.id and again.business_name == "Granite"


def test_a_profile_change_is_checked_and_audited(ctx, contractor):
    from core.jobs import update_profile

    assert update_profile(ctx, contractor, "phone", "(415) 555-0111").phone == "+14155550111"
    assert update_profile(ctx, contractor, "currency", "eur").currency == "EUR"
    for field, value, message in [("timezone", "Mars/Base", "not a timezone"), ("locale", "xx_QQ", "not a locale"),
                                  ("phone", "12", "not a phone number"), ("business_name", " ", "cannot be empty"),
                                  ("password", "x", "no 'password'")]:
        with pytest.raises(InvalidInput, match=message):
            update_profile(ctx, contractor, field, value)
    assert AuditRecord.select().where(AuditRecord.kind == "profile_changed").count() == 2


def test_a_contractor_lists_only_their_own_active_jobs(ctx, contractor):
    from core.jobs import cancel_job, contractor_jobs

    kept = new_job(ctx, contractor)
    dropped = new_job(ctx, contractor, title="Old quote")
    cancel_job(ctx, contractor, dropped.ref)
    stranger = Actor.contractor(register_contractor(ctx, business_name="Other Co", telegram_id=777).id)
    new_job(ctx, stranger, title="Someone else's")
    assert [j.ref for j in contractor_jobs(ctx, contractor)] == [kept.ref]
