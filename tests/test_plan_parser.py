from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.money import WHOLE, format_percent
from core.plan import DEFAULT_LEAD, MilestoneTerms, Trigger, TriggerKind, check_percentages
from core.plan_parser import parse_plan

EVENTS = ["Measurement", "Removal", "Installation", "Final walkthrough", "Demolition"]
TODAY = date(2026, 11, 25)
NOW = Trigger(TriggerKind.NOW)


def plan(sentence, events=EVENTS, currency="USD", locale="en_US", today=TODAY):
    return parse_plan(sentence, events, currency=currency, locale=locale, today=today)


def refusal(sentence, **job):
    with pytest.raises(InvalidInput) as error:
        plan(sentence, **job)
    return str(error.value)


def before(event, lead=DEFAULT_LEAD):
    return Trigger(TriggerKind.BEFORE, event=event, lead=lead)


def after(event, net_days=0):
    return Trigger(TriggerKind.AFTER, event=event, net_days=net_days)


def on(day):
    return Trigger(TriggerKind.DATE, on=day)


# --- the sentences of the brief ---------------------------------------------------------------


def test_percentages_tied_to_events():
    assert plan("25% before measurement, 25% after removal, 50% after installation") == [
        MilestoneTerms("Before Measurement", before("Measurement"), percent=2500),
        MilestoneTerms("After Removal", after("Removal"), percent=2500),
        MilestoneTerms("After Installation", after("Installation"), percent=5000),
    ]


def test_fixed_deposit_lead_time_and_rest():
    assert plan("$500 deposit now, 40% 3 days before install, rest after final walkthrough") == [
        MilestoneTerms("Deposit", NOW, fixed=50000),
        MilestoneTerms("3 days before Installation", before("Installation", timedelta(days=3)), percent=4000),
        MilestoneTerms("After Final walkthrough", after("Final walkthrough"), percent=6000),
    ]


def test_half_now_half_after_install():
    assert plan("half now, half after install") == [
        MilestoneTerms("Deposit", NOW, percent=5000),
        MilestoneTerms("After Installation", after("Installation"), percent=5000),
    ]


@pytest.mark.parametrize(
    "sentence, percents",
    [
        ("a quarter now, three quarters after install", [2500, 7500]),
        ("one half now, quarter before install, a quarter after install", [5000, 2500, 2500]),
        ("25 percent now, rest after install", [2500, 7500]),
        ("33.33% now, 33.33% before install, 33.34% after install", [3333, 3333, 3334]),
        ("12.5% now, 87.5% after install", [1250, 8750]),
    ],
)
def test_percentages_in_words_and_decimals(sentence, percents):
    assert [terms.percent for terms in plan(sentence)] == percents


@pytest.mark.parametrize("third", ["a third now, rest after install", "two thirds now, rest after install"])
def test_a_third_is_not_exact_and_is_refused(third):
    message = refusal(third)
    assert "33.33%" in message and "33.34%" in message


# --- clauses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "25% now, 75% after install",
        "25% now; 75% after install",
        "25% now\n75% after install",
        "25% now and 75% after install",
        "25% now then 75% after install",
        "25% now, and then 75% after install",
        "25% NOW, 75% AFTER INSTALL.",
        "  25% now ,, 75% after install , ",
    ],
)
def test_clause_separators_and_case(sentence):
    assert plan(sentence) == [
        MilestoneTerms("Deposit", NOW, percent=2500),
        MilestoneTerms("After Installation", after("Installation"), percent=7500),
    ]


def test_and_inside_an_event_name_does_not_split_the_clause():
    terms = plan("25% after cut and polish and rest after removal", events=["Cut and polish", "Removal"])
    assert [t.trigger for t in terms] == [after("Cut and polish"), after("Removal")]


def test_amount_and_trigger_come_in_either_order():
    assert plan("before measure 25%, after install rest") == plan("25% before measure, rest after install")


# --- triggers --------------------------------------------------------------------------------


