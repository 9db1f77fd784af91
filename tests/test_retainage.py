"""Retainage (issue 10): a plan holds back a share of every percentage payment until a release event is done.

Worked out by hand below, through the real use cases. The retainage is a milestone of its own, weighed by
core.allocation.slots (rule 7): with r held back, a milestone of p% is weighed p x (100% - r) and the
retainage r x 100%, so the stated percentages make 100% and the amounts add up to the total to the cent.
"""

from dataclasses import dataclass, replace
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.allocation import Slot, recalculate, slots
from core.change_orders import answer_by_text, propose_price_change
from core.due import announce_all_due
from core.errors import InvalidInput
from core.events import add_event, mark_event_done
from core.gsm import MAX_SEGMENTS, is_gsm7, segments
from core.jobs import Item, create_job, job_status
from core.money import WHOLE
from core.payments import payment_order, record_payment
from core.plan import TriggerKind
from core.plans import send_plan, set_plan
from core.pricing import PriceChange
from core.status import Status
from core.views import job_paid, job_total
from core.wording import contractor_texts, customer_replies
from sms.app import create_app
from storage.models import AuditRecord, Job, Milestone, OutboxMessage, PaymentPart
from tests import test_replies

PLAN = "30% before measurement, 70% after installation, retain 10% until final walkthrough"
PHONE = "+14155550134"  # Dana's, as stored
LINK = "https://pay.example/p/x"
HELD = "Held back until after Final walkthrough: {}"


@pytest.fixture
def remodel(ctx, contractor, utc):
    """An $18,500.00 kitchen remodel for Dana with Measurement (Dec 3), Installation (Dec 17) and Final
    walkthrough (Dec 21); returns its ref."""
    job = create_job(ctx, contractor, customer_name="Dana Whitfield", phone="(415) 555-0134",
                     title="Kitchen remodel", items=[Item("Kitchen remodel", 1_850_000)])
    add_event(ctx, contractor, job.ref, "Measurement", utc(2026, 12, 3, 14))
    add_event(ctx, contractor, job.ref, "Installation", utc(2026, 12, 17, 14))
    add_event(ctx, contractor, job.ref, "Final walkthrough", utc(2026, 12, 21, 15))
    return job.ref


@pytest.fixture
def retained(ctx, contractor, remodel):
    """The remodel with PLAN set and sent; returns its ref."""
    set_plan(ctx, contractor, remodel, PLAN)
    send_plan(ctx, contractor, remodel)
    return remodel


def amounts(ctx, actor, ref):
    return [m.amount for m in job_status(ctx, actor, ref).milestones]


def stored(ref):
    job = Job.get(Job.ref == ref)
    return job, list(Milestone.select().where(Milestone.job == job).order_by(Milestone.position))


# --- (1) a new plan ------------------------------------------------------------------------------------------------


def test_retainage_holds_back_its_share_of_every_percentage_payment(ctx, contractor, remodel):
    view = set_plan(ctx, contractor, remodel, PLAN)
    # weights 30% x 90% = 27%, 70% x 90% = 63%, 10% x 100% = 10% of $18,500.00:
    # $4,995.00 + $11,655.00 + $1,850.00 = $18,500.00, and 10% of each payment's share is in the last one
    assert [m.amount for m in view.milestones] == [499_500, 1_165_500, 185_000]
    last = view.milestones[-1]
    assert (last.retainage, last.percent, last.trigger.kind, last.trigger.event) == (
        True, 1_000, TriggerKind.AFTER, "Final walkthrough")
    assert [m.percent for m in view.milestones[:-1]] == [3_000, 7_000]  # as stated: they make 100%
    preview = contractor_texts.plan_preview(view)
    assert HELD.format("$1,850.00") in preview
    assert "3. Retainage (10%): $1,850.00 after Final walkthrough (Mon, Dec 21) - upcoming" in preview


