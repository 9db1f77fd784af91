from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.gsm import MAX_SEGMENTS, is_gsm7, segments
from core.plan import Trigger, TriggerKind
from core.status import ChangeOrderView, EventView, JobView, MilestoneView, Status
from core.wording import customer_replies as replies
from core.wording.words import format_phone
from tests.test_messages import SCRIPTS, made_up_question_marks, script_names

UTC = timezone.utc
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # Wed, Nov 25, 10:00 AM in New York
LINK = "https://pay.example.com/p/Ab3dEf"
# a change order sent a week before it expired unanswered, Wed, Dec 9
EXPIRED = ChangeOrderView(number=1, state="expired", reason="", old_total=400_000, new_total=999_999_999,
                          sent_at=NOW + timedelta(days=7), expires_at=NOW + timedelta(days=14),
                          answered_at=NOW + timedelta(days=14))
MEASUREMENT_AT = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # Thu, Dec 3, 9:00 AM in New York
REMOVAL_AT = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)
INSTALLATION_AT = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)

UP_FRONT = Trigger(TriggerKind.NOW)
BEFORE_MEASUREMENT = Trigger(TriggerKind.BEFORE, event="Measurement")
AFTER_REMOVAL = Trigger(TriggerKind.AFTER, event="Removal")
AFTER_INSTALLATION = Trigger(TriggerKind.AFTER, event="Installation")
ON_DEC_15 = Trigger(TriggerKind.DATE, on=date(2026, 12, 15))


# --- Builders --------------------------------------------------------------------------------


def milestone(label="Deposit", trigger=UP_FRONT, amount=100_000, paid=0, due_at=None, event_at=None,
              status=None) -> MilestoneView:
    """A milestone whose status follows from what is paid and when it fell due, as core.views derives it."""
    if status is None:
        if paid >= amount:
            status = Status.PAID
        elif paid:
            status = Status.PARTIALLY_PAID
        elif due_at is None or due_at > NOW:
            status = Status.UPCOMING
        elif NOW - due_at >= timedelta(days=3):
            status = Status.OVERDUE
        else:
            status = Status.DUE
    return MilestoneView(position=0, label=label, trigger=trigger, percent=2500, fixed=None, amount=amount,
                         paid=paid, due_at=due_at, status=status, event_at=event_at)


def numbered(*milestones: MilestoneView) -> tuple[MilestoneView, ...]:
    return tuple(replace(m, position=i) for i, m in enumerate(milestones, start=1))


def event(name, at, state="scheduled", done_at=None) -> EventView:
    return EventView(name=name, scheduled_at=at, state=state, done_at=done_at)


KITCHEN_EVENTS = (event("Measurement", MEASUREMENT_AT), event("Removal", REMOVAL_AT),
                  event("Installation", INSTALLATION_AT))


def job(milestones=(), events=KITCHEN_EVENTS, **fields) -> JobView:
    values = dict(
        ref="J-7K2Q", title="Kitchen countertops", state="active", currency="USD", locale="en_US",
        timezone="America/New_York", customer_name="Dana Whitfield", customer_phone="+12025550143",
        business_name="Granite & Co", business_phone="+12025550199", total=400_000, paid=0, now=NOW,
        plan_sent=True, milestones=tuple(milestones), events=tuple(events),
    )
    values.update(fields)
    return JobView(**values)


def kitchen_job(paid_first=0, **fields) -> JobView:
    """docs/design.md's countertop plan: 25% before Measurement, 25% after Removal, 50% after Installation."""
    milestones = numbered(
        milestone("Measurement deposit", BEFORE_MEASUREMENT, 100_000, paid=paid_first, event_at=MEASUREMENT_AT,
                  due_at=MEASUREMENT_AT - timedelta(hours=24)),
        milestone("Removal", AFTER_REMOVAL, 100_000, event_at=REMOVAL_AT),
        milestone("Installation", AFTER_INSTALLATION, 200_000, event_at=INSTALLATION_AT),
    )
    return job(milestones, paid=paid_first, **fields)