@pytest.mark.parametrize("words", ["now", "upfront", "up front", "up-front", "on acceptance", "on signing"])
def test_words_for_due_when_the_plan_is_sent(words):
    assert plan(f"10% {words}, rest after install")[0] == MilestoneTerms("Deposit", NOW, percent=1000)


@pytest.mark.parametrize("deposit", ["$500 deposit", "deposit of $500", "Down payment $500", "$500 retainer"])
def test_a_deposit_without_a_trigger_is_due_now(deposit):
    assert plan(f"{deposit}, rest after install")[0].trigger == NOW


@pytest.mark.parametrize(
    "words, lead, label",
    [
        ("before install", DEFAULT_LEAD, "Before Installation"),
        ("1 day before install", DEFAULT_LEAD, "Before Installation"),
        ("the day before install", DEFAULT_LEAD, "Before Installation"),
        ("3 days before install", timedelta(days=3), "3 days before Installation"),
        ("2d before install", timedelta(days=2), "2 days before Installation"),
        ("48 hours before install", timedelta(hours=48), "2 days before Installation"),
        ("6 hours before install", timedelta(hours=6), "6 hours before Installation"),
        ("1 hour before install", timedelta(hours=1), "1 hour before Installation"),
        ("a week before install", timedelta(weeks=1), "7 days before Installation"),
        ("2 weeks before install", timedelta(weeks=2), "14 days before Installation"),
    ],
)
def test_before_an_event_with_its_lead(words, lead, label):
    assert plan(f"25% {words}, rest now")[0] == MilestoneTerms(label, before("Installation", lead), percent=2500)


@pytest.mark.parametrize(
    "words, net_days, label",
    [
        ("after install", 0, "After Installation"),
        ("10 days after install", 10, "10 days after Installation"),
        ("1 day after install", 1, "1 day after Installation"),
        ("2 weeks after install", 14, "14 days after Installation"),
        ("after install net 30", 30, "30 days after Installation"),
        ("after install net 30 days", 30, "30 days after Installation"),
        ("net 30 after install", 30, "30 days after Installation"),
        ("net 30 days after install", 30, "30 days after Installation"),
    ],
)
def test_after_an_event_with_its_net_days(words, net_days, label):
    assert plan(f"25% {words}, rest now")[0] == MilestoneTerms(label, after("Installation", net_days), percent=2500)


@pytest.mark.parametrize(
    "words",
    ["on 2026-12-15", "by 2026-12-15", "on Dec 15", "on December 15", "on December 15th", "on 15 Dec",
     "on the 15th of December", "on 12/15", "on 12/15/2026", "on 12/15/26", "on Dec 15 2026", "on Dec 15, 2026"],
)
def test_dates_in_a_us_locale(words):
    assert plan(f"25% {words}, rest now")[0] == MilestoneTerms("On Dec 15", on(date(2026, 12, 15)), percent=2500)


def test_a_numeric_date_is_day_first_outside_the_us():
    first = plan("25% on 1/12, rest now", currency="GBP", locale="en_GB")[0]
    assert first.trigger == on(date(2026, 12, 1))


def test_a_locale_without_territory_reads_like_its_likeliest_one():
    assert plan("25% on 1/12, rest now", locale="en")[0].trigger == on(date(2027, 1, 12))


@pytest.mark.parametrize(
    "words, day",
    [("on Nov 25", date(2026, 11, 25)), ("on Nov 24", date(2027, 11, 24)), ("on Jan 3", date(2027, 1, 3)),
     ("on Feb 29", date(2028, 2, 29))],
)
def test_a_date_without_year_is_the_next_one_from_today_on(words, day):
    assert plan(f"25% {words}, rest now")[0].trigger == on(day)


def test_a_date_in_the_past_is_refused():
    message = refusal("25% on 2026-11-24, rest now")
    assert "'25% on 2026-11-24'" in message and "in the past" in message


@pytest.mark.parametrize("bad", ["on 13/45", "on Dec 45", "on 2026-02-30"])
def test_a_date_that_does_not_exist_is_refused(bad):
    assert "is not a date" in refusal(f"25% {bad}, rest now")