def test_a_fixed_amount_is_paid_as_stated_and_the_retainage_is_its_rate_of_the_whole_price(ctx, contractor, remodel):
    view = set_plan(ctx, contractor, remodel, "$500 now, " + PLAN)
    # retainage: 10% of $18,500.00 = $1,850.00; $18,500.00 - $500.00 - $1,850.00 = $16,150.00 for the percentages:
    # 30% = $4,845.00, 70% = $11,305.00
    assert [m.amount for m in view.milestones] == [50_000, 484_500, 1_130_500, 185_000]


def test_a_retain_clause_anywhere_in_the_sentence_is_the_last_milestone(ctx, contractor, remodel):
    view = set_plan(ctx, contractor, remodel,
                    "retain 10% until final walkthrough, 30% before measurement, rest after installation")
    assert [(m.label, m.amount) for m in view.milestones] == [
        ("Before Measurement", 499_500), ("After Installation", 1_165_500), ("Retainage", 185_000)]


# --- (2) a partial payment, then a price change the customer approves ----------------------------------------------


def approve(ctx, contractor, ref, change):
    """The contractor sends the change order, and Dana texts YES."""
    propose_price_change(ctx, contractor, ref, change)
    answered = answer_by_text(ctx, PHONE, ref, approve=True, message_id="SM" + "0" * 32)
    assert answered.outcome == "approved"


def test_a_price_change_before_any_payment_keeps_the_retainage_at_its_share(ctx, contractor, retained):
    approve(ctx, contractor, retained, PriceChange.total(2_000_000))
    # nothing paid: everything from the new total, 27% / 63% / 10% of $20,000.00
    assert amounts(ctx, contractor, retained) == [540_000, 1_260_000, 200_000]


def test_a_partial_payment_then_a_price_rise_spreads_the_rest_over_the_open_ones_by_their_weights(
        ctx, contractor, retained):
    record_payment(ctx, contractor, retained, 600_000, "check")
    # $6,000.00 pays #1 in full ($4,995.00) and $1,005.00 of #2
    assert [(m.amount, m.paid) for m in job_status(ctx, contractor, retained).milestones] == [
        (499_500, 499_500), (1_165_500, 100_500), (185_000, 0)]
    propose_price_change(ctx, contractor, retained, PriceChange.total(2_000_000))
    assert amounts(ctx, contractor, retained) == [499_500, 1_165_500, 185_000]  # nothing changes before the YES
    answer_by_text(ctx, PHONE, retained, approve=True, message_id="SM" + "1" * 32)
    # The retainage is 10% of the new price, $2,000.00 (rule 7). #1 is paid, so it keeps $4,995.00 (rule 2).
    # $20,000.00 - $4,995.00 - $2,000.00 = $13,005.00 is left for #2, the one open percentage milestone, which stays
    # above the $1,005.00 paid on it (rule 3).
    view = job_status(ctx, contractor, retained)
    assert [(m.amount, m.paid) for m in view.milestones] == [(499_500, 499_500), (1_300_500, 100_500),
                                                             (200_000, 0)]
    assert sum(m.amount for m in view.milestones) == view.total == 2_000_000
    assert HELD.format("$2,000.00.") in customer_replies.balance(view, LINK)


def test_a_price_rise_after_every_ordinary_payment_is_paid_falls_due_now_less_the_retainage(ctx, contractor,
                                                                                           retained):
    record_payment(ctx, contractor, retained, 1_665_000, "check")  # #1 and #2 in full: all but the retainage
    approve(ctx, contractor, retained, PriceChange.total(2_000_000))
    # retainage: 10% of $20,000.00 = $2,000.00; the other $150.00 of the $1,500.00 rise is asked for now
    view = job_status(ctx, contractor, retained)
    assert [(m.label, m.amount) for m in view.milestones] == [
        ("Before Measurement", 499_500), ("After Installation", 1_165_500), ("Retainage", 200_000),
        ("Balance after price change", 135_000)]
    assert view.due_now_amount == 135_000


