"""Reading the payment plan a contractor types in the Telegram chat.

A plan is one sentence of clauses, one per milestone, separated by commas,
semicolons or new lines, and by "and" / "then" when what follows has an amount
of its own (so an event called "Cut and polish" stays whole). Case does not
matter. A clause is an amount, a trigger and, optionally, a label, in any order:

    amount   25% | 33.33% | 25 percent | half | a quarter | three quarters
             $500 | 500 dollars | ¥50,000 | 50000 JPY | KWD 500.250 | 1.000,50 €: a number
             with the job's currency (its code, symbol or sign), read by core.money in the
             job's locale with the currency's own decimals; another currency is refused
             rest | the rest | remainder | balance | remaining: what the other
             percentages leave to 100%; at most one per plan
    trigger  now | upfront | up front | on acceptance | on signing
             before EVENT (DEFAULT_LEAD before it) | 3 days / 48 hours / a week before EVENT
             after EVENT | 10 days after EVENT | after EVENT net 10 | net 10 days after EVENT
             on DATE | by DATE, DATE being 2026-12-15, Dec 15, December 15th, 15 Dec or
             12/15 (month first in US locales, day first elsewhere); without a year,
             the next such date from today on
    label    deposit | down payment | final payment | retainer

One clause may hold back retainage instead of asking for a payment:

    retain   retain 10% until EVENT | retain 10% until 30 days after EVENT | 10% retainage until
             EVENT is done: that share of the price is held back (more than 0%, at most
             MAX_RETAINAGE) and falls due when EVENT is done, or that many days after; it is a
             milestone of its own, last in the plan, and the other percentages make 100% of the rest

A deposit, down payment or retainer with no trigger is due now. Without a label
the trigger names the milestone: "Deposit" (now), "Before Measurement",
"3 days before Installation", "After Removal", "On Dec 15". EVENT is matched
loosely to the job's events (core.matching). Small words ("due", "of",
"payment") pass; any other word is refused, and so is whatever would make us
guess about money: a bare number, "a third", two amounts in one clause,
percentages that do not add up to exactly 100%.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from babel import Locale
from babel.core import get_global
from babel.dates import format_skeleton
from babel.numbers import get_decimal_symbol, get_group_symbol

from core.errors import InvalidInput
from core.matching import match_event
from core.money import (
    ISO_CODES,
    MONEY_WORDS,
    WHOLE,
    currency_marks,
    format_money,
    format_percent,
    minor_units,
    parse_amount,
    parse_percent,
)
from core.plan import (
    DEFAULT_LEAD,
    EXAMPLE,
    MAX_RETAINAGE,
    RETAINAGE,
    MilestoneTerms,
    Trigger,
    TriggerKind,
    check_percentages,
)
from core.wording.language import N_, _, current, ngettext

# Said after a refusal as a sentence of its own: _(WHEN) where it is said, before _(EXAMPLE) (core.plan).
# "now", "before", "after", "on", EVENT and DATE are the words of a plan, which is typed in English.
WHEN = N_("Say now, before EVENT, after EVENT or on DATE.")
# Said after a refusal of a retain clause, as EXAMPLE after any other: _(RETAIN_EXAMPLE).
RETAIN_EXAMPLE = N_("Example: 30% before measurement, 70% after installation, retain 10% until final walkthrough")
# The words on both sides of "and" in a list of what was typed (two amounts, two times, two rests), said as
# a whole: "25% and $500", "'now' and 'before'"; a longer list is folded, "a and b and c".
AND = N_("{first} and {second}")
FRACTIONS = {"half": 5000, "quarter": 2500, "three quarters": 7500}
LABELS = {"deposit": "Deposit", "down payment": "Down payment", "final payment": "Final payment",
          "retainer": "Retainer"}
UPFRONT_LABELS = {"Deposit", "Down payment", "Retainer"}  # due now when the clause names no trigger
FILLER = {"the", "a", "an", "of", "due", "is", "paid", "payable", "payment", "pay", "as", "and", "then", "plus"}
NUMBER_WORDS = {"a": 1, "an": 1, "the": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}  # by first letter
MAX_SPAN = timedelta(days=365)  # a longer lead or net is a typo, not a plan
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_FIRST_TERRITORIES = {"US"}  # where 12/15 is month/day; everywhere else it is day/month

_NUM = r"\d(?:[\d.,'’]*\d)?"
_SPACED_NUM = r"\d{1,3}(?:\s\d{3})+(?:[.,]\d+)?(?!\d)"  # "1 000,50" where the locale groups with a space
_LETTER = r"[^\W\d_]"
_SIGNS = "".join(c for c in map(chr, range(0x10000)) if unicodedata.category(c) == "Sc")  # $ € ¥ ₹ ₿ ...
_PERCENT = re.compile(r"(?P<neg>-)?(?P<num>\d+(?:[.,]\d+)?)\s?(?:%|percent\b|per cent\b|pct\b)")
_FRACTION = re.compile(r"\b(?:(?:a|one)\s+)?(?P<name>half|quarter|three\s+quarters)\b")
_THIRD = re.compile(r"\bthirds?\b")
_REST = re.compile(r"\b(?:the\s+)?(?:rest|remainder|(?:remaining\s+)?balance|remaining)\b")
_RETAIN = re.compile(r"\b(?:retain(?:ed|age)?|(?:hold|held)\s+back)\b")  # not "retainer": a deposit
_UNTIL = re.compile(r"\b(?:until|till)\b(?P<release>.*?)(?:\s+(?:is\s+)?done)?\s*$")
_LABEL = re.compile(r"\b(?:deposit|down\s+payment|final\s+payment|retainer)\b")
_NOW = re.compile(r"\b(?:now|up[\s-]?front|(?:on|upon|at)\s+(?:acceptance|signing))\b")
_SIDE = re.compile(r"\b(?:before|after)\b")
_SPAN = rf"\b(?P<n>\d+|{'|'.join(NUMBER_WORDS)})\s*(?P<unit>hours?|hrs?|h|days?|d|weeks?|wks?|w)\s+"
_BEFORE = re.compile(rf"(?:{_SPAN})?\bbefore\b(?P<event>.*)")
_AFTER = re.compile(rf"(?:{_SPAN}|\bnet\s*(?P<net>\d+)(?:\s*days?)?\s+)?\bafter\b(?P<event>.*)")
_NET_SUFFIX = re.compile(r"\bnet\s*(?P<net>\d+)(?:\s*days?)?\s*$")
_MONTH = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_DATE = re.compile(
    rf"\b(?:on|by)\s+(?:the\s+)?(?P<date>(?P<iy>\d{{4}})-(?P<im>\d{{1,2}})-(?P<id>\d{{1,2}})"
    rf"|(?P<mm>{_MONTH})\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+(?P<my>\d{{4}}))?"
    rf"|(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<dm>{_MONTH})\.?(?:\s+(?P<dy>\d{{4}}))?"
    rf"|(?P<a>\d{{1,2}})/(?P<b>\d{{1,2}})(?:/(?P<y>\d{{4}}|\d{{2}}))?)\b")
_DATE_COMMA = re.compile(rf"\b(?:{_MONTH})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,(?=\s*\d{{4}}\b)", re.I)
_HARD_SPLIT = re.compile(r"[;\n]|(?<!\d),|,(?!\d)")  # "$4,850" and "1.000,50" keep their comma
_SOFT_SPLIT = re.compile(r"(\s+(?:and\s+then|and|then)\s+)", re.I)
_CONNECTOR = re.compile(r"^(?:and\s+then|and|then)\b\s*", re.I)


@dataclass(frozen=True)
class _Job:
    events: list[str]
    currency: str
    locale: str
    today: date


@dataclass(frozen=True)
class _Share:
    shown: str  # as typed, for messages
    percent: int | None = None
    fixed: int | None = None  # neither: the rest

    @property
    def rest(self) -> bool:
        return self.percent is None and self.fixed is None


@dataclass(frozen=True)
class _Part:
    clause: str
    label: str
    trigger: Trigger
    share: _Share


def parse_plan(sentence: str, events: list[str], *, currency: str, locale: str, today: date) -> list[MilestoneTerms]:
    """The milestones the sentence states, in its order; InvalidInput saying what was not understood."""
    job = _Job(events, currency, locale, today)
    clauses = _split_clauses(sentence, job)
    if not clauses:
        raise InvalidInput(_sentences(_("The plan is empty: say how much is due and when."), _(EXAMPLE)))
    retained = [clause for clause in clauses if _RETAIN.search(clause.lower())]
    terms = _settle_rest([_read_clause(clause, job) for clause in clauses if clause not in retained])
    check_percentages(terms)
    return terms + _retainage(retained, job)


def _split_clauses(sentence: str, job: _Job) -> list[str]:
    """One clause per milestone; "and" / "then" split only before something with an amount."""
    sentence = _DATE_COMMA.sub(lambda m: m.group()[:-1] + " ", sentence)  # "Dec 15, 2026" is one date
    clauses = []
    for piece in _HARD_SPLIT.split(sentence):
        words = _SOFT_SPLIT.split(_CONNECTOR.sub("", piece.strip()))
        current = words[0]
        for joint, part in zip(words[1::2], words[2::2]):
            if _has_amount(part.lower(), job):
                clauses.append(current)
                current = part
            else:
                current += joint + part
        clauses.append(current)
    return [clause.strip() for clause in clauses if clause.strip(" .!")]


@cache
def _money(currency: str, locale: str) -> re.Pattern:
    """A number with a currency mark before or after it, in lower case.

    The marks are the job's own (core.money.currency_marks: ¥ and JPY on a yen
    job) and any other currency's (a sign, an ISO code, "euros"), so that an
    amount in another currency is read as one and refused by name, not taken
    for a bare number and an unknown word. A mark glued to letters is no mark.
    """
    marks = sorted({*currency_marks(currency, locale), *ISO_CODES, *MONEY_WORDS}, key=len, reverse=True)
    mark = "|".join([*map(re.escape, marks), rf"{_LETTER}{{0,3}}[{re.escape(_SIGNS)}]"])
    number = f"{_SPACED_NUM}|{_NUM}" if get_group_symbol(locale).isspace() else _NUM
    return re.compile(rf"(?P<neg>-)?(?<!{_LETTER})(?:(?P<pre>{mark})\s?)?(?P<num>{number})"
                      rf"(?:\s?(?P<post>{mark})(?!{_LETTER}))?")


def _amounts(text: str, job: _Job) -> list[re.Match]:
    """Every explicit amount: a percentage, a fraction, or a number with its currency (a bare one is not)."""
    percents = list(_PERCENT.finditer(text))
    money = [m for m in _money(job.currency, job.locale).finditer(text)
             if (m["pre"] or m["post"]) and not _word_by_percentage(m, percents)]
    return sorted([*percents, *_FRACTION.finditer(text), *money], key=re.Match.start)


def _word_by_percentage(money: re.Match, percents: list[re.Match]) -> bool:
    """"all 25%" is a word before a percentage, not 25 Albanian lek; "$25%" stays two amounts, refused."""
    mark = money["pre"] or money["post"]
    return mark.isalpha() and any(p.start() < money.end() and money.start() < p.end() for p in percents)


def _has_amount(text: str, job: _Job) -> bool:
    return bool(_amounts(text, job) or _REST.search(text) or _THIRD.search(text))


def _read_clause(clause: str, job: _Job) -> _Part:
    try:
        text, share = _take_share(clause.lower(), job)
        text, label = _take_label(text)
        text, trigger = _take_trigger(text, job)
        if trigger is None and label in UPFRONT_LABELS:
            trigger = Trigger(TriggerKind.NOW)
        if trigger is None:
            when = _("When is the {amount} due?").format(amount=share.shown.removeprefix("the "))
            raise InvalidInput(_sentences(when, _(WHEN), _(EXAMPLE)))
        _check_understood(text, EXAMPLE)
    except InvalidInput as error:
        raise InvalidInput(_("In '{clause}': {error}").format(clause=clause, error=error)) from None
    return _Part(clause, label or default_label(trigger), trigger, share)


def _retainage(clauses: list[str], job: _Job) -> list[MilestoneTerms]:
    """The retainage milestone the retain clause states, if any: one at most."""
    if len(clauses) > 1:
        wrong = _("A plan holds back retainage once, but {clauses} both do. Keep one.").format(
            clauses=_listed([f"'{clause}'" for clause in clauses]))
        raise InvalidInput(_sentences(wrong, _(RETAIN_EXAMPLE)))
    return [_read_retain_clause(clause, job) for clause in clauses]


def _read_retain_clause(clause: str, job: _Job) -> MilestoneTerms:
    try:
        text = _blank(clause.lower(), _RETAIN.search(clause.lower()))
        until = _UNTIL.search(text)
        if until is None:
            raise InvalidInput(_sentences(_("Say until when it is held back."), _(RETAIN_EXAMPLE)))
        text, rate = _take_rate(text[: until.start()], job)
        _check_understood(text, RETAIN_EXAMPLE)
        release = _release(until["release"], job)
    except InvalidInput as error:
        raise InvalidInput(_("In '{clause}': {error}").format(clause=clause, error=error)) from None
    return MilestoneTerms(RETAINAGE, release, percent=rate, retainage=True)


def _take_rate(text: str, job: _Job) -> tuple[str, int]:
    """What retainage holds back of the price: a percentage, more than 0%, at most MAX_RETAINAGE."""
    found = _amounts(text, job)
    if not found:
        raise InvalidInput(_sentences(_("How much is held back? Give a percentage."), _(RETAIN_EXAMPLE)))
    if len(found) == 1 and found[0].re is _PERCENT:
        # checked before the percentage is read, which refuses 0% and past 100% in words meant for a payment
        _check_rate(float(found[0]["num"].replace(",", ".")) * (-100 if found[0]["neg"] else 100))
    text, share = _take_share(text, job)
    if share.percent is None:
        wrong = _("Retainage is a percentage of the price, not '{amount}'.").format(amount=share.shown)
        raise InvalidInput(_sentences(wrong, _(RETAIN_EXAMPLE)))
    _check_rate(share.percent)
    return text, share.percent


def _check_rate(points: float) -> None:
    if points <= 0:
        raise InvalidInput(_sentences(_("Retainage must hold back more than 0%; to hold nothing back, leave the "
                                        "retain clause out."), _(RETAIN_EXAMPLE)))
    if points > MAX_RETAINAGE:
        wrong = _("Retainage can hold back at most {most} of the price, not {percent}.").format(
            most=format_percent(MAX_RETAINAGE), percent=format_percent(round(points)))
        raise InvalidInput(_sentences(wrong, _(RETAIN_EXAMPLE)))


def _release(text: str, job: _Job) -> Trigger:
    """When retainage falls due: when its event is done ("until EVENT"), or days after ("until 30 days after
    EVENT", "until EVENT net 30")."""
    if not text.strip() or _NOW.search(text) or _DATE.search(text) or _BEFORE.search(text):
        raise InvalidInput(_sentences(_("Retainage is paid once an event is done: say 'until EVENT' or 'until 30 "
                                        "days after EVENT'."), _(RETAIN_EXAMPLE)))
    match = _AFTER.search(text)
    if match is None:  # "until EVENT": when it is done
        return _event_trigger(_AFTER.search(f"after {text}"), job)
    _check_understood(text[: match.start()], RETAIN_EXAMPLE)
    return _event_trigger(match, job)


def _check_understood(text: str, example: str) -> None:
    """Refuses the words left in `text` once everything was read, but small words; `example` (marked with N_)
    shows how to write it."""
    unknown = [word for word in re.findall(r"[^\W_]+", text) if word not in FILLER]
    if unknown:
        wrong = _("I did not understand '{words}'.").format(words=" ".join(unknown))
        raise InvalidInput(_sentences(wrong, _(example)))


def _sentences(*said: str) -> str:
    """A refusal of several sentences, each translated on its own (a shared one, like _(EXAMPLE), too)."""
    return " ".join(said)


def _listed(items: list[str]) -> str:
    """"a and b", "a and b and c", with "and" in the reader's language."""
    shown = items[0]
    for item in items[1:]:
        shown = _(AND).format(first=shown, second=item)
    return shown


def _blank(text: str, match: re.Match) -> str:
    """The text with what was read replaced by spaces, so later positions still hold."""
    return text[: match.start()] + " " * (match.end() - match.start()) + text[match.end():]


def _take_share(text: str, job: _Job) -> tuple[str, _Share]:
    found, rest = _amounts(text, job), _REST.search(text)
    if len(found) > 1:
        wrong = _("There is more than one amount here ({amounts}); give each payment a clause.").format(
            amounts=_listed([m.group().strip() for m in found]))
        raise InvalidInput(_sentences(wrong, _(EXAMPLE)))
    if found:  # "the remaining 50%": the number counts, and the 100% check guards it
        text = _blank(text, rest) if rest else text
        return _blank(text, found[0]), _share_of(found[0], job)
    if rest:
        return _blank(text, rest), _Share(rest.group())
    if _THIRD.search(text):
        raise InvalidInput(_("A third is not an exact percentage: write 33.33% and 33.34% "
                             "(or 66.67%), so the plan adds up to exactly 100%."))
    example = format_money(500 * 10 ** minor_units(job.currency), job.currency, job.locale)
    # "half" and "rest" are words of a plan, which is typed in English.
    wrong = _("There is no amount here. Write it like 25%, {amount}, half or rest "
              "(a bare number could be either).").format(amount=example)
    raise InvalidInput(_sentences(wrong, _(EXAMPLE)))


def _share_of(match: re.Match, job: _Job) -> _Share:
    shown = match.group().strip()
    if match.re is _FRACTION:
        return _Share(shown, percent=FRACTIONS[" ".join(match["name"].split())])
    sign = match["neg"] or ""
    if match.re is _PERCENT:
        number = match["num"]
        if get_decimal_symbol(job.locale) == ",":
            number = number.replace(",", ".")  # "33,33%" in de_DE
        return _Share(shown, percent=parse_percent(f"{sign}{number}%"))
    return _Share(shown, fixed=parse_amount(shown, job.currency, job.locale))  # refuses another currency


def _take_label(text: str) -> tuple[str, str | None]:
    match = _LABEL.search(text)
    if not match:
        return text, None
    return _blank(text, match), LABELS[" ".join(match.group().split())]


def _take_trigger(text: str, job: _Job) -> tuple[str, Trigger | None]:
    found = [*_NOW.finditer(text), *_DATE.finditer(text), *_SIDE.finditer(text)]
    if len(found) > 1:
        wrong = _("This payment has two times ({times}); give it one.").format(
            times=_listed([f"'{m.group()}'" for m in found]))
        raise InvalidInput(_sentences(wrong, _(WHEN), _(EXAMPLE)))
    if not found:
        return text, None
    match = found[0]
    if match.re is _NOW:
        return _blank(text, match), Trigger(TriggerKind.NOW)
    if match.re is _DATE:
        return _blank(text, match), Trigger(TriggerKind.DATE, on=_date_of(match, job))
    match = _BEFORE.search(text) or _AFTER.search(text)
    return _blank(text, match), _event_trigger(match, job)


def _event_trigger(match: re.Match, job: _Job) -> Trigger:
    """before/after EVENT, with its lead or its net days."""
    event = match["event"]
    net = _NET_SUFFIX.search(event)
    if net:
        event = event[: net.start()]
    words = event.split()
    while words and words[-1] in FILLER:
        words.pop()
    name = match_event(" ".join(words), job.events)
    span = _span(match["n"], match["unit"]) if match["n"] else None
    if match.re is _BEFORE:
        return Trigger(TriggerKind.BEFORE, event=name, lead=span if span is not None else DEFAULT_LEAD)
    nets = [days for days in (match["net"], net and net["net"]) if days]
    if span is not None and span % timedelta(days=1):
        raise InvalidInput(_("A payment after an event counts whole days: say 'after {event}' or "
                             "'2 days after {event}'.").format(event=name))
    if len(nets) + (span is not None) > 1:
        raise InvalidInput(_("Say how many days after {event} once: '10 days after {event}'.").format(event=name))
    net_days = span.days if span is not None else int(nets[0]) if nets else 0
    if timedelta(days=net_days) > MAX_SPAN:
        raise InvalidInput(ngettext("{n} day after {event} is more than a year; check the number.",
                                    "{n} days after {event} is more than a year; check the number.",
                                    net_days).format(n=net_days, event=name))
    return Trigger(TriggerKind.AFTER, event=name, net_days=net_days)


def _span(count: str, unit: str) -> timedelta:
    span = UNITS[unit[0]] * (int(count) if count.isdigit() else NUMBER_WORDS[count])
    if span > MAX_SPAN:
        raise InvalidInput(_("'{span}' is more than a year; check the number.").format(span=f"{count} {unit}"))
    return span


def _date_of(match: re.Match, job: _Job) -> date:
    if match["iy"]:
        year, month, day = int(match["iy"]), int(match["im"]), int(match["id"])
    elif match["mm"] or match["dm"]:
        month = MONTHS.index((match["mm"] or match["dm"])[:3].title()) + 1
        day, year = int(match["md"] or match["dd"]), int(match["my"] or match["dy"] or 0)
    else:
        first, second = int(match["a"]), int(match["b"])
        month, day = (first, second) if _month_first(job.locale) else (second, first)
        year = int(match["y"] or 0)
        year += 2000 if 0 < year < 100 else 0
    return _calendar_date(year, month, day, match["date"], job.today)


def _calendar_date(year: int, month: int, day: int, shown: str, today: date) -> date:
    """The date meant; without a year, the next one from today on (Feb 29 waits for a leap year)."""
    for candidate_year in [year] if year else range(today.year, today.year + 5):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if year or candidate >= today:
            break
    else:
        # The dates shown are how a plan, typed in English, writes one.
        raise InvalidInput(_("'{date}' is not a date. Write it like 2026-12-15, Dec 15 or 15 Dec.").format(date=shown))
    if candidate < today:
        when = format_skeleton("yMMMd", candidate, locale=current())  # "Nov 24, 2026"; "24 nov 2026" in Spanish
        raise InvalidInput(_("{date} is in the past (today is {today}). Give a date from today on.").format(
            date=when, today=today.isoformat()))
    return candidate


def _month_first(locale: str) -> bool:
    """12/15 is month/day where the locale's territory writes it so (a bare "en" counts as US)."""
    parsed = Locale.parse(locale)
    territory = parsed.territory or get_global("likely_subtags").get(parsed.language, "").split("_")[-1]
    return territory in MONTH_FIRST_TERRITORIES


def default_label(trigger: Trigger) -> str:
    """The name the parser gives a payment the contractor did not name: "Deposit", "On Dec 15",
    "Before Measurement", "3 days before Installation", "After Removal".

    In English whatever language is spoken, not inside _(): it is stored with the payment, as data.
    core/wording/words.py uses it to recognise such a name (it only restates the trigger) and say the
    trigger in the reader's language instead.
    """
    if trigger.kind is TriggerKind.NOW:
        return "Deposit"
    if trigger.kind is TriggerKind.DATE:
        return f"On {MONTHS[trigger.on.month - 1]} {trigger.on.day}"
    if trigger.kind is TriggerKind.BEFORE:
        if trigger.lead == DEFAULT_LEAD:
            return f"Before {trigger.event}"
        return f"{_duration(trigger.lead)} before {trigger.event}"
    if trigger.net_days:
        return f"{_duration(timedelta(days=trigger.net_days))} after {trigger.event}"
    return f"After {trigger.event}"


def _duration(span: timedelta) -> str:
    count, unit = (span.days, "day") if not span % timedelta(days=1) else (span // timedelta(hours=1), "hour")
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _settle_rest(parts: list[_Part]) -> list[MilestoneTerms]:
    """Milestone terms, the rest (if any) given what the other percentages leave."""
    rests = [part for part in parts if part.share.rest]
    if len(rests) > 1:
        wrong = _("Only one payment can be the rest, but {clauses} both are. Give one a percentage.").format(
            clauses=_listed([f"'{part.clause}'" for part in rests]))
        raise InvalidInput(_sentences(wrong, _(EXAMPLE)))
    named = sum(part.share.percent or 0 for part in parts)
    if rests and named >= WHOLE:
        wrong = _("Nothing is left for '{clause}': the other percentages already add up to {percent}.").format(
            clause=rests[0].clause, percent=format_percent(named))
        raise InvalidInput(_sentences(wrong, _(EXAMPLE)))
    return [
        MilestoneTerms(part.label, part.trigger, WHOLE - named if part.share.rest else part.share.percent,
                       part.share.fixed)
        for part in parts
    ]