def test_events_are_stored_in_the_jobs_spelling():
    terms = plan("25% before MEASURING, 25% after remove, rest after final walk")
    assert [t.trigger.event for t in terms] == ["Measurement", "Removal", "Final walkthrough"]


# --- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["$500", "500 dollars", "$500.00", "500$", "USD 500", "500 usd"])
def test_fixed_amounts_in_the_jobs_currency(amount):
    assert plan(f"{amount} now, rest after install")[0].fixed == 50000


def test_amounts_are_read_in_the_jobs_locale():
    assert plan("$1,500.50 now, rest after install")[0].fixed == 150050
    german = plan("€1.000,50 now, 33,5% on 1/12, rest after install", currency="EUR", locale="de_DE")
    assert [(t.fixed, t.percent) for t in german] == [(100050, None), (None, 3350), (None, 6650)]
    assert german[1].trigger == on(date(2026, 12, 1))


def test_an_amount_in_another_currency_is_refused():
    message = refusal("€500 now, rest after install")
    assert "in USD" in message and "€500" in message


@pytest.mark.parametrize("locale", ["en_US", "ja_JP"])
@pytest.mark.parametrize("deposit", ["¥50,000", "￥50,000", "50000 JPY", "JPY 50000", "50,000 yen"])
def test_a_yen_job_takes_a_fixed_deposit(deposit, locale):
    assert plan(f"{deposit} now, rest after installation", currency="JPY", locale=locale) == [
        MilestoneTerms("Deposit", NOW, fixed=50_000),  # a yen has no minor units
        MilestoneTerms("After Installation", after("Installation"), percent=WHOLE),
    ]


@pytest.mark.parametrize(
    "sentence, currency, locale, fixed",
    [
        ("KWD 500.250 now, rest after install", "KWD", "en_US", 500_250),  # three decimals: fils
        ("500.250 kwd deposit, rest after install", "KWD", "ar_KW", 500_250),
        ("BHD 1,200.5 now, rest after install", "BHD", "en_US", 1_200_500),
        ("1200.125 BHD now, rest after install", "BHD", "ar_BH", 1_200_125),
        ("1.000,50 € now, rest after install", "EUR", "de_DE", 100_050),
        ("1 000,50 € now, rest after install", "EUR", "fr_FR", 100_050),  # fr_FR groups with a space
        ("1000 EUR now, rest after install", "EUR", "de_DE", 100_000),
        ("£500 now, rest after install", "GBP", "en_GB", 50_000),
        ("CHF 1'000 now, rest after install", "CHF", "de_CH", 100_000),
        ("500 kr now, rest after install", "SEK", "sv_SE", 50_000),
        ("$500 now, rest after install", "CAD", "en_US", 50_000),  # the narrow $ of CA$
        ("CA$500 now, rest after install", "CAD", "en_US", 50_000),
        ("500 dollars now, rest after install", "CAD", "en_CA", 50_000),
    ],
)
def test_fixed_amounts_in_every_currency_and_locale(sentence, currency, locale, fixed):
    assert plan(sentence, currency=currency, locale=locale)[0].fixed == fixed


def test_fixed_amounts_in_yen_split_a_plan_on_and_and_then():
    terms = plan("¥50,000 now and ¥20,000 before install then rest after install", currency="JPY", locale="ja_JP")
    assert [(t.fixed, t.percent) for t in terms] == [(50_000, None), (20_000, None), (None, WHOLE)]


