import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.gsm import MAX_SEGMENTS, is_gsm7, segments
from core.plan import Trigger, TriggerKind
from core.status import AmountChange, ChangeOrderView, EventView, JobView, MilestoneView, PriceChangeView, Status
from core.wording import customer_texts as messages
from core.wording.words import due_when, format_phone, trigger_words

UTC = timezone.utc
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
LINK = "https://pay.example.com/p/Ab3dEf"
MEASUREMENT_AT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 9:00 AM in New York
INSTALLATION_AT = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)

NOW_ = Trigger(TriggerKind.NOW)
BEFORE_MEASUREMENT = Trigger(TriggerKind.BEFORE, event="Measurement")
AFTER_REMOVAL = Trigger(TriggerKind.AFTER, event="Removal")
AFTER_INSTALLATION = Trigger(TriggerKind.AFTER, event="Installation")
ON_DEC_15 = Trigger(TriggerKind.DATE, on=date(2026, 12, 15))


# --- Builders --------------------------------------------------------------------------------


def milestone(label="Deposit", trigger=NOW_, amount=100_000, paid=0, position=1, percent=2500,
              due_at=None, event_at=None, status=None) -> MilestoneView:
    if status is None:
        status = Status.PAID if paid >= amount else Status.PARTIALLY_PAID if paid else Status.UPCOMING
    return MilestoneView(position=position, label=label, trigger=trigger, percent=percent, fixed=None,
                         amount=amount, paid=paid, due_at=due_at, status=status, event_at=event_at)


def event(name="Measurement", at=MEASUREMENT_AT, state="scheduled", done_at=None) -> EventView:
    return EventView(name=name, scheduled_at=at, state=state, done_at=done_at)


def plan(*milestones: MilestoneView) -> tuple[MilestoneView, ...]:
    return tuple(replace(m, position=i) for i, m in enumerate(milestones, start=1))


def kitchen_plan() -> tuple[MilestoneView, ...]:
    """docs/design.md's countertop plan: 25% before Measurement, 25% after Removal, 50% after Installation."""
    return plan(
        milestone("Measurement deposit", BEFORE_MEASUREMENT, 100_000, event_at=MEASUREMENT_AT,
                  due_at=MEASUREMENT_AT - timedelta(hours=24)),
        milestone("Removal", AFTER_REMOVAL, 100_000),
        milestone("Installation", AFTER_INSTALLATION, 200_000, percent=5000),
    )


def job(milestones=(), events=(), **fields) -> JobView:
    values = dict(
        ref="J-7K2Q", title="Kitchen countertops", state="active", currency="USD", locale="en_US",
        timezone="America/New_York", customer_name="Dana Whitfield", customer_phone="+12025550143",
        business_name="Acme Stone", business_phone="+12025550199", total=400_000, paid=0, now=NOW,
        plan_sent=True, milestones=tuple(milestones), events=tuple(events),
    )
    values.update(fields)
    return JobView(**values)


def kitchen_job(**fields) -> JobView:
    events = (event("Measurement"), event("Removal", None), event("Installation", INSTALLATION_AT))
    return job(kitchen_plan(), events, **fields)


# --- Worst cases: every template, long everything ---------------------------------------------

LONG_BUSINESS = "Northern Lights Granite, Quartz & Custom Stone Fabricators LLC"[:60]
LONG_CUSTOMER = "Maximiliana-Josephine Featherstonehaugh-Worthington"
LONG_TITLE = "Complete kitchen remodel with quartz countertops, backsplash & undermount sink 🏠"[:80]
LONG_LINK = "https://payments.paystage.example.com/p/" + "eyJqb2IiOjEyMzQ1Njc4OSwiZXhwIjoxNzk5OTk5OTk5fQ.Zx9" * 2
BIGGEST = 999_999_999  # $9,999,999.99
LABELS = [
    "Deposit to hold dates", "Before measurement visit fee", "Material order and templating",
    "After old counter removal", "Slab cutting and fabrication", "Delivery to the site",
    "Installation day one payment", "Plumbing and sink hookup", "Final walkthrough and sealing",
    "Balance after final inspection",
]
LONG_EVENT = "Final inspection and walkthrough"


def worst_triggers():
    return [
        NOW_,
        Trigger(TriggerKind.BEFORE, event=LONG_EVENT, lead=timedelta(days=3)),
        Trigger(TriggerKind.AFTER, event=LONG_EVENT, net_days=10),
        Trigger(TriggerKind.DATE, on=date(2027, 12, 15)),
    ]