def test_the_amounts_after_a_price_change_with_retainage_are_a_fixed_point(ctx, contractor, clock, retained):
    record_payment(ctx, contractor, retained, 600_000, "check")
    approve(ctx, contractor, retained, PriceChange.add("Backsplash", 123_457))
    job, milestones = stored(retained)
    # what the next price change starts from: recalculating at the same total changes nothing
    unapplied = job_paid(job) - sum(m.paid for m in milestones)
    index = {m.id: i for i, m in enumerate(milestones)}
    order = [index[m.id] for m in payment_order(milestones, clock())]
    again = recalculate(job_total(job), slots(milestones, job_total(job)), unapplied, order)
    assert list(again.amounts) == [m.amount for m in milestones] and again.unplaced == 0


# --- (3) the retainage falls due with its release event ------------------------------------------------------------


def test_retainage_falls_due_only_when_its_release_event_is_done(ctx, clock, contractor, retained, utc, outbox):
    for day, event in [(3, "measurement"), (17, "installation")]:
        clock.set(utc(2026, 12, day, 20))
        mark_event_done(ctx, contractor, retained, event)
    announce_all_due(ctx)
    view = job_status(ctx, contractor, retained)
    assert [m.is_due(view.now) for m in view.milestones] == [True, True, False]
    assert view.milestones[-1].status is Status.UPCOMING
    assert view.held_back == view.milestones[-1] and view.due_now_amount == 499_500 + 1_165_500
    clock.set(utc(2026, 12, 21, 20))
    result = mark_event_done(ctx, contractor, retained, "final walk")
    assert result.announced == (view.milestones[-1].id,)
    after = job_status(ctx, contractor, retained)
    assert after.milestones[-1].status is Status.DUE and after.held_back is None
    [(_sms, _kind, body)] = [m for m in outbox("payment_due") if "$1,850.00" in m[2]]
    assert "Retainage (10%)" in body
    assert "Held back" not in customer_replies.balance(after, LINK)


def test_retainage_n_days_after_its_event_falls_due_that_many_days_after_it_is_done(
        ctx, clock, contractor, remodel, utc):
    set_plan(ctx, contractor, remodel, PLAN.replace("until final", "until 30 days after final"))
    send_plan(ctx, contractor, remodel)
    clock.set(utc(2026, 12, 21, 20))
    mark_event_done(ctx, contractor, remodel, "final walkthrough")
    retainage = job_status(ctx, contractor, remodel).milestones[-1]
    assert retainage.due_at == utc(2027, 1, 20, 20)  # 30 days after it was done
    view = job_status(ctx, contractor, remodel)
    assert "Held back until 30 days after Final walkthrough: $1,850.00." in customer_replies.balance(view, LINK)
    clock.set(utc(2027, 1, 20, 19, 59))
    assert retainage.id not in announce_all_due(ctx)
    clock.set(utc(2027, 1, 20, 20))
    assert announce_all_due(ctx) == [retainage.id]


# --- (4) a whole job, the retainage paid last ----------------------------------------------------------------------


def test_a_full_job_is_paid_with_the_retainage_released_last(ctx, clock, contractor, retained, utc):
    client = create_app(ctx, public_base_url="https://pay.example", twilio_auth_token="t").test_client()
    page = client.get("/p/" + ctx.links.token(retained, clock())).get_data(as_text=True)
    assert "Held back until after Final walkthrough" in page and "$1,850.00" in page and "Retainage (10%)" in page
    card = contractor_texts.job_card(job_status(ctx, contractor, retained))
    assert "Total $18,500.00 - paid $0.00 - remaining $18,500.00\n" + HELD.format("$1,850.00") in card
    steps = [(2, None, 499_500), (17, "installation", 1_165_500), (21, "final walkthrough", 185_000)]
    for day, event, amount in steps:
        clock.set(utc(2026, 12, day, 20))
        if event:
            mark_event_done(ctx, contractor, retained, event)
        announce_all_due(ctx)
        view = job_status(ctx, contractor, retained)
        assert view.due_now_amount == amount  # each payment asked for in its turn, the retainage last
        record_payment(ctx, contractor, retained, amount, "check")
    view = job_status(ctx, contractor, retained)
    assert view.paid == view.total == 1_850_000 and view.remaining == 0 and view.held_back is None
    assert all(m.status is Status.PAID for m in view.milestones)
    last = PaymentPart.select().order_by(PaymentPart.id.desc()).first()
    assert (last.milestone.retainage, last.amount) == (True, 185_000)
    assert "the job is paid in full" in customer_replies.balance(view, LINK)
    assert "Held back" not in contractor_texts.job_card(view)