@pytest.mark.parametrize(
    "sentence, currency, locale, says, example",
    [
        ("€100 now, rest after install", "USD", "en_US", "'€100' is not in USD (US dollars)", "$4,850.00"),
        ("100 EUR now, rest after install", "USD", "en_US", "'100 eur' is not in USD (US dollars)", "$4,850.00"),
        ("100 euros now, rest after install", "USD", "en_US", "'100 euros' is not in USD", "$4,850.00"),
        ("CA$100 now, rest after install", "USD", "en_US", "'ca$100' is not in USD", "$4,850.00"),
        ("¥50,000 now, rest after install", "USD", "en_US", "'¥50,000' is not in USD", "$4,850.00"),
        ("$500 now, rest after install", "JPY", "ja_JP", "'$500' is not in JPY (Japanese yen)", "￥4,850"),
        ("500 USD now, rest after install", "KWD", "en_US", "is not in KWD (Kuwaiti dinars)", "KWD4,850.000"),
        ("50000 yen now, rest after install", "CNY", "zh_CN", "is not in CNY (Chinese yuan)", "¥4,850.00"),
        ("£500 now, rest after install", "EUR", "de_DE", "'£500' is not in EUR (euros)", "4.850,00 €"),
    ],
)
def test_another_currency_is_refused_saying_the_jobs_and_how_to_write_it(sentence, currency, locale, says, example):
    message = refusal(sentence, currency=currency, locale=locale)
    assert says in message and "the currency of this job" in message and f"Write it like {example}." in message


@pytest.mark.parametrize(
    "sentence, currency, says",
    [
        ("KWD 500.2500 now, rest after install", "KWD", "500.2500 has more decimals than KWD allows (KWD has 3"),
        ("BHD 10.0001 now, rest after install", "BHD", "more decimals than BHD allows"),
        ("¥50,000.5 now, rest after install", "JPY", "more decimals than JPY allows (JPY has no decimals)"),
        ("¥50,000.00 now, rest after install", "JPY", "more decimals than JPY allows"),
        ("$500.000 now, rest after install", "USD", "more decimals than USD allows"),  # or 500 thousand?
    ],
)
def test_more_decimals_than_the_currency_has_are_refused(sentence, currency, says):
    assert says in refusal(sentence, currency=currency)


@pytest.mark.parametrize("currency, locale, example", [("JPY", "ja_JP", "￥500"), ("EUR", "de_DE", "500,00 €")])
def test_a_clause_without_an_amount_shows_one_in_the_jobs_currency(currency, locale, example):
    assert f"Write it like 25%, {example}, half or rest" in refusal("25% now, before install", currency=currency,
                                                                   locale=locale)


def test_a_word_that_is_also_a_currency_code_before_a_percentage_is_a_word():
    assert "I did not understand 'all'" in refusal("all 25% now, rest after install")


@pytest.mark.parametrize(
    "sentence, problem",
    [
        ("33.333% now, rest after install", "'33.333%' is not a percentage"),
        ("120% now", "at most 100%"),
        ("$1.000,50 now, rest after install", "is not an amount of money"),
        ("$0 now, rest after install", "more than zero"),
    ],
)
def test_bad_numbers_get_the_money_modules_message(sentence, problem):
    assert problem in refusal(sentence)


@pytest.mark.parametrize("rest", ["rest", "the rest", "remainder", "the remainder", "balance", "remaining",
                                  "the remaining balance"])
def test_rest_takes_what_the_percentages_leave(rest):
    assert plan(f"$500 now, 30% before install, {rest} after install")[2].percent == 7000


def test_rest_alone_is_the_whole_plan():
    assert plan("rest after install") == [MilestoneTerms("After Installation", after("Installation"), percent=WHOLE)]


# --- labels ----------------------------------------------------------------------------------


def test_labels_the_clause_names():
    terms = plan("Down payment 20%, 30% deposit before install, final payment rest after installation")
    assert [t.label for t in terms] == ["Down payment", "Deposit", "Final payment"]
    assert terms[1].trigger == before("Installation")


def test_labels_from_the_trigger():
    terms = plan("10% upfront, 10% before demo, 10% on 2026-12-15, rest after install")
    assert [t.label for t in terms] == ["Deposit", "Before Demolition", "On Dec 15", "After Installation"]


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("sentence", ["", "   ", " , ;\n"])
def test_an_empty_plan_is_refused(sentence):
    assert "empty" in refusal(sentence)


def test_a_clause_without_an_amount_is_refused():
    message = refusal("25% now, before install")
    assert "'before install'" in message and "no amount" in message and "Example:" in message