def worst_job(currency="USD", locale="en_US", count=10) -> JobView:
    triggers = worst_triggers()
    milestones = plan(*(
        milestone(LABELS[i], triggers[i % 4], BIGGEST, paid=BIGGEST - 1 if i == 0 else 0,
                  event_at=INSTALLATION_AT, due_at=NOW - timedelta(days=5))
        for i in range(count)
    ))
    return job(
        milestones, (event(LONG_EVENT, INSTALLATION_AT, state="done", done_at=NOW),),
        ref="J-7K2QX9", title=LONG_TITLE, business_name=LONG_BUSINESS, customer_name=LONG_CUSTOMER,
        currency=currency, locale=locale, total=BIGGEST, paid=BIGGEST - 1,
    )


def price_change(j: JobView, credit: int = 0) -> PriceChangeView:
    """The job's price up by 1%, every open milestone with it; with a credit, that much more was paid."""
    new_total = j.total + j.total // 100
    return PriceChangeView(  # the worst job's reason as long as a reason gets, an ordinary job's as one is
        reason="Added: Undermount sink, faucet hole drilling and extra backsplash tiles" if j.title == LONG_TITLE
        else "Added: Undermount sink $350.00",
        old_total=j.total, new_total=new_total, paid=new_total + credit if credit else j.paid,
        changes=tuple(AmountChange(m.label, m.amount, m.amount + m.amount // 100, m.paid) for m in j.milestones),
    )


CHANGE_ORDER = ChangeOrderView(number=12, state="pending", reason="", old_total=BIGGEST - 1, new_total=BIGGEST,
                               sent_at=NOW, expires_at=NOW + timedelta(days=7))
LONG_BECAUSE = "Signed on paper at the site visit with both owners present, copy in the folder " * 3  # 200 and more


def because(j: JobView) -> str:
    """The contractor's reason for applying a price change without approval: as long as it gets for the worst job."""
    return LONG_BECAUSE if j.title == LONG_TITLE else "signed on paper"


TEMPLATES = {
    "consent": lambda j, link: messages.consent(j, rates=True),
    "plan_summary": lambda j, link: messages.plan_summary(j, link),
    "payment_due": lambda j, link: messages.payment_due(j, j.milestones[1], link),
    "payment_due_partly_paid": lambda j, link: messages.payment_due(j, j.milestones[0], link),
    "reminder": lambda j, link: messages.reminder(j, j.milestones[1], link, 3),
    "receipt": lambda j, link: messages.receipt(j, BIGGEST, "bank transfer", link),
    "receipt_credit": lambda j, link: messages.receipt(replace(j, paid=BIGGEST + 50_000), BIGGEST, "card", link),
    "change_order": lambda j, link: messages.change_order(j, price_change(j), CHANGE_ORDER, link),
    "change_order_credit": lambda j, link: messages.change_order(j, price_change(j, credit=j.total // 100),
                                                                 CHANGE_ORDER, link),
    "change_order_replacing": lambda j, link: messages.change_order(j, price_change(j), CHANGE_ORDER, link,
                                                                    replacing=CHANGE_ORDER),
    "change_order_reminder": lambda j, link: messages.change_order_reminder(j, CHANGE_ORDER, link),
    "plan_changed": lambda j, link: messages.plan_changed(j, price_change(j), link, because=because(j)),
    "plan_changed_credit": lambda j, link: messages.plan_changed(j, price_change(j, credit=j.total // 100), link,
                                                                 because=because(j)),
    "credit_owed": lambda j, link: messages.credit_owed(replace(j, paid=BIGGEST, total=BIGGEST - 12_345)),
    "event_moved": lambda j, link: messages.event_moved(j, j.events[0]),
    "bank_transfer_failed": lambda j, link: messages.bank_transfer_failed(j, BIGGEST, link),
    "refunded": lambda j, link: messages.refunded(j, BIGGEST, link),
}
LOCALES = [("USD", "en_US"), ("EUR", "de_DE"), ("GBP", "en_GB"), ("INR", "en_IN")]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("currency, locale", LOCALES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_every_text_is_gsm7_within_three_segments_at_worst_case_lengths(name, currency, locale, language):
    j = replace(worst_job(currency, locale), language=language)
    if name == "event_moved":  # every payment tied before the moved event
        j = replace(j, milestones=tuple(replace(m, trigger=worst_triggers()[1]) for m in j.milestones))
    text = TEMPLATES[name](j, LONG_LINK)
    assert is_gsm7(text), text
    assert segments(text) <= MAX_SEGMENTS, text
    assert text.startswith("Northern Lights")
    if name not in ("credit_owed", "event_moved", "consent"):
        assert LONG_LINK in text


@settings(max_examples=40, deadline=None)
@given(business=st.text(max_size=60), customer=st.text(max_size=60), title=st.text(max_size=80),
       label=st.text(max_size=40))
def test_whatever_people_type_every_text_stays_gsm7_within_three_segments(business, customer, title, label):
    j = worst_job("EUR", "de_DE")
    j = replace(j, business_name=business, customer_name=customer, title=title,
                milestones=tuple(replace(m, label=label) for m in j.milestones))
    for name, template in TEMPLATES.items():
        text = template(j, LONG_LINK)
        assert is_gsm7(text) and segments(text) <= MAX_SEGMENTS, (name, text)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("name", TEMPLATES)
def test_an_ordinary_job_is_never_shortened(name, language):
    j = replace(kitchen_job(), language=language)
    text = TEMPLATES[name](j, LINK)
    assert segments(text) <= MAX_SEGMENTS
    assert "..." not in text and "more" not in text and "mas en el enlace" not in text
    assert "Acme Stone" in text and "Kitchen countertops (J-7K2Q)" in text


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_spanish_reader_gets_every_text_in_spanish_gsm7_with_its_dates_and_amounts(name):
    """Spanish is folded to GSM-7 (á í ó ú → a i o u; é ñ ü ¿ ¡ are GSM-7): UCS-2 would cut a segment from 153
    characters to 67 (docs/design.md, "Languages"). Dates are es_US's; amounts the same figures as en_US's."""
    english = TEMPLATES[name](kitchen_job(), LINK)
    spanish = TEMPLATES[name](replace(kitchen_job(), language="es"), LINK)
    assert spanish != english and is_gsm7(spanish)
    assert not re.search(r"[áíóú]", spanish)
    for amount in re.findall(r"\$[\d,]+\.\d\d", english):
        assert amount in spanish, (amount, spanish)
    assert not re.search(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun),", spanish), spanish


def test_a_long_plan_lists_its_first_milestones_and_counts_the_rest():
    text = messages.plan_summary(worst_job(), LONG_LINK)
    listed = [label for label in LABELS if label[:10] in text]
    assert listed == LABELS[: len(listed)] and listed
    assert f"+{10 - len(listed)} more at the link below." in text
    assert text.count("$9,999,999.99") == len(listed) + 1  # the total and each listed amount


def test_long_names_are_cut_with_an_ellipsis_before_milestones_are_dropped():
    j = job([replace(m, amount=BIGGEST) for m in kitchen_plan()], [event("Measurement")], total=BIGGEST,
            business_name=LONG_BUSINESS, customer_name=LONG_CUSTOMER, title=LONG_TITLE)
    text = messages.plan_summary(j, LONG_LINK)
    assert "more at the link" not in text
    assert text.startswith("Northern Lights...: Hi Maximilia..., your payment plan for Complete kitchen... (J-7K2Q)")
    listed = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(listed) == len(j.milestones) and all("$9,999,999.99" in line for line in listed)


def test_a_long_reason_for_a_price_change_is_cut_with_an_ellipsis():
    j = worst_job()
    text = messages.plan_changed(j, price_change(j), LONG_LINK, because=LONG_BECAUSE)
    assert ": Added: Undermount...\n" in text
    assert "changed from $9,999,999.99 to $10,099,999.98" in text


def test_a_plan_with_no_room_for_any_milestone_points_to_the_link():
    j = worst_job()
    text = messages.plan_summary(j, "https://pay.example.com/p/" + "x" * 250)
    assert "10 payments at the link below." in text


def test_the_link_is_never_cut_even_when_it_cannot_fit():
    absurd = "https://pay.example.com/p/" + "x" * 500
    text = messages.plan_summary(worst_job(), absurd)
    assert absurd in text
    assert "$9,999,999.99" in text


def test_names_from_people_become_gsm7():
    j = kitchen_job(title="Zoë's kitchen 🏠", customer_name="Zoë Łukasz", business_name="Café “Crème” Stone – Co")
    text = messages.plan_summary(j, LINK)
    assert text.startswith('Café "Crème" Stone - Co: Hi Zoe, your payment plan for Zoe\'s kitchen (J-7K2Q)')


def test_a_name_in_another_script_is_romanised_never_a_question_mark():
    text = messages.payment_due(kitchen_job(customer_name="王小明", business_name="王 Stone"), kitchen_plan()[0], LINK)
    assert text.startswith("Wang Stone: Hi WangXiaoMing, ") and "?" not in text


def test_a_name_no_table_can_spell_is_left_out_of_the_sms_not_marked():
    # 𠀂 and 𠀄 (CJK extension B) have no romanisation in anyascii: the greeting goes without the name.
    text = messages.payment_due(kitchen_job(customer_name="𠀂𠀄", business_name="𠀂 Stone"), kitchen_plan()[0], LINK)
    assert text.startswith("Stone: Hi, $1,000.00 is now due") and "?" not in text


def test_an_event_in_cyrillic_is_transliterated_in_the_sms():
    removal = milestone("Removal", Trigger(TriggerKind.AFTER, event="Монтаж"), 100_000)
    j = job(plan(milestone(), removal), (event("Монтаж", None),))
    text = messages.plan_summary(j, LINK)
    assert "after Montazh" in text and "?" not in text and is_gsm7(text)
    assert trigger_words(j.milestones[1], j) == "after Монтаж"  # the bot and the page: as typed


def test_a_name_of_emoji_alone_is_left_out_of_an_sms_not_left_blank():
    text = messages.payment_due(kitchen_job(business_name="🏠", title="🏠"), kitchen_plan()[0], LINK)
    assert text.startswith("Your contractor: Hi Dana, $1,000.00 is now due for job J-7K2Q")


# --- plan_summary ----------------------------------------------------------------------------


def test_plan_summary_lists_each_milestone_with_its_amount_and_trigger():
    text = messages.plan_summary(kitchen_job(), LINK)
    assert text.splitlines() == [
        "Acme Stone: Hi Dana, your payment plan for Kitchen countertops (J-7K2Q), total $4,000.00:",
        "- Measurement deposit: $1,000.00 before Measurement (Tue, Dec 1)",
        "- $1,000.00 after Removal",
        "- $2,000.00 after Installation (Tue, Dec 8)",
        f"See it and pay: {LINK}",
        "Reply BAL, NEXT, PLAN or HELP.",
    ]


def test_plan_summary_leaves_out_a_label_that_only_repeats_the_trigger():
    milestones = plan(milestone("Before Measurement", BEFORE_MEASUREMENT, 100_000, event_at=MEASUREMENT_AT),
                      milestone("After Installation", AFTER_INSTALLATION, 300_000))
    lines = messages.plan_summary(job(milestones), LINK).splitlines()
    assert "- $1,000.00 before Measurement (Tue, Dec 1)" in lines
    assert "- $3,000.00 after Installation" in lines


def test_plan_summary_marks_paid_milestones():
    milestones = plan(milestone("Deposit", NOW_, 50_000, paid=50_000), milestone("Rest", ON_DEC_15, 350_000))
    text = messages.plan_summary(job(milestones), LINK)
    assert "- Deposit: $500.00 up front - paid" in text
    assert "- Rest: $3,500.00 on Tue, Dec 15" in text


# --- describe_trigger and dates ----------------------------------------------------------------


@pytest.mark.parametrize(
    "trigger, words",
    [
        (NOW_, "up front"),
        (BEFORE_MEASUREMENT, "before Measurement (Tue, Dec 1)"),
        (Trigger(TriggerKind.BEFORE, event="Measurement", lead=timedelta(days=3)),
         "3 days before Measurement (Tue, Dec 1)"),
        (Trigger(TriggerKind.BEFORE, event="Measurement", lead=timedelta(hours=2)),
         "2 hours before Measurement (Tue, Dec 1)"),
        (AFTER_INSTALLATION, "after Installation"),
        (Trigger(TriggerKind.AFTER, event="Installation", net_days=1), "1 day after Installation"),
        (Trigger(TriggerKind.AFTER, event="Installation", net_days=10), "10 days after Installation"),
        (ON_DEC_15, "on Tue, Dec 15"),
        (Trigger(TriggerKind.DATE, on=date(2027, 1, 15)), "on Fri, Jan 15, 2027"),
    ],
)
def test_describe_trigger_says_what_a_payment_is_tied_to(trigger, words):
    m = milestone(trigger=trigger)
    assert trigger_words(m, job(events=[event("Measurement")])) == words


def test_describe_trigger_leaves_out_the_date_of_an_unscheduled_event():
    m = milestone(trigger=BEFORE_MEASUREMENT)
    assert trigger_words(m, job(events=[event("Measurement", None)])) == "before Measurement"


def test_format_when_is_short_in_the_customers_timezone():
    assert messages.format_when(MEASUREMENT_AT, job()) == "Tue, Dec 1, 9:00 AM"


def test_an_event_at_01_30_utc_is_the_previous_evening_in_los_angeles():
    j = job(timezone="America/Los_Angeles")
    late = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
    assert messages.format_when(late, j) == "Tue, Dec 1, 5:30 PM"
    m = milestone(trigger=BEFORE_MEASUREMENT, event_at=late)
    assert trigger_words(m, j) == "before Measurement (Tue, Dec 1)"


def test_format_when_follows_the_jobs_locale():
    berlin = job(locale="de_DE", timezone="Europe/Berlin")
    assert messages.format_when(MEASUREMENT_AT, berlin) == "Di., 1. Dez., 15:00"


def test_format_when_names_the_year_only_when_it_is_not_this_year():
    assert messages.format_when(datetime(2027, 1, 5, 14, tzinfo=UTC), job()) == "Tue, Jan 5, 2027, 9:00 AM"


def test_a_day_without_a_time_of_day_is_shown_as_the_day_alone():
    start = datetime(2026, 12, 1, 5, tzinfo=UTC)  # 00:00 in New York, where a date-only event is stored
    assert messages.format_when(start, job(), date_only=True) == "Tue, Dec 1"
    assert messages.format_when(start, job()) == "Tue, Dec 1, 12:00 AM"  # what the page showed for "Dec 1"


def test_a_payment_falls_due_on_a_day_when_it_is_whole_days_before_a_date_only_event_or_on_a_date():
    start = datetime(2026, 12, 8, 5, tzinfo=UTC)  # Installation on Dec 8, no time of day
    days = Trigger(TriggerKind.BEFORE, event="Installation", lead=timedelta(days=2))
    hours = Trigger(TriggerKind.BEFORE, event="Installation", lead=timedelta(hours=3))
    j = job(events=[replace(event("Installation", start), date_only=True)])
    assert due_when(milestone(trigger=days, due_at=start - timedelta(days=2)), j) == "Sun, Dec 6"
    assert due_when(milestone(trigger=hours, due_at=start - timedelta(hours=3)), j) == "Mon, Dec 7, 9:00 PM"
    assert due_when(milestone(trigger=ON_DEC_15, due_at=datetime(2026, 12, 15, 5, tzinfo=UTC)), j) == "Tue, Dec 15"
    timed = job(events=[event("Installation", start)])  # typed as "Dec 8 12am": a time was given
    assert due_when(milestone(trigger=days, due_at=start - timedelta(days=2)), timed) == "Sun, Dec 6, 12:00 AM"


@pytest.mark.parametrize("business_phone, customer_phone, shown", [
    ("+14155550100", "+12025550143", "(415) 555-0100"),  # the customer's own country: as dialled at home
    ("+442079460958", "+447700900123", "020 7946 0958"),
    ("+442079460958", "+12025550143", "+44 20 7946 0958"),  # another country: with its code
    ("+14155550100", "", "+1 415-555-0100"),
    ("call the office", "+12025550143", "call the office"),  # not a number: as the contractor wrote it
])
def test_format_phone_writes_the_contractors_number_as_the_customer_dials_it(business_phone, customer_phone, shown):
    assert format_phone(business_phone, job(customer_phone=customer_phone)) == shown


# --- payment_due -----------------------------------------------------------------------------


def test_payment_due_starts_with_the_business_and_says_the_event_is_coming_up():
    j = kitchen_job()
    text = messages.payment_due(j, j.milestones[0], LINK)
    assert text == (
        "Acme Stone: Hi Dana, $1,000.00 is now due for Kitchen countertops (J-7K2Q): Measurement deposit. "
        f"Measurement is coming up on Tue, Dec 1.\nPay here: {LINK}\nThank you!"
    )


def test_payment_due_after_an_event_says_it_is_done():
    j = kitchen_job()
    text = messages.payment_due(j, j.milestones[2], LINK)
    assert "$2,000.00 is now due" in text and "Installation is done." in text


def test_due_texts_do_not_repeat_a_label_that_only_restates_the_trigger():
    m = milestone("After Removal", AFTER_REMOVAL, 100_000)
    j = job(plan(m))
    due = messages.payment_due(j, m, LINK)
    assert "(J-7K2Q). Removal is done." in due and "After Removal" not in due
    assert "is still open.\n" in messages.reminder(j, m, LINK, 1)


def test_payment_due_with_net_days_says_when_the_event_was_done():
    m = milestone("Final", Trigger(TriggerKind.AFTER, event="Installation", net_days=7), 200_000)
    j = job([m], [event("Installation", INSTALLATION_AT, "done", done_at=datetime(2026, 12, 9, 2, tzinfo=UTC))])
    assert "Installation was done on Tue, Dec 8." in messages.payment_due(j, m, LINK)


def test_payment_due_up_front_is_the_deposit():
    m = milestone("Deposit", NOW_, 50_000)
    assert "$500.00 is now due" in messages.payment_due(job([m]), m, LINK)
    assert "deposit" in messages.payment_due(job([m]), m, LINK)


def test_payment_due_on_a_date_says_the_date():
    m = milestone("Final", ON_DEC_15, 50_000)
    assert "It was agreed for Tue, Dec 15." in messages.payment_due(job([m]), m, LINK)


def test_payment_due_asks_only_for_what_is_left_of_a_partly_paid_milestone():
    m = milestone("Deposit", NOW_, 100_000, paid=40_000)
    text = messages.payment_due(job([m]), m, LINK)
    assert "$600.00 is now due" in text and "Deposit ($400.00 already paid)" in text


# --- reminder --------------------------------------------------------------------------------


@pytest.mark.parametrize("number, words", [(1, "a friendly reminder"), (2, "a second friendly reminder"),
                                           (3, "a third reminder"), (9, "another reminder")])
def test_reminder_counts_up_gently(number, words):
    j = kitchen_job()
    text = messages.reminder(j, j.milestones[0], LINK, number)
    assert f"Hi Dana, {words} that $1,000.00 for Kitchen countertops (J-7K2Q) was due Mon, Nov 30" in text
    assert LINK in text


# --- receipt ---------------------------------------------------------------------------------


def test_receipt_says_what_was_paid_what_remains_and_what_is_next():
    milestones = plan(
        milestone("Measurement deposit", BEFORE_MEASUREMENT, 100_000, paid=100_000, event_at=MEASUREMENT_AT),
        milestone("Removal", AFTER_REMOVAL, 100_000),
        milestone("Installation", AFTER_INSTALLATION, 200_000),
    )
    text = messages.receipt(job(milestones, paid=100_000), 100_000, "card", LINK)
    assert text.splitlines() == [
        "Acme Stone: Thank you, Dana! We received $1,000.00 (card) for Kitchen countertops (J-7K2Q).",
        "Paid so far: $1,000.00 of $4,000.00. Remaining: $3,000.00.",
        "Next: $1,000.00 after Removal.",
        f"Details: {LINK}",
    ]


def test_receipt_names_a_payment_already_due_as_due_now():
    m = milestone("Removal", AFTER_REMOVAL, 100_000, paid=40_000, due_at=NOW - timedelta(days=1))
    text = messages.receipt(job([m], total=100_000, paid=40_000), 40_000, "cash", LINK)
    assert "Now due: Removal, $600.00." in text


def test_receipt_for_the_last_payment_says_paid_in_full():
    m = milestone("All", NOW_, 400_000, paid=400_000)
    text = messages.receipt(job([m], paid=400_000), 400_000, "check", LINK)
    assert "Paid so far: $4,000.00 - the job is paid in full." in text
    assert "Next" not in text and "Remaining" not in text


def test_receipt_for_an_overpayment_mentions_the_credit():
    text = messages.receipt(job(total=180_000, paid=200_000), 100_000, "card", LINK)
    assert "Your credit: $200.00" in text


# --- plan_changed ------------------------------------------------------------------------------


def test_a_change_order_shows_old_and_new_amounts_of_open_milestones_and_asks_yes_or_no():
    # docs/design.md, "Recalculation": price 4,000.00 → 4,850.00 after the first milestone was paid.
    change = PriceChangeView(
        reason="Added: Undermount sink $350.00", old_total=400_000, new_total=485_000, paid=100_000,
        changes=(AmountChange("Measurement deposit", 100_000, 100_000, 100_000),
                 AmountChange("Removal", 100_000, 128_333, 0),
                 AmountChange("Installation", 200_000, 256_667, 0)),
    )
    order = ChangeOrderView(number=1, state="pending", reason=change.reason, old_total=400_000, new_total=485_000,
                            sent_at=NOW, expires_at=NOW + timedelta(days=7))
    text = messages.change_order(kitchen_job(total=400_000, paid=100_000), change, order, LINK)
    assert text.splitlines() == [
        "Acme Stone: Hi Dana, please approve a new price for Kitchen countertops (J-7K2Q), from $4,000.00 to "
        "$4,850.00: Added: Undermount sink $350.00.",
        "Already paid: $1,000.00.",
        "Your payments would be:",
        "- Removal: $1,000.00 -> $1,283.33",
        "- Installation: $2,000.00 -> $2,566.67",
        f"Reply YES to approve or NO to decline. Details: {LINK}",
    ]


def test_a_price_change_applied_without_approval_says_the_reason_given():
    change = PriceChangeView(reason="", old_total=400_000, new_total=485_000, paid=0,
                             changes=(AmountChange("Deposit", 400_000, 485_000, 0),))
    text = messages.plan_changed(kitchen_job(total=485_000), change, LINK, because="signed on paper")
    assert text.splitlines()[0] == ("Acme Stone: Hi Dana, the price for Kitchen countertops (J-7K2Q) changed from "
                                    "$4,000.00 to $4,850.00.")
    assert text.splitlines()[-2:] == ["Applied without your reply because: signed on paper.", f"Details: {LINK}"]


def test_plan_changed_marks_a_partly_paid_milestone_that_is_now_complete():
    change = PriceChangeView(
        reason="New total", old_total=400_000, new_total=200_000, paid=90_000,
        changes=(AmountChange("Deposit", 100_000, 90_000, 90_000), AmountChange("Rest", 300_000, 110_000, 0)),
    )
    text = messages.plan_changed(job(total=200_000, paid=90_000), change, LINK, because="agreed")
    assert "- Deposit: $1,000.00 -> $900.00 (paid)" in text
    assert "- Rest: $3,000.00 -> $1,100.00" in text


def test_plan_changed_mentions_the_credit_when_more_was_paid():
    change = PriceChangeView(
        reason="New total", old_total=400_000, new_total=180_000, paid=200_000,
        changes=(AmountChange("Installation", 200_000, 0, 0),),
    )
    assert change.credit == 20_000  # paid beyond the new total, as a job's view says it
    text = messages.plan_changed(job(total=180_000, paid=200_000), change, LINK, because="agreed")
    assert "- Installation: $2,000.00 -> $0.00" in text
    assert "Your credit: $200.00; we will be in touch to settle it." in text


def test_plan_changed_in_euros_uses_the_locales_format_with_plain_spaces():
    change = PriceChangeView(reason="Neuer Preis", old_total=400_000, new_total=485_000, paid=0,
                             changes=(AmountChange("Anzahlung", 100_000, 121_250, 0),))
    text = messages.plan_changed(job(currency="EUR", locale="de_DE"), change, LINK, because="agreed")
    assert "- Anzahlung: 1.000,00 € -> 1.212,50 €" in text
    assert "\u00a0" not in text and is_gsm7(text)


# --- credit_owed and event_moved ---------------------------------------------------------------


def test_credit_owed_says_how_much_and_that_the_contractor_will_settle_it():
    text = messages.credit_owed(job(total=180_000, paid=200_000))
    assert "is now $1,800.00 and you have paid $2,000.00. Your credit: $200.00" in text
    assert "we will be in touch to settle it." in text
    assert text.startswith("Acme Stone: ")


def test_event_moved_gives_the_new_date_and_the_new_due_date_of_the_payment_before_it():
    moved_to = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    milestones = plan(
        milestone("Measurement deposit", BEFORE_MEASUREMENT, 100_000, event_at=moved_to,
                  due_at=moved_to - timedelta(hours=24)),
        milestone("Installation", AFTER_INSTALLATION, 300_000),
    )
    j = job(milestones, [event("Measurement", moved_to)])
    assert messages.event_moved(j, j.events[0]).splitlines() == [
        "Acme Stone: Hi Dana, Measurement for Kitchen countertops (J-7K2Q) has moved to Thu, Dec 3, 9:00 AM.",
        "New due date for the payment before it:",
        "- Measurement deposit: $1,000.00, due Wed, Dec 2",
        "Questions? Just reply to this text.",
    ]


def test_event_moved_without_a_payment_before_it_only_gives_the_date():
    j = kitchen_job()
    text = messages.event_moved(j, j.events[2])
    assert "Installation for Kitchen countertops (J-7K2Q) has moved to Tue, Dec 8, 10:00 AM." in text
    assert "due" not in text


def test_event_moved_in_los_angeles_shows_the_local_day():
    late = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
    m = milestone("Deposit", BEFORE_MEASUREMENT, 100_000, event_at=late, due_at=late - timedelta(hours=24))
    j = job([m], [event("Measurement", late)], timezone="America/Los_Angeles")
    text = messages.event_moved(j, j.events[0])
    assert "has moved to Tue, Dec 1, 5:30 PM." in text
    assert "due Mon, Nov 30" in text


def test_event_moved_to_a_day_gives_the_day_alone():
    start = datetime(2026, 12, 3, 5, tzinfo=UTC)
    m = milestone("Deposit", BEFORE_MEASUREMENT, 100_000, event_at=start, due_at=start - timedelta(hours=24))
    j = job([m], [replace(event("Measurement", start), date_only=True)])
    text = messages.event_moved(j, j.events[0])
    assert "has moved to Thu, Dec 3.\n" in text and "AM" not in text
    assert "due Wed, Dec 2" in text


# --- money in other currencies -----------------------------------------------------------------


def test_euro_amounts_read_as_in_germany_with_a_plain_space():
    m = milestone("Anzahlung", NOW_, 121_250)
    text = messages.payment_due(job([m], currency="EUR", locale="de_DE"), m, LINK)
    assert "1.212,50 € is now due" in text


def test_a_160_character_text_in_euros_takes_two_segments_as_the_euro_costs_two_septets():
    m = milestone("Anzahlung", NOW_, 121_250)
    short = job([m], currency="EUR", locale="de_DE", business_name="B", customer_name="", title="K")
    text = messages.payment_due(short, m, "https://x.example/p")
    padded = replace(short, business_name="B" * (1 + 160 - len(text)))
    text = messages.payment_due(padded, m, "https://x.example/p")
    assert len(text) == 160 and text.count("€") == 1
    assert segments(text) == 2


def test_a_currency_symbol_gsm7_lacks_becomes_its_code():
    m = milestone("Deposit", NOW_, 1_000_000)
    text = messages.payment_due(job([m], currency="INR", locale="en_IN"), m, LINK)
    assert "INR 10,000.00 is now due" in text


# --- Names in any script: transliterated in the SMS, never "?" ---------------------------------

# Letters from scripts GSM-7 cannot spell, and ones it half can: what a contractor's phone may type.
SCRIPTS = {
    "cyrillic": "Монтаж Иван Ёлкина",
    "han": "王小明李龍陳美玲張偉",
    "vietnamese": "Đặng Nguyễn Thị Hương",
    "greek": "Σοφία Παπαδοπούλου",
    "arabic": "محمد عبد الله",
    "devanagari": "प्रिया शर्मा",
    "hangul": "김민준 이서연",
    "rare han": "𠀂𠀄𠀆 王",
    "latin": "Zoë Łukasz “Crème” – Ñandú ¿¡ £€",
    "emoji": "🏠🔨👍🏽✅ ",
}
script_names = st.one_of(*(st.text(alphabet=letters, max_size=80) for letters in SCRIPTS.values()),
                         st.text(alphabet="".join(SCRIPTS.values()), max_size=80))


def made_up_question_marks(text: str) -> int:
    """The '?' in a text that no template wrote ("Questions?", "for?"): a name someone could not spell."""
    return re.sub(r"\b(Questions|question|for|about)\?", "", text).count("?")


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("name", TEMPLATES)
def test_every_text_spells_the_longest_names_of_any_script_in_gsm7_within_three_segments(name, script):
    letters = SCRIPTS[script].replace(" ", "")
    j = worst_job("EUR", "de_DE")
    j = replace(j, business_name=(letters * 60)[:60], customer_name=(letters * 50)[:50], title=(letters * 80)[:80],
                milestones=tuple(replace(m, label=(letters * 40)[:40]) for m in j.milestones))
    text = TEMPLATES[name](j, LONG_LINK)
    assert is_gsm7(text) and segments(text) <= MAX_SEGMENTS, text
    assert made_up_question_marks(text) == 0, text


@settings(max_examples=60, deadline=None)
@given(business=script_names, customer=script_names, title=script_names, label=script_names)
def test_names_from_any_script_reach_every_text_in_gsm7_without_a_question_mark(business, customer, title, label):
    j = worst_job("USD", "en_US")
    j = replace(j, business_name=business[:60], customer_name=customer[:50], title=title,
                milestones=tuple(replace(m, label=label[:40]) for m in j.milestones))
    for name, template in TEMPLATES.items():
        text = template(j, LONG_LINK)
        assert is_gsm7(text) and segments(text) <= MAX_SEGMENTS, (name, text)
        assert made_up_question_marks(text) == 0, (name, text)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_consent_text_says_who_writes_what_for_and_how_to_stop_and_get_help(language):
    j = replace(kitchen_job(), language=language)
    us, elsewhere = messages.consent(j, rates=True), messages.consent(j, rates=False)
    assert us.startswith("Acme Stone:") and "Kitchen countertops (J-7K2Q)" in us
    assert "STOP" in us and "HELP" in us if language == "en" else "STOP" in us and "AYUDA" in us
    assert us.startswith(elsewhere) and len(us) > len(elsewhere)  # the rates sentence, for a US phone only