def removal_due_job(**fields) -> JobView:
    """The deposit paid; Removal was done yesterday, so its payment is due now."""
    j = kitchen_job(paid_first=100_000, **fields)
    removal = replace(j.milestones[1], due_at=NOW - timedelta(days=1), status=Status.DUE)
    return replace(j, milestones=(j.milestones[0], removal, j.milestones[2]))


# --- balance -----------------------------------------------------------------------------------


def test_balance_says_what_is_paid_what_remains_and_what_is_due_now():
    assert replies.balance(removal_due_job(), LINK).splitlines() == [
        "Balance for Kitchen countertops (J-7K2Q):",
        "Paid so far: $1,000.00 of $4,000.00. Remaining: $3,000.00.",
        "Due now: $1,000.00 (Removal).",
        f"Pay here: {LINK}",
    ]


def test_balance_with_nothing_due_says_so():
    text = replies.balance(kitchen_job(paid_first=100_000), LINK)
    assert "Remaining: $3,000.00.\nNothing is due right now.\n" in text
    assert f"Details: {LINK}" in text


def test_balance_adds_up_several_payments_due_at_once():
    j = removal_due_job()
    late = replace(j.milestones[2], due_at=NOW - timedelta(days=5), status=Status.OVERDUE)
    text = replies.balance(replace(j, milestones=(*j.milestones[:2], late)), LINK)
    assert "Due now: $3,000.00 (2 payments)." in text


def test_balance_asks_only_for_what_is_left_of_a_partly_paid_payment():
    j = kitchen_job(paid_first=40_000)
    text = replies.balance(replace(j, now=MEASUREMENT_AT - timedelta(hours=2)), LINK)
    assert "Paid so far: $400.00 of $4,000.00. Remaining: $3,600.00." in text
    assert "Due now: $600.00 (Measurement deposit)." in text


def test_balance_of_a_job_paid_in_full():
    j = job(numbered(milestone("All", UP_FRONT, 400_000, paid=400_000)), paid=400_000)
    text = replies.balance(j, LINK)
    assert "Paid so far: $4,000.00 - the job is paid in full. Thank you!" in text
    assert "Remaining" not in text and "Due now" not in text


def test_balance_mentions_a_credit_when_more_was_paid_than_the_job_costs():
    j = job(numbered(milestone("All", UP_FRONT, 180_000, paid=180_000)), total=180_000, paid=200_000)
    text = replies.balance(j, LINK)
    assert "Paid so far: $2,000.00; the price is $1,800.00. Your credit: $200.00" in text


def test_balance_in_euros_reads_as_in_germany():
    text = replies.balance(removal_due_job(currency="EUR", locale="de_DE", timezone="Europe/Berlin"), LINK)
    assert "Paid so far: 1.000,00 € of 4.000,00 €. Remaining: 3.000,00 €." in text
    assert "Due now: 1.000,00 € (Removal)." in text


# --- next_payment ------------------------------------------------------------------------------


def test_next_payment_names_the_amount_the_event_and_the_events_day():
    assert replies.next_payment(kitchen_job()) == (
        "Next payment for Kitchen countertops (J-7K2Q): $1,000.00 (Measurement deposit) "
        "before Measurement (Thu, Dec 3)."
    )


def test_next_payment_gives_the_events_day_in_the_customers_timezone():
    late = datetime(2026, 12, 4, 1, 30, tzinfo=UTC)  # Thu, Dec 3, 5:30 PM in Los Angeles
    m = milestone("Measurement deposit", BEFORE_MEASUREMENT, 100_000, event_at=late)
    j = job(numbered(m), [event("Measurement", late)], timezone="America/Los_Angeles")
    assert "before Measurement (Thu, Dec 3)." in replies.next_payment(j)
    berlin = job(numbered(m), [event("Measurement", late)], locale="de_DE", timezone="Europe/Berlin", currency="EUR")
    assert replies.next_payment(berlin).endswith("1.000,00 € (Measurement deposit) before Measurement (Fr., 4. Dez.).")


def test_next_payment_leaves_out_a_label_the_event_already_says():
    text = replies.next_payment(kitchen_job(paid_first=100_000))
    assert text == "Next payment for Kitchen countertops (J-7K2Q): $1,000.00 after Removal (Fri, Dec 4)."