def test_a_bare_number_is_not_taken_for_money():
    assert "'500 now'" in refusal("500 now, rest after install")


def test_an_amount_without_a_trigger_asks_when_it_is_due():
    message = refusal("25% now, 25%, rest after install")
    assert "When is the 25% due? Say now, before EVENT, after EVENT or on DATE." in message
    assert "In '25%'" in message


def test_an_unknown_trigger_asks_when_the_rest_is_due():
    assert "When is the rest due?" in refusal("25% now, rest on install")


def test_unknown_words_are_refused_by_name():
    message = refusal("25% now, 75% maybe after install")
    assert "'75% maybe after install'" in message and "'maybe'" in message


def test_an_unknown_event_lists_the_jobs_events():
    message = refusal("25% before pour, rest after install", events=["Measurement", "Removal", "Installation"])
    assert "'25% before pour'" in message
    assert "There is no event 'pour' on this job. Its events are: Measurement, Removal, Installation." in message


def test_an_ambiguous_event_names_both():
    message = refusal("25% now, rest after install", events=["Tile installation", "Cabinet installation"])
    assert "Tile installation" in message and "Cabinet installation" in message


def test_an_event_trigger_without_an_event_asks_which():
    assert "Which event?" in refusal("25% after, rest now")


def test_two_rests_are_refused():
    message = refusal("25% now, rest before install, remainder after install")
    assert "'rest before install'" in message and "'remainder after install'" in message


@pytest.mark.parametrize("sentence, total", [("25% now, 50% after install", "75%"),
                                             ("50% now, 60% after install", "110%")])
def test_percentages_must_add_up_to_exactly_100(sentence, total):
    assert f"add up to {total}; they must add up to exactly 100%" in refusal(sentence)


@pytest.mark.parametrize("sentence", ["100% now, rest after install",
                                      "60% now, 60% before install, rest after install"])
def test_a_rest_with_nothing_left_is_refused(sentence):
    assert "Nothing is left for 'rest after install'" in refusal(sentence)


def test_a_plan_of_fixed_amounts_only_is_refused():
    assert "Make the last one 'rest'" in refusal("$500 now, $300 after install")


def test_two_amounts_in_one_clause_are_refused():
    assert "more than one amount here (25% and $500)" in refusal("25% $500 now, rest after install")


def test_two_triggers_in_one_clause_are_refused():
    assert "two times ('now' and 'before')" in refusal("25% now before install, rest after install")


def test_a_negative_amount_is_refused():
    assert "negative" in refusal("-$500 now, rest after install")


def test_hours_after_an_event_are_refused():
    assert "whole days" in refusal("25% 2 hours after install, rest now")


@pytest.mark.parametrize("sentence", ["25% 400 days before install, rest now", "25% after install net 400, rest now"])
def test_a_lead_or_net_over_a_year_is_refused(sentence):
    assert "more than a year" in refusal(sentence)


def test_check_percentages_wants_one_payment():
    with pytest.raises(InvalidInput, match="at least one payment"):
        check_percentages([])


# --- retainage --------------------------------------------------------------------------------

PAYMENTS = "30% before measurement, 70% after installation"


def retainage(percent, event="Final walkthrough", net_days=0):
    return MilestoneTerms("Retainage", after(event, net_days), percent=percent, retainage=True)


@pytest.mark.parametrize(
    "clause, terms",
    [
        ("retain 10% until final walkthrough", retainage(1000)),
        ("retain 10% until the final walk", retainage(1000)),
        ("retain 10% until final walkthrough is done", retainage(1000)),
        ("10% retainage until final walkthrough", retainage(1000)),
        ("10% retained until walkthrough", retainage(1000)),
        ("hold back 7.5% until final walkthrough", retainage(750)),
        ("retain half until final walkthrough", retainage(5000)),
        ("retain 50% until final walkthrough", retainage(5000)),
        ("retain 0.01% until final walkthrough", retainage(1)),
        ("retain 10% until 30 days after final walkthrough", retainage(1000, net_days=30)),
        ("retain 10% until final walkthrough net 30", retainage(1000, net_days=30)),
        ("retain 5% until 2 weeks after install", retainage(500, "Installation", 14)),
    ],
)
def test_a_retain_clause_holds_back_a_share_until_an_event_is_done(clause, terms):
    assert plan(f"{PAYMENTS}, {clause}") == [
        MilestoneTerms("Before Measurement", before("Measurement"), percent=3000),
        MilestoneTerms("After Installation", after("Installation"), percent=7000),
        terms,
    ]


