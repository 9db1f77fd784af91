"""Where a job stands, derived from facts and a `now` — never typed in.

A milestone's status follows from its amount, what was paid on it, the moment
it falls due (known once its trigger is set: the plan sent, the event
scheduled or done, the date) and the time now.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from core.plan import Trigger

OVERDUE_AFTER = timedelta(days=3)  # the first reminder goes out when a payment turns overdue


class Status(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    PARTIALLY_PAID = "partially paid"
    PROCESSING = "processing"  # a bank transfer for it has started and not yet settled: no reminders
    PAID = "paid"


def milestone_status(amount: int, paid: int, due_at: datetime | None, now: datetime,
                     processing: bool = False) -> Status:
    if paid >= amount:
        return Status.PAID
    if processing:
        return Status.PROCESSING
    if paid > 0:
        return Status.PARTIALLY_PAID
    if due_at is None or due_at > now:
        return Status.UPCOMING
    if now - due_at >= OVERDUE_AFTER:
        return Status.OVERDUE
    return Status.DUE


def credit_of(paid: int, total: int) -> int:
    """The customer's credit (docs/design.md, "Credit"): every payment received on the job beyond its total, owed
    back to them. Money no milestone could take counts: it was received. The one definition, for every view."""
    return max(paid - total, 0)


@dataclass(frozen=True)
class EventView:
    name: str
    scheduled_at: datetime | None
    state: str  # scheduled, done, cancelled
    done_at: datetime | None = None
    date_only: bool = False  # a day with no time of day: scheduled_at is its start in the customer's timezone
    id: int | None = None  # the stored event's: a button names an event by it, as a name or a place may change


@dataclass(frozen=True)
class MilestoneView:
    position: int
    label: str
    trigger: Trigger
    percent: int | None
    fixed: int | None
    amount: int
    paid: int
    due_at: datetime | None  # None until its trigger can say when
    status: Status
    event_at: datetime | None = None  # when its event is scheduled (before/after triggers)
    id: int | None = None
    processing: bool = False  # a payment for it is on its way (a bank transfer settles in days)
    retainage: bool = False  # holds back `percent` of the price until its trigger (core/allocation.py, rule 7)

    @property
    def open_amount(self) -> int:
        return max(self.amount - self.paid, 0)

    def is_due(self, now: datetime) -> bool:
        """Asked for and not yet on its way: a milestone whose bank transfer is processing is not due."""
        return self.open_amount > 0 and not self.processing and self.due_at is not None and self.due_at <= now


@dataclass(frozen=True)
class JobView:
    """Everything a message or a page needs to tell a job's story."""

    ref: str
    title: str
    state: str  # active, cancelled
    currency: str
    locale: str
    timezone: str  # the customer's
    customer_name: str
    customer_phone: str
    business_name: str
    business_phone: str
    total: int
    paid: int  # every payment received on the job
    now: datetime
    plan_sent: bool
    milestones: tuple[MilestoneView, ...] = ()
    events: tuple[EventView, ...] = ()
    payment_instructions: str = ""
    items: tuple[tuple[str, int], ...] = ()  # line items: (description, amount)
    item_ids: tuple[int, ...] = ()  # each line item's stored id, in the order of `items`: what a button names
    language: str = "en"  # the customer's: their texts and page are in it (core.wording.language)
    business_language: str = "en"  # the contractor's, from Telegram: what they are told is in it
    opted_out_at: datetime | None = None  # when the customer replied STOP: no text reaches them until START
    change_order: "ChangeOrderView | None" = None  # the one waiting for the customer's answer: the plan stands

    @property
    def remaining(self) -> int:
        return max(self.total - self.paid, 0)

    @property
    def credit(self) -> int:
        return credit_of(self.paid, self.total)

    @property
    def due_now(self) -> tuple[MilestoneView, ...]:
        return tuple(m for m in self.milestones if m.is_due(self.now))

    @property
    def due_now_amount(self) -> int:
        return sum(m.open_amount for m in self.due_now)

    @property
    def upcoming(self) -> tuple[MilestoneView, ...]:
        return tuple(m for m in self.milestones if m.open_amount > 0 and not m.processing and not m.is_due(self.now))

    @property
    def processing(self) -> tuple[MilestoneView, ...]:
        return tuple(m for m in self.milestones if m.open_amount > 0 and m.processing)

    @property
    def held_back(self) -> MilestoneView | None:
        """The retainage milestone while it holds money back: open, and not yet due (its event still to be done,
        or the days after it still to pass)."""
        return next((m for m in self.upcoming if m.retainage), None)

    @property
    def next(self) -> MilestoneView | None:
        """The payment a customer asking "what's next?" means: the first due now, else the first to come."""
        return next(iter(self.due_now or self.upcoming), None)


@dataclass(frozen=True)
class AmountChange:
    label: str
    old: int
    new: int
    paid: int
    trigger: Trigger | None = None  # its milestone's: a name the plan parser gave is said from it, in any language


@dataclass(frozen=True)
class PriceChangeView:
    """A price change, before or after it is applied: old and new amounts side by side."""

    reason: str  # what changed, in words: "Added: Undermount sink $350.00"
    old_total: int
    new_total: int
    paid: int  # every payment received on the job, as JobView.paid
    changes: tuple[AmountChange, ...] = field(default=())

    @property
    def credit(self) -> int:
        """What the job's view will say once the change is applied: the same definition, so the preview, the audit
        record and both sides' messages agree."""
        return credit_of(self.paid, self.new_total)


@dataclass(frozen=True)
class ChangeOrderView:
    """A price change sent to the customer for approval (core.change_orders), and what became of it."""

    number: int
    state: str  # waiting, pending, approved, declined, expired, replaced, applied, withdrawn
    reason: str  # what changes, in words, as PriceChangeView.reason
    old_total: int
    new_total: int
    sent_at: datetime | None = None
    expires_at: datetime | None = None
    answered_at: datetime | None = None
    answered_via: str | None = None  # sms, page, telegram (the contractor), system
    applied_because: str = ""  # the contractor's reason for applying it without the customer's approval