# --- (5) bad input -------------------------------------------------------------------------------------------------


EXAMPLE = "Example: 30% before measurement, 70% after installation, retain 10% until final walkthrough"


@pytest.mark.parametrize("sentence, said, how", [
    (PLAN.replace("10%", "60%"), "Retainage can hold back at most 50% of the price, not 60%.", EXAMPLE),
    (PLAN.replace("10%", "0%"), "Retainage must hold back more than 0%", EXAMPLE),
    (PLAN.replace("10%", "-10%"), "Retainage must hold back more than 0%", EXAMPLE),
    (PLAN + ", retain 5% until installation", "A plan holds back retainage once, but 'retain 10% until final "
     "walkthrough' and 'retain 5% until installation' both do. Keep one.", EXAMPLE),
    (PLAN.replace("final walkthrough", "roof inspection"), "There is no event 'roof inspection' on this job.",
     "Its events are: Measurement, Installation, Final walkthrough."),
    (PLAN.replace(" until final walkthrough", ""), "Say until when it is held back.", EXAMPLE),
    (PLAN.replace("10%", "$500"), "Retainage is a percentage of the price, not '$500'.", EXAMPLE),
], ids=["over-half", "zero", "negative", "twice", "unknown-event", "no-event", "fixed-amount"])
def test_a_bad_retain_clause_is_refused_saying_how_to_write_it_and_changes_nothing(
        ctx, contractor, retained, sentence, said, how):
    before = amounts(ctx, contractor, retained)
    records, messages = AuditRecord.select().count(), OutboxMessage.select().count()
    with pytest.raises(InvalidInput) as refused:
        set_plan(ctx, contractor, retained, sentence)
    assert said in str(refused.value) and how in str(refused.value)
    assert amounts(ctx, contractor, retained) == before and job_status(ctx, contractor, retained).plan_sent
    assert (AuditRecord.select().count(), OutboxMessage.select().count()) == (records, messages)


# --- the rule, for any plan ----------------------------------------------------------------------------------------


@dataclass
class Planned:
    """A milestone as core.allocation.slots reads it."""

    percent: int | None
    fixed: int | None
    retainage: bool = False
    amount: int = 0
    paid: int = 0