def test_the_retain_clause_is_the_last_milestone_wherever_it_is_written():
    assert plan(f"retain 10% until final walkthrough, {PAYMENTS}") == plan(f"{PAYMENTS}, retain 10% until final "
                                                                            "walkthrough")
    assert plan("25% now and retain 10% until walkthrough and rest after install")[-1] == retainage(1000)


def test_the_rest_and_the_100_percent_leave_the_retainage_out():
    terms = plan("30% before measurement, rest after installation, retain 10% until final walkthrough")
    assert [t.percent for t in terms] == [3000, 7000, 1000]
    assert "add up to 110%" in refusal("30% before measurement, 80% after installation, retain 10% until final "
                                       "walkthrough")


def test_a_retainer_is_still_a_deposit_not_retainage():
    assert plan("$500 retainer, rest after install")[0] == MilestoneTerms("Retainer", NOW, fixed=50000)


@pytest.mark.parametrize(
    "clause, said",
    [
        ("retain 60% until final walkthrough", "Retainage can hold back at most 50% of the price, not 60%."),
        ("retain 50.01% until final walkthrough", "at most 50% of the price, not 50.01%."),
        ("retain 150% until final walkthrough", "at most 50% of the price, not 150%."),
        ("retain three quarters until final walkthrough", "at most 50% of the price, not 75%."),
        ("retain 0% until final walkthrough", "Retainage must hold back more than 0%"),
        ("retain -10% until final walkthrough", "Retainage must hold back more than 0%"),
        ("retain 10%", "Say until when it is held back."),
        ("retain until final walkthrough", "How much is held back? Give a percentage."),
        ("retain $500 until final walkthrough", "Retainage is a percentage of the price, not '$500'."),
        ("retain rest until final walkthrough", "How much is held back? Give a percentage."),
        ("retain 10% until before final walkthrough", "Retainage is paid once an event is done"),
        ("retain 10% until now", "Retainage is paid once an event is done"),
        ("retain 10% until on Dec 15", "Retainage is paid once an event is done"),
        ("retain 10% please until final walkthrough", "I did not understand 'please'."),
        ("retain 10% until soon 3 days after final walkthrough", "I did not understand 'soon'."),
    ],
)
def test_a_bad_retain_clause_says_what_is_wrong_and_how_to_write_it(clause, said):
    message = refusal(f"{PAYMENTS}, {clause}")
    assert message.startswith(f"In '{clause}': ") and said in message
    assert message.endswith("Example: 30% before measurement, 70% after installation, retain 10% until final "
                            "walkthrough")


def test_retainage_released_by_an_unknown_event_lists_the_jobs_events():
    message = refusal(f"{PAYMENTS}, retain 10% until roof inspection")
    assert "There is no event 'roof inspection' on this job." in message and "Final walkthrough" in message


def test_two_retain_clauses_are_refused():
    message = refusal(f"{PAYMENTS}, retain 10% until final walkthrough, retain 5% until installation")
    assert "A plan holds back retainage once, but 'retain 10% until final walkthrough' and 'retain 5% until " \
           "installation' both do. Keep one." in message


def test_retainage_alone_is_no_plan():
    assert "at least one payment" in refusal("retain 10% until final walkthrough")


def test_retainage_terms_are_a_percentage_due_after_an_event():
    with pytest.raises(ValueError):
        MilestoneTerms("Retainage", NOW, percent=1000, retainage=True)
    with pytest.raises(ValueError):
        MilestoneTerms("Retainage", after("Installation"), fixed=1000, retainage=True)


