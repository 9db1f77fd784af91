"""The terms of a payment plan: what each milestone asks for and when it is due.

A milestone's share is either a percentage (basis points of what the fixed
amounts leave over) or a fixed amount in minor units; its trigger ties it to
the plan being sent, to an event of the job, or to a date.

A plan may hold back retainage: a share of the price, kept until an event is
done (docs/design.md, "Retainage"). It is a milestone of its own, named
RETAINAGE, whose percentage is that share (at most MAX_RETAINAGE) and whose
trigger is after its release event; the other percentages still make 100% of
what the fixed amounts and the retainage leave (core.allocation, rule 7).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from core.errors import InvalidInput
from core.money import WHOLE, format_percent
from core.wording.language import N_, _

DEFAULT_LEAD = timedelta(hours=24)  # "before EVENT" means a day before it, unless told otherwise
MAX_RETAINAGE = WHOLE // 2  # holding back more than half of the price is a typo, not retainage
# The retainage milestone's name, stored in English as written here: core.wording.words says it in the reader's.
RETAINAGE = N_("Retainage")


class TriggerKind(StrEnum):
    NOW = "now"  # due when the plan is sent (a deposit)
    BEFORE = "before"  # due `lead` before the event's scheduled start
    AFTER = "after"  # due when the event is marked done, plus `net_days`
    DATE = "date"  # due on a calendar date


@dataclass(frozen=True)
class Trigger:
    kind: TriggerKind
    event: str | None = None  # the job's event name, as the job spells it
    lead: timedelta = DEFAULT_LEAD
    net_days: int = 0
    on: date | None = None

    def __post_init__(self):
        if (self.kind in (TriggerKind.BEFORE, TriggerKind.AFTER)) != (self.event is not None):
            raise ValueError(f"a {self.kind} trigger {'needs' if self.event is None else 'takes no'} event")
        if (self.kind is TriggerKind.DATE) != (self.on is not None):
            raise ValueError("a date trigger needs its date, and only it")


@dataclass(frozen=True)
class MilestoneTerms:
    """One line of a plan as the contractor stated it."""

    label: str
    trigger: Trigger
    percent: int | None = None  # basis points
    fixed: int | None = None  # minor units
    retainage: bool = False  # holds back `percent` of the price until its trigger (core.allocation, rule 7)

    def __post_init__(self):
        if (self.percent is None) == (self.fixed is None):
            raise ValueError("a milestone has either a percentage or a fixed amount")
        if self.retainage and (self.percent is None or self.trigger.kind is not TriggerKind.AFTER):
            raise ValueError("retainage is a percentage, due after its event")


# Said after a refusal as a sentence of its own: _(EXAMPLE) where it is said.
EXAMPLE = N_("Example: 25% before measurement, 25% after removal, 50% after installation")


def check_percentages(terms: list[MilestoneTerms]) -> None:
    """The rules of a plan that need no total: a payment at all, one percentage, 100% exactly.

    At least one percentage (or "rest") milestone keeps the plan adding up
    when the price changes. Retainage is no payment of its own here: it is
    held back from the others, whose percentages make 100%.
    """
    terms = [t for t in terms if not t.retainage]
    if not terms:
        raise InvalidInput(" ".join((_("A plan needs at least one payment."), _(EXAMPLE))))
    percents = [t.percent for t in terms if t.percent is not None]
    if not percents:
        raise InvalidInput(_(
            "Every payment in this plan is a fixed amount, so it would stop adding up if the price "
            "changed. Make the last one 'rest'. Example: $500 now, rest after installation"
        ))
    if sum(percents) != WHOLE:
        wrong = _("The percentages add up to {percent}; they must add up to exactly 100% "
                  "(or end with 'rest after EVENT').").format(percent=format_percent(sum(percents)))
        raise InvalidInput(" ".join((wrong, _(EXAMPLE))))


def check_plan(terms: list[MilestoneTerms], total: int, money: Callable[[int], str]) -> None:
    """Raise InvalidInput unless the plan can be paid exactly out of `total` (`money` formats amounts)."""
    check_percentages(terms)
    fixed = sum(t.fixed for t in terms if t.fixed is not None)
    if fixed > total:
        raise InvalidInput(_("The fixed amounts ({fixed}) are more than the job's total ({total}).").format(
            fixed=money(fixed), total=money(total)))
    rate = sum(t.percent for t in terms if t.retainage)
    if fixed + total * rate // WHOLE > total:
        raise InvalidInput(_("The fixed amounts ({fixed}) and the retainage ({retained}) are more than the job's "
                             "total ({total}).").format(fixed=money(fixed), retained=format_percent(rate),
                                                        total=money(total)))