def test_next_payment_without_a_date_for_its_event_names_only_the_event():
    j = kitchen_job(paid_first=100_000, events=(KITCHEN_EVENTS[0], event("Removal", None)))
    j = replace(j, milestones=tuple(replace(m, event_at=None) for m in j.milestones))
    assert replies.next_payment(j).endswith(": $1,000.00 after Removal.")


@pytest.mark.parametrize("trigger, words", [
    (UP_FRONT, "$500.00 (Deposit) up front."),
    (ON_DEC_15, "$500.00 (Deposit) on Tue, Dec 15."),
    (Trigger(TriggerKind.BEFORE, event="Measurement", lead=timedelta(days=3)),
     "$500.00 (Deposit) 3 days before Measurement (Thu, Dec 3)."),
    (Trigger(TriggerKind.AFTER, event="Installation", net_days=10),
     "$500.00 (Deposit) 10 days after Installation (Tue, Dec 8)."),
])
def test_next_payment_says_what_the_payment_is_tied_to(trigger, words):
    text = replies.next_payment(job(numbered(milestone("Deposit", trigger, 50_000))))
    assert text == f"Next payment for Kitchen countertops (J-7K2Q): {words}"


def test_next_payment_after_an_event_done_gives_the_day_it_was_done():
    done = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    trigger = Trigger(TriggerKind.AFTER, event="Installation", net_days=10)
    m = milestone("Final", trigger, 50_000, due_at=done + timedelta(days=10), event_at=INSTALLATION_AT)
    j = job(numbered(m), [event("Installation", INSTALLATION_AT, "done", done_at=done)])
    assert replies.next_payment(j).endswith("$500.00 (Final) 10 days after Installation (Fri, Nov 20).")


def test_next_payment_already_due_says_due_now_and_points_to_pay():
    assert replies.next_payment(removal_due_job()) == (
        "Next payment for Kitchen countertops (J-7K2Q): $1,000.00 (Removal), due now. Reply PAY for the link."
    )


def test_next_payment_when_everything_is_paid_says_all_paid():
    j = job(numbered(milestone("All", UP_FRONT, 400_000, paid=400_000)), paid=400_000)
    assert replies.next_payment(j) == "Kitchen countertops (J-7K2Q) is all paid - nothing more to pay. Thank you!"


def test_next_payment_without_a_plan_says_no_plan_yet():
    text = replies.next_payment(job())
    assert text.startswith("No plan yet for Kitchen countertops (J-7K2Q).")
    assert "Granite & Co will text it to you" in text


def test_a_plan_not_sent_yet_is_not_shown_to_the_customer():
    draft = kitchen_job(plan_sent=False)
    assert replies.next_payment(draft).startswith("No plan yet")
    assert replies.plan(draft, LINK).startswith("No plan yet")
    assert "$1,000.00" not in replies.pay(draft, LINK) + replies.plan(draft, LINK)


# --- plan --------------------------------------------------------------------------------------


def test_plan_lists_every_milestone_with_its_amount_trigger_and_state():
    milestones = numbered(
        milestone("Deposit", UP_FRONT, 50_000, paid=50_000),
        milestone("Measurement deposit", BEFORE_MEASUREMENT, 50_000, event_at=MEASUREMENT_AT,
                  due_at=NOW - timedelta(hours=2)),
        milestone("After Removal", AFTER_REMOVAL, 100_000, due_at=NOW - timedelta(days=4)),
        milestone("Cabinets", ON_DEC_15, 100_000, paid=40_000, due_at=NOW - timedelta(days=1)),
        milestone("Installation", AFTER_INSTALLATION, 100_000, paid=25_000),
        milestone("Sealing", Trigger(TriggerKind.AFTER, event="Sealing"), 0),
    )
    j = job(milestones, paid=115_000)
    assert replies.plan(j, LINK).splitlines() == [
        "Payment plan for Kitchen countertops (J-7K2Q), total $4,000.00:",
        "- Deposit: $500.00 up front - paid",
        "- Measurement deposit: $500.00 before Measurement (Thu, Dec 3) - due now",
        "- $1,000.00 after Removal (Fri, Dec 4) - overdue",
        "- Cabinets: $1,000.00 on Tue, Dec 15 - partly paid ($400.00), $600.00 due now",
        "- $1,000.00 after Installation (Tue, Dec 8) - partly paid ($250.00)",
        "- $0.00 after Sealing - paid",
        f"See it and pay: {LINK}",
    ]