# --- property: what is written is what is read ------------------------------------------------

SPELLINGS = {
    "Measurement": ["measurement", "measure", "Measurement"],
    "Removal": ["removal", "remove", "REMOVAL"],
    "Installation": ["installation", "install", "Install"],
    "Final walkthrough": ["final walkthrough", "final walk", "walkthrough"],
    "Demolition": ["demolition", "demo"],
}
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def plural(count, unit):
    return f"{count} {unit}{'' if count == 1 else 's'}"


@st.composite
def triggers(draw):
    """(trigger, how a contractor might write it, the label it earns)."""
    kind = draw(st.sampled_from(list(TriggerKind)))
    if kind is TriggerKind.NOW:
        return NOW, draw(st.sampled_from(["now", "upfront", "up front", "on acceptance", "on signing"])), "Deposit"
    if kind is TriggerKind.DATE:
        day = TODAY + timedelta(days=draw(st.integers(0, 364)))
        written = draw(st.sampled_from([f"on {day.isoformat()}", f"on {MONTHS[day.month - 1]} {day.day}",
                                        f"by {day.day} {MONTHS[day.month - 1]}", f"on {day.month}/{day.day}"]))
        return on(day), written, f"On {MONTHS[day.month - 1]} {day.day}"
    event = draw(st.sampled_from(EVENTS))
    typed = draw(st.sampled_from(SPELLINGS[event]))
    if kind is TriggerKind.BEFORE:
        unit = draw(st.sampled_from([None, "hours", "days", "weeks"]))
        if unit is None:
            return before(event), f"before {typed}", f"Before {event}"
        count = draw(st.integers(1, 23 if unit == "hours" else 4 if unit == "weeks" else 60))
        lead = timedelta(**{unit: count})
        said = plural(count, "hour") if unit == "hours" else plural(lead.days, "day")
        label = f"Before {event}" if lead == DEFAULT_LEAD else f"{said} before {event}"
        return before(event, lead), f"{count} {unit} before {typed}", label
    net = draw(st.integers(0, 90))
    if not net:
        return after(event), f"after {typed}", f"After {event}"
    written = draw(st.sampled_from([f"{net} days after {typed}", f"after {typed} net {net}",
                                    f"net {net} days after {typed}"]))
    return after(event, net), written, f"{plural(net, 'day')} after {event}"


@st.composite
def plans(draw):
    cuts = sorted(draw(st.sets(st.integers(1, WHOLE - 1), max_size=6)))
    percents = [high - low for low, high in zip([0, *cuts], [*cuts, WHOLE])]
    rest_at = draw(st.sampled_from([None, *range(len(percents))]))
    clauses, expected = [], []
    for index, percent in enumerate(percents):
        trigger, written, label = draw(triggers())
        amount = "rest" if index == rest_at else format_percent(percent)
        clauses.append(f"{written} {amount}" if draw(st.booleans()) else f"{amount} {written}")
        expected.append(MilestoneTerms(label, trigger, percent=percent))
    separator = draw(st.sampled_from([", ", "; ", "\n", " and ", " then ", ", and then "]))
    return separator.join(clauses), expected


@settings(max_examples=300, deadline=None)
@given(plans())
def test_a_written_plan_reads_back_as_its_terms(written_plan):
    sentence, expected = written_plan
    assert plan(sentence) == expected


@settings(max_examples=200, deadline=None)
@given(plans(), st.integers(1, WHOLE // 2), st.sampled_from(EVENTS), st.integers(0, 90), st.data())
def test_a_written_plan_with_retainage_reads_back_as_its_terms_with_the_retainage_last(
        written_plan, rate, event, net, data):
    sentence, expected = written_plan
    typed = data.draw(st.sampled_from(SPELLINGS[event]))
    release = f"{net} days after {typed}" if net else typed
    clause = f"retain {format_percent(rate)} until {release}"
    sentence = f"{clause}, {sentence}" if data.draw(st.booleans()) else f"{sentence}, {clause}"
    assert plan(sentence) == [*expected, retainage(rate, event, net)]
