"""What every use case is given: the clock, payment links, defaults, and who is acting."""

from dataclasses import dataclass
from datetime import timedelta

from core.clock import Clock
from core.links import PaymentLinks
from core.quiet_hours import QuietHours
from core.status import OVERDUE_AFTER


@dataclass(frozen=True)
class Defaults:
    """What a new contractor starts with; each can change their own later."""

    timezone: str = "America/New_York"
    currency: str = "USD"
    locale: str = "en_US"
    region: str = "US"  # for phone numbers typed without a country code


@dataclass(frozen=True)
class ReminderPolicy:
    """Overdue reminders: the first `first` after a payment falls due, then every `every`, at most `most`."""

    first: timedelta = OVERDUE_AFTER
    every: timedelta = timedelta(days=7)
    most: int = 3


@dataclass(frozen=True)
class Context:
    clock: Clock
    links: PaymentLinks
    defaults: Defaults = Defaults()
    reminders: ReminderPolicy = ReminderPolicy()
    quiet_hours: QuietHours = QuietHours()  # the dispatcher's: what the contractor is told a text waits for
    change_order_days: float = 7  # a change order unanswered this long expires (reminded once, halfway)


@dataclass(frozen=True)
class Actor:
    """Who asks. A contractor reaches only their own jobs; a customer only the jobs on their phone."""

    kind: str  # contractor, customer, system
    key: str  # contractor id, customer phone, or the system part's name

    @classmethod
    def contractor(cls, contractor_id: int) -> "Actor":
        return cls("contractor", str(contractor_id))

    @classmethod
    def customer(cls, phone: str) -> "Actor":
        return cls("customer", phone)

    @classmethod
    def system(cls, part: str = "system") -> "Actor":
        return cls("system", part)

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"