def test_plan_shows_upcoming_payments_as_upcoming():
    text = replies.plan(kitchen_job(), LINK)
    assert "- $1,000.00 after Removal (Fri, Dec 4) - upcoming" in text
    assert "- $2,000.00 after Installation (Tue, Dec 8) - upcoming" in text


def test_a_long_plan_lists_its_first_milestones_and_counts_the_rest():
    text = replies.plan(worst_job(), LONG_LINK)
    listed = [label for label in LABELS if label[:10] in text]
    assert listed == LABELS[: len(listed)] and listed
    assert f"+{10 - len(listed)} more at the link." in text
    assert LONG_LINK in text


def test_plan_without_milestones_says_no_plan_yet():
    text = replies.plan(job(), LINK)
    assert text.startswith("No plan yet for Kitchen countertops (J-7K2Q).") and LINK in text


# --- pay ---------------------------------------------------------------------------------------


def test_pay_gives_the_link_and_the_amount_due_now():
    assert replies.pay(removal_due_job(), LINK) == (
        f"Kitchen countertops (J-7K2Q): $1,000.00 is due now (Removal).\nPay here: {LINK}\nThank you!"
    )


def test_pay_with_nothing_due_says_so_and_when_the_next_payment_comes():
    text = replies.pay(kitchen_job(paid_first=100_000), LINK)
    assert text == (
        "Kitchen countertops (J-7K2Q): Nothing is due right now. The next payment is $1,000.00 after Removal "
        f"(Fri, Dec 4).\nThe plan and how to pay: {LINK}"
    )


def test_pay_when_everything_is_paid_says_so():
    j = job(numbered(milestone("All", UP_FRONT, 400_000, paid=400_000)), paid=400_000)
    text = replies.pay(j, LINK)
    assert text.startswith("Kitchen countertops (J-7K2Q) is paid in full - nothing to pay. Thank you!")
    assert "due" not in text


def test_pay_when_more_was_paid_mentions_the_credit():
    j = job(numbered(milestone("All", UP_FRONT, 180_000, paid=180_000)), total=180_000, paid=200_000)
    assert "Your credit: $200.00; we will be in touch to settle it." in replies.pay(j, LINK)


def test_pay_without_a_plan_says_nothing_is_due():
    text = replies.pay(job(), LINK)
    assert text.startswith("Nothing is due right now. No plan yet for Kitchen countertops (J-7K2Q).")


# --- help, choosing a job, and the short answers -----------------------------------------------


def test_help_lists_the_commands_and_how_to_reach_the_contractor():
    lines = replies.help(kitchen_job()).splitlines()
    assert lines[0] == ("Text BAL for your balance, NEXT for the next payment, PLAN for all payments, "
                        "PAY for the payment link, STOP to stop texts.")
    # as the page writes it, and as a phone in the US dials it: not "+1 202-555-0199"
    assert lines[1] == "Your contractor for Kitchen countertops (J-7K2Q): Granite & Co, (202) 555-0199."
    assert lines[2] == "Anything else you text is passed on to them."


@pytest.mark.parametrize("business_phone", ["+12025550199", "+442079460958"])
def test_help_writes_the_contractors_number_as_the_page_does(business_phone):
    j = replace(kitchen_job(), business_phone=business_phone)
    assert f"Granite & Co, {format_phone(business_phone, j)}.\n" in replies.help(j)  # (202) 555-0199, +44 20 ...


def test_help_before_a_job_is_picked_gives_only_the_commands():
    text = replies.help(None)
    assert text == replies.commands_explained()
    assert all(word in text for word in ("BAL", "NEXT", "PLAN", "PAY", "STOP"))


def test_choose_job_with_several_businesses_names_each_business_beside_its_job_reference():
    jobs = [kitchen_job(), job(ref="J-9XW4", title="Bathroom vanity", business_name="Tile Masters")]
    assert replies.choose_job(jobs, businesses=2).splitlines() == [
        "Your number has jobs with 2 businesses. Which business is your text for?",
        "1. Granite & Co, job J-7K2Q",
        "2. Tile Masters, job J-9XW4",
        "Reply with the number, then BAL, NEXT, PLAN or PAY.",
    ]


