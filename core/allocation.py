"""Splitting a job's total over its milestones, exact to the cent.

This is the rule of docs/design.md, "Recalculation", as one pure function
used both for a new plan (nothing paid) and for every change of price
afterwards:

1. nothing paid: every milestone from its percentage;
2. fully paid milestones keep their amount; the rest of the total is spread
   over the open ones by their original percentages;
3. a partially paid milestone never drops below what was paid on it: if its
   share would, it is set to what was paid (completed), the rest spread over
   the others;
4. unpaid fixed amounts keep their amount (capped by what remains);
   percentage milestones share the rest;
5. paid more than the total: open milestones become 0, the excess is credit;
6. cents by largest remainder, ties to the earlier milestone;
7. retainage of r holds back r of the price: its milestone asks for r of the
   total (by rule 6), as a fixed amount would, and the percentage milestones
   share what the fixed amounts and the retainage leave. So it stays r of the
   price through every price change (several US states cap retainage by law),
   and a rise after every percentage payment is paid still falls due now,
   less the retainage's r of it (`slots`).

One case the rule does not name: the price rises after every percentage
milestone is paid. The extra has no open percentage to go to, so it comes
back as `unplaced` and the caller adds a milestone for it: amounts never
silently stop adding up.

Another: money received that no milestone could take (paid beyond every
milestone). Once the new amounts are written it goes to the open milestones
(core.payments.apply_payments), and a milestone it pays in full keeps its
amount from then on (rule 2). So the amounts are worked out as that money
will leave them: recalculating again at the same total changes nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from core.money import WHOLE
from core.status import credit_of


@dataclass(frozen=True)
class Slot:
    """A milestone as the allocator sees it."""

    percent: int | None  # basis points, or None for a fixed amount
    fixed: int | None  # minor units, or None for a percentage
    amount: int = 0  # what it asks for now
    paid: int = 0  # what has been paid on it

    @property
    def settled(self) -> bool:
        """Fully paid: its amount is frozen by a price change (rule 2)."""
        return self.paid > 0 and self.paid >= self.amount


class Share(Protocol):
    """A milestone as stored or viewed (storage.models.Milestone, core.status.MilestoneView): what `slots` reads."""

    percent: int | None
    fixed: int | None
    retainage: bool
    amount: int
    paid: int


def slots(milestones: Sequence[Share], total: int) -> list[Slot]:
    """The milestones as the allocator sees them at the price `total`, the retainage as r of it (rule 7).

    The one place a plan's milestones become slots: for a new plan (core.plans) and every price change
    (core.pricing).
    """
    return [Slot(None, _held(m.percent, total), m.amount, m.paid) if m.retainage
            else Slot(m.percent, m.fixed, m.amount, m.paid) for m in milestones]


def _held(rate: int, total: int) -> int:
    """r of `total`, rounded as rule 6 rounds: the larger part of the split keeps the odd cent."""
    return split(total, [WHOLE - rate, rate])[1]


@dataclass(frozen=True)
class Allocation:
    amounts: tuple[int, ...]
    credit: int  # everything received beyond the total, owed back to the customer (core.status.credit_of)
    unplaced: int  # balance with no open percentage milestone to take it

    @property
    def allocated(self) -> int:
        return sum(self.amounts)


def split(amount: int, weights: list[int]) -> list[int]:
    """Split `amount` by `weights`: each part the floor or ceiling of its exact share, summing exactly.

    Largest remainder; ties go to the earlier part.
    """
    whole = sum(weights)
    if not weights:
        return []
    if whole <= 0:
        raise ValueError("weights must add up to more than zero")
    parts = [amount * w // whole for w in weights]
    remainders = [amount * w % whole for w in weights]
    short = amount - sum(parts)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:short]:
        parts[index] += 1
    return parts


def recalculate(total: int, slots: list[Slot], unapplied: int = 0, order: Sequence[int] | None = None) -> Allocation:
    """New amounts for every milestone when the total is `total`.

    `unapplied` is money received on the job that no milestone holds (an overpayment); once the amounts are
    written it goes to the open milestones in `order` (indices of `slots`; plan order if None), as
    core.payments.apply_payments puts it. The amounts returned are a fixed point: with that money applied,
    recalculating at the same total gives them again.
    """
    amounts, unplaced = _once(total, slots)
    # A milestone that money pays in full then keeps the amount it was paid at (rule 2), and the others share the
    # rest without it, which moves a cent when that amount came from rounding (issue 10: written 5 / 45,886 / 4,
    # recalculated 5 / 45,885 / 5). So work the amounts out again with the money applied, until applying it
    # changes nothing. A turn or two does it; the bound is only a guard.
    order = range(len(slots)) if order is None else order
    for _turn in range(len(slots) + 1 if unapplied > 0 else 0):
        paid = _fill(amounts, [s.paid for s in slots], unapplied, order)
        again, unplaced = _once(total, [Slot(s.percent, s.fixed, a, p) for s, a, p in zip(slots, amounts, paid)])
        if again == amounts:
            break
        amounts = again
    return Allocation(amounts, credit_of(sum(s.paid for s in slots) + unapplied, total), unplaced)


def _fill(amounts: Sequence[int], paid: list[int], money: int, order: Sequence[int]) -> list[int]:
    """What is paid on each milestone once `money` goes to the open ones in `order`, each filled in turn."""
    paid = list(paid)
    for i in order:
        take = min(money, amounts[i] - paid[i])
        if take > 0:
            paid[i] += take
            money -= take
    return paid


def _once(total: int, slots: list[Slot]) -> tuple[tuple[int, ...], int]:
    """The rule, once, on what is paid now: the amounts, and what no open percentage milestone can take."""
    frozen = {i: s.amount for i, s in enumerate(slots) if s.settled}
    while True:
        amounts = dict(frozen)
        left = max(total - sum(frozen.values()), 0)
        open_ = [i for i in range(len(slots)) if i not in frozen]
        for i in open_:
            if slots[i].fixed is not None:
                amounts[i] = min(slots[i].fixed, left)
                left -= amounts[i]
        shared = [i for i in open_ if slots[i].percent is not None]
        for i, part in zip(shared, split(left, [slots[i].percent for i in shared])):
            amounts[i] = part
        # Rule 3, and its edge: a partly paid milestone whose new amount is exactly what was paid is now fully
        # paid, so it keeps that amount (rule 2) and the others share the rest without it. Leaving it in the
        # split would let a second, identical recalculation move a cent (found by a property test).
        short = [i for i in open_ if slots[i].paid > 0 and amounts[i] <= slots[i].paid]
        if not short:
            break
        frozen.update((i, slots[i].paid) for i in short)
    unplaced = 0 if shared else left
    return tuple(amounts[i] for i in range(len(slots))), unplaced