@st.composite
def retained_plans(draw):
    """A plan of 1-6 percentage milestones making 100% and some fixed ones, retainage of 0.01%-50%, a total."""
    count = draw(st.integers(1, 6))
    cuts = sorted(draw(st.lists(st.integers(1, WHOLE - 1), min_size=count - 1, max_size=count - 1, unique=True)))
    plan = [Planned(b - a, None) for a, b in zip([0] + cuts, cuts + [WHOLE])]
    total = draw(st.integers(1, 10**9))
    for _ in range(draw(st.integers(0, 2))):
        plan.insert(draw(st.integers(0, len(plan))), Planned(None, draw(st.integers(1, max(1, total // 4)))))
    plan.append(Planned(draw(st.integers(1, WHOLE // 2)), None, retainage=True))
    return plan, total


@settings(max_examples=400, deadline=None)
@given(retained_plans())
def test_with_retainage_a_new_plan_adds_up_to_the_total_and_holds_back_its_share_to_within_a_cent(case):
    plan, total = case
    result = recalculate(total, slots(plan, total))
    assert sum(result.amounts) == total and result.unplaced == 0
    rate, fixed = plan[-1].percent, sum(m.fixed for m in plan if m.fixed is not None)
    held = max(min(Fraction(total * rate, WHOLE), total - fixed), 0)  # r of the price, or what fixed amounts leave
    assert abs(result.amounts[-1] - held) < 1
    shared = max(total - fixed - result.amounts[-1], 0)
    for m, amount in zip(plan[:-1], result.amounts):
        if m.percent is not None:  # p% of what the fixed amounts and the retainage leave
            assert abs(amount - Fraction(shared * m.percent, WHOLE)) < 1


@settings(max_examples=400, deadline=None)
@given(retained_plans(), st.data())
def test_with_retainage_a_price_change_after_payments_adds_up_and_recalculating_again_changes_nothing(case, data):
    plan, total = case
    for m, amount in zip(plan, recalculate(total, slots(plan, total)).amounts):
        m.amount = amount
        m.paid = data.draw(st.sampled_from([0, amount, amount // 2])) if amount else 0
    new_total = data.draw(st.integers(1, 2 * 10**9))
    once = recalculate(new_total, slots(plan, new_total))
    assert sum(once.amounts) + once.unplaced - once.credit == new_total
    assert all(a >= m.paid for m, a in zip(plan, once.amounts))
    again = recalculate(new_total, slots([replace(m, amount=a) for m, a in zip(plan, once.amounts)], new_total))
    assert again.amounts == once.amounts


def test_without_retainage_the_slots_are_the_milestones_as_they_are():
    plan = [Planned(3_333, None), Planned(None, 50_000), Planned(3_333, None), Planned(3_334, None)]
    assert slots(plan, 100_000) == [Slot(m.percent, m.fixed, m.amount, m.paid) for m in plan]


def test_the_retainage_is_its_rate_of_the_price_rounded_as_every_split_is():
    plan = [Planned(WHOLE, None), Planned(1_000, None, retainage=True)]
    assert slots(plan, 1_850_000)[1] == Slot(None, 185_000)
    assert slots(plan, 1_234_567)[1].fixed == 123_457  # 123,456.7: the larger remainder keeps the odd cent


# --- what the customer reads fits an SMS -----------------------------------------------------------------------------


HELD_WORST = 999_999_998


def worst_retained(currency, locale, language):
    """tests/test_replies.py's worst job, its last milestone retainage of 12.34% holding back 9,999,999.98 (an
    amount of its own, as long as any)."""
    j = test_replies.worst_job(currency, locale)
    last = replace(j.milestones[-1], retainage=True, percent=1_234, amount=HELD_WORST, paid=0, due_at=None,
                   status=Status.UPCOMING, trigger=test_replies.worst_triggers()[1])  # 10 days after the longest event
    return replace(j, milestones=j.milestones[:-1] + (last,), language=language)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("currency, locale", [("USD", "en_US"), ("EUR", "de_DE")])
@pytest.mark.parametrize("reply", [customer_replies.balance, customer_replies.plan])
def test_what_retainage_holds_back_fits_the_replies_at_worst_case_lengths(reply, currency, locale, language):
    j = worst_retained(currency, locale, language)
    assert j.held_back is not None
    text = reply(j, test_replies.LONG_LINK)
    assert is_gsm7(text) and segments(text) <= MAX_SEGMENTS, text
    assert test_replies.LONG_LINK in text and "J-7K2QX9" in text
    assert "9.999.999,98" in text or "9,999,999.98" in text  # what is held back, never squeezed out


def test_a_spanish_reader_is_told_of_retainage_in_spanish(ctx, contractor, retained):
    view = replace(job_status(ctx, contractor, retained), language="es")
    balance = customer_replies.balance(view, LINK)
    assert "Retenido hasta después de Final walkthrough: $1,850.00." in balance  # é is GSM-7; á í ó ú fold
    assert "Retencion (10%): $1,850.00" in customer_replies.plan(view, LINK)