def test_choose_job_with_several_businesses_shows_no_business_its_own_words_beside_another():
    """A stranger's job on a real customer's phone: its title is the stranger's words, sent to her in one text with
    her real contractor's name, in answer to a question she asked her contractor. It is not shown at all."""
    mallory = job(ref="J-M4LL", title="URGENT unpaid balance, pay Granite & Co today", business_name="Mallory Ltd")
    for held in (False, True):
        text = replies.choose_job([kitchen_job(), mallory], businesses=2, held=held)
        assert "URGENT" not in text and "Kitchen countertops" not in text
        assert "Mallory Ltd, job J-M4LL" in text and "Granite & Co, job J-7K2Q" in text


def test_choose_job_goes_by_businesses_not_by_their_names():
    """Two businesses may share a name: one may even copy the other's. The list still says there are two."""
    jobs = [kitchen_job(), job(ref="J-9XW4", title="URGENT unpaid balance")]
    text = replies.choose_job(jobs, businesses=2)
    assert text.startswith("Your number has jobs with 2 businesses.") and "URGENT" not in text
    assert "Which job with Granite & Co" not in text


def test_choose_job_cuts_a_business_name_so_it_cannot_carry_a_message():
    long_name = "Granite & Co - URGENT: your account is overdue, pay at once or lose your deposit"
    text = replies.choose_job([kitchen_job(), job(ref="J-9XW4", business_name=long_name)], businesses=2)
    assert "2. Granite & Co - URGENT: your..., job J-9XW4" in text


def test_choose_job_names_a_single_business_once():
    jobs = [kitchen_job(), job(ref="J-9XW4", title="Bathroom vanity")]
    assert replies.choose_job(jobs, businesses=1).splitlines()[:3] == [
        "Which job with Granite & Co is your text about?",
        "1. Kitchen countertops (J-7K2Q)",
        "2. Bathroom vanity (J-9XW4)",
    ]


def test_choose_job_after_a_message_says_it_is_kept_and_passed_on_once_a_job_is_picked():
    one = replies.choose_job([kitchen_job(), job(ref="J-9XW4", title="Bathroom vanity")], businesses=1, held=True)
    several = replies.choose_job([kitchen_job(), job(ref="J-9XW4", business_name="Tile Masters")], businesses=2,
                                 held=True)
    assert one.splitlines()[0] == "Which job with Granite & Co is your message about?"
    assert several.splitlines()[0] == "Your number has jobs with 2 businesses. Which business is your message for?"
    for text in (one, several):
        assert text.splitlines()[-1] == "Reply with the number and we will pass your message on."


def test_choose_job_lists_at_most_nine_and_counts_the_rest():
    jobs = [job(ref=f"J-{n:04d}", title=f"Job {n}", business_name=f"Business {n}") for n in range(1, 13)]
    lines = replies.choose_job(jobs, businesses=12).splitlines()
    assert [line.split(".")[0] for line in lines[1:10]] == [str(n) for n in range(1, 10)]
    assert lines[9] == "9. Business 9, job J-0009"
    assert "J-0010" not in "\n".join(lines)
    assert lines[10] == "+3 more not listed here."


@pytest.mark.parametrize("businesses", [1, 9])
def test_choose_job_cuts_long_names_but_keeps_every_job_and_its_number(businesses):
    jobs = [replace(worst_job(), ref=f"J-7K2QX{n}", business_name=f"{LONG_BUSINESS[:-1]}{n}") for n in range(1, 10)]
    text = replies.choose_job(jobs, businesses=businesses)
    assert segments(text) <= MAX_SEGMENTS
    for n in range(1, 10):
        assert f"\n{n}. " in text and f"J-7K2QX{n}" in text
        assert f"\n{n}. {'Complete kitchen' if businesses == 1 else 'Northern Lights'}" in text


def test_chosen_confirms_the_job_its_business_and_the_commands():
    assert replies.chosen(kitchen_job()) == (
        "OK: Kitchen countertops (J-7K2Q) with Granite & Co. Reply BAL, NEXT, PLAN or PAY.")


def test_chosen_says_the_messages_sent_before_picking_went_to_that_business():
    assert replies.chosen(kitchen_job(), passed_on=1) == (
        "OK: Kitchen countertops (J-7K2Q). We passed your message on to Granite & Co. Reply BAL, NEXT, PLAN or PAY.")
    assert "We passed your 2 messages on to Granite & Co." in replies.chosen(kitchen_job(), passed_on=2)


def test_an_unknown_number_gets_a_short_generic_answer():
    text = replies.unknown_number()
    assert text == replies.unknown_number()
    assert is_gsm7(text) and segments(text) == 1
    assert "J-" not in text and "$" not in text and not any(c.isdigit() for c in text)
    assert "not linked to a job" in text


def test_relayed_says_the_message_went_to_the_contractor():
    assert replies.relayed(kitchen_job()) == (
        "Thanks, we passed your message about Kitchen countertops (J-7K2Q) to Granite & Co. They will reply soon."
    )


def test_opted_in_says_texts_resume_and_how_to_stop_them():
    text = replies.opted_in(kitchen_job())
    assert "texts about Kitchen countertops (J-7K2Q) from Granite & Co will resume" in text
    assert "Reply STOP" in text
    assert "Reply STOP" in replies.opted_in(None) and "J-" not in replies.opted_in(None)


def test_change_approved_notes_the_new_total_and_remaining_and_that_the_contractor_knows():
    text = replies.change_approved(job(total=485_000, paid=100_000))
    assert "You approved the new price for Kitchen countertops (J-7K2Q): total $4,850.00, remaining $3,850.00." in text
    assert "Granite & Co has been told." in text


def test_change_approved_with_a_credit_says_so():
    text = replies.change_approved(job(total=180_000, paid=200_000))
    assert "total $1,800.00, paid $2,000.00. Your credit: $200.00" in text


def test_change_declined_says_the_price_stays():
    assert replies.change_declined(job(total=400_000)) == (
        "OK, you declined the price change for Kitchen countertops (J-7K2Q): the price stays $4,000.00. Granite & Co "
        "has been told and may be in touch.")


def test_a_change_that_expired_says_when_and_that_the_price_stays():
    text = replies.change_closed(job(total=400_000), EXPIRED)
    assert text.startswith("The price change for Kitchen countertops (J-7K2Q) expired on Wed, Dec 9, so the price "
                           "stays $4,000.00.")


def test_nothing_to_accept_points_to_the_commands():
    assert replies.nothing_to_accept(kitchen_job()) == (
        "Thanks! There is nothing to approve for Kitchen countertops (J-7K2Q): no price change is waiting for your "
        "answer. Reply BAL, NEXT, PLAN or PAY. Or HELP for more."
    )


def test_an_empty_business_name_reads_as_your_contractor():
    j = kitchen_job(business_name=" ", business_phone="")
    assert "to your contractor. They will reply soon." in replies.relayed(j)
    assert "Anything else you text about Kitchen countertops (J-7K2Q) goes to your contractor." in replies.help(j)


# --- Worst cases: every reply, long everything --------------------------------------------------

LONG_BUSINESS = "Northern Lights Granite, Quartz & Custom Stone Fabricators LLC"[:60]
LONG_CUSTOMER = "Maximiliana-Josephine Featherstonehaugh-Worthington"
LONG_TITLE = "Complete kitchen remodel with quartz countertops, backsplash & undermount sink 🏠"[:80]
LONG_LINK = "https://payments.paystage.example.com/p/" + "eyJqb2IiOjEyMzQ1Njc4OSwiZXhwIjoxNzk5OTk5OTk5fQ.Zx9" * 2
LONG_EVENT = "Final inspection and walkthrough"
BIGGEST = 999_999_999  # 9,999,999.99
LABELS = [
    "Deposit to hold dates", "Before measurement visit fee", "Material order and templating",
    "After old counter removal", "Slab cutting and fabrication", "Delivery to the site",
    "Installation day one payment", "Plumbing and sink hookup", "Final walkthrough and sealing",
    "Balance after final inspection",
]


def worst_triggers(event_name=LONG_EVENT):
    return [
        Trigger(TriggerKind.BEFORE, event=event_name, lead=timedelta(days=3)),
        Trigger(TriggerKind.AFTER, event=event_name, net_days=10),
        Trigger(TriggerKind.DATE, on=date(2027, 12, 15)),
        UP_FRONT,
    ]


def worst_job(currency="USD", locale="en_US", due=True, label=None, event_name=LONG_EVENT) -> JobView:
    """Ten milestones of 9,999,999.99, each half paid (the longest state), all overdue or all to come.

    Their sums (total, paid, due now) are ten times what one job may cost, so every amount is at its longest.
    """
    triggers = worst_triggers(event_name)
    due_at = NOW - timedelta(days=5) if due else NOW + timedelta(days=400)
    milestones = numbered(*(
        milestone(label if label is not None else LABELS[i], triggers[i % 4], BIGGEST, paid=BIGGEST // 2,
                  event_at=INSTALLATION_AT, due_at=due_at)
        for i in range(10)
    ))
    return job(
        milestones, [event(event_name, INSTALLATION_AT)],
        ref="J-7K2QX9", title=LONG_TITLE, business_name=LONG_BUSINESS, customer_name=LONG_CUSTOMER,
        currency=currency, locale=locale, total=10 * BIGGEST, paid=10 * (BIGGEST // 2),
    )


def several(j: JobView) -> list[JobView]:
    return [replace(j, ref=f"J-7K2QX{n}", business_name=f"{j.business_name[:-1]}{n}") for n in range(12)]


REPLIES = {
    "balance": lambda j: replies.balance(j, LONG_LINK),
    "balance_nothing_due": lambda j: replies.balance(replace(j, now=NOW - timedelta(days=30)), LONG_LINK),
    "balance_credit": lambda j: replies.balance(replace(j, paid=j.total + BIGGEST), LONG_LINK),
    "next_payment": lambda j: replies.next_payment(j),
    "next_payment_to_come": lambda j: replies.next_payment(replace(j, now=NOW - timedelta(days=30))),
    "next_payment_all_paid_credit": lambda j: replies.next_payment(
        replace(j, milestones=tuple(replace(m, paid=m.amount, status=Status.PAID) for m in j.milestones),
                paid=j.total + BIGGEST)),
    "plan": lambda j: replies.plan(j, LONG_LINK),
    "pay": lambda j: replies.pay(j, LONG_LINK),
    "pay_nothing_due": lambda j: replies.pay(replace(j, now=NOW - timedelta(days=30)), LONG_LINK),
    "pay_all_paid_credit": lambda j: replies.pay(
        replace(j, milestones=tuple(replace(m, paid=m.amount, status=Status.PAID) for m in j.milestones),
                paid=j.total + BIGGEST), LONG_LINK),
    "pay_no_plan": lambda j: replies.pay(replace(j, milestones=()), LONG_LINK),
    "help": lambda j: replies.help(j),
    "help_no_job": lambda j: replies.help(None, j.language),
    "choose_job": lambda j: replies.choose_job(several(j), businesses=12),
    "choose_job_held": lambda j: replies.choose_job(several(j), businesses=12, held=True),
    "choose_job_one_business": lambda j: replies.choose_job(several(j), businesses=1),
    "choose_job_one_business_held": lambda j: replies.choose_job(several(j), businesses=1, held=True),
    "chosen": lambda j: replies.chosen(j),
    "chosen_passed_on": lambda j: replies.chosen(j, passed_on=12),
    "unknown_number": lambda j: replies.unknown_number(j.language),
    "slow_down": lambda j: replies.slow_down(j.language),
    "relayed": lambda j: replies.relayed(j),
    "opted_in": lambda j: replies.opted_in(j),
    "opted_in_no_job": lambda j: replies.opted_in(None, j.language),
    "language_set": lambda j: replies.language_set(j, j.language),
    "language_set_no_job": lambda j: replies.language_set(None, j.language),
    "change_approved": lambda j: replies.change_approved(j),
    "change_approved_credit": lambda j: replies.change_approved(replace(j, paid=j.total + BIGGEST)),
    "change_declined": lambda j: replies.change_declined(j),
    "change_expired": lambda j: replies.change_closed(j, EXPIRED),
    "change_closed": lambda j: replies.change_closed(j, replace(EXPIRED, state="replaced")),
    "balance_change_waiting": lambda j: replies.balance(replace(j, change_order=EXPIRED), LONG_LINK),
    "nothing_to_accept": lambda j: replies.nothing_to_accept(j),
}
WITHOUT_A_JOB = {"help_no_job", "unknown_number", "slow_down", "opted_in_no_job", "language_set_no_job"}
WITH_A_LINK = {name for name in REPLIES if name.startswith(("balance", "plan", "pay"))}


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("currency, locale", [("USD", "en_US"), ("EUR", "de_DE")])
@pytest.mark.parametrize("name", REPLIES)
def test_every_reply_is_gsm7_within_three_segments_at_worst_case_lengths(name, currency, locale, language):
    text = REPLIES[name](replace(worst_job(currency, locale), language=language))
    assert is_gsm7(text), text
    assert segments(text) <= MAX_SEGMENTS, text
    if name not in WITHOUT_A_JOB:
        assert "J-7K2QX" in text, text  # the job's reference, never squeezed out
    if name in WITH_A_LINK:
        assert LONG_LINK in text


@pytest.mark.parametrize("name", sorted(name for name in set(REPLIES) - WITHOUT_A_JOB
                                         if not name.startswith("choose_job")))
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_reply_about_a_job_names_it_in_full_when_names_are_ordinary(name, language):
    text = REPLIES[name](replace(kitchen_job(), language=language))
    assert "Kitchen countertops (J-7K2Q)" in text and "..." not in text and "more at the link" not in text


@pytest.mark.parametrize("char", ["€", "{", "Ω"])
def test_names_of_characters_that_cost_two_septets_still_fit(char):
    """'€' and '{' are sent as two septets each: the longest names cost twice their length."""
    for due in (True, False):
        j = worst_job("EUR", "de_DE", due=due, label=char * 40, event_name=char * 40)
        j = replace(j, business_name=char * 60, title=char * 80)
        for name, reply in REPLIES.items():
            text = reply(j)
            assert is_gsm7(text) and segments(text) <= MAX_SEGMENTS, (name, text)


@settings(max_examples=40, deadline=None)
@given(business=st.text(max_size=60), title=st.text(max_size=80), label=st.text(max_size=40),
       event_name=st.text(min_size=1, max_size=40), phone=st.text(max_size=20))
def test_whatever_people_type_every_reply_stays_gsm7_within_three_segments(business, title, label, event_name,
                                                                           phone):
    for due in (True, False):
        j = worst_job("EUR", "de_DE", due=due, label=label, event_name=event_name)
        j = replace(j, business_name=business, title=title, business_phone=phone)
        for name, reply in REPLIES.items():
            text = reply(j)
            assert is_gsm7(text) and segments(text) <= MAX_SEGMENTS, (name, text)


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_reply_spells_the_longest_names_of_any_script_in_gsm7_within_three_segments(script):
    letters = SCRIPTS[script].replace(" ", "")
    for due in (True, False):
        j = worst_job("EUR", "de_DE", due=due, label=(letters * 40)[:40], event_name=(letters * 40)[:40])
        j = replace(j, business_name=(letters * 60)[:60], customer_name=(letters * 50)[:50], title=(letters * 80)[:80])
        for name, reply in REPLIES.items():
            text = reply(j)
            assert is_gsm7(text) and segments(text) <= MAX_SEGMENTS, (name, text)
            assert made_up_question_marks(text) == 0, (name, text)


@settings(max_examples=40, deadline=None)
@given(business=script_names, title=script_names, label=script_names, event_name=script_names)
def test_names_from_any_script_reach_every_reply_in_gsm7_without_a_question_mark(business, title, label, event_name):
    j = worst_job("USD", "en_US", label=label[:40], event_name=event_name[:40] or "Монтаж")
    j = replace(j, business_name=business[:60], title=title)
    for name, reply in REPLIES.items():
        text = reply(j)
        assert is_gsm7(text) and segments(text) <= MAX_SEGMENTS, (name, text)
        assert made_up_question_marks(text) == 0, (name, text)
