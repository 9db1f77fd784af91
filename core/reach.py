"""Whether a text queued for a customer now reaches them, and when: so what the contractor is told is true.

A customer who replied STOP gets nothing until they text START (the dispatcher
cancels what is queued for them); a text queued in the customer's quiet hours
waits for their morning (core/quiet_hours.py). Answers to the customer's own
text are neither: they go back at once, in the same request.
"""

from dataclasses import dataclass
from datetime import datetime

from core.quiet_hours import QuietHours
from core.status import JobView


@dataclass(frozen=True)
class Reach:
    opted_out_at: datetime | None = None  # not sent: they replied STOP then
    held_until: datetime | None = None  # sent then, once their quiet hours are over

    @property
    def now(self) -> bool:
        return self.opted_out_at is None and self.held_until is None


def reach(job: JobView, quiet_hours: QuietHours) -> Reach:
    """What becomes of a text to the job's customer queued at `job.now`."""
    if job.opted_out_at is not None:
        return Reach(opted_out_at=job.opted_out_at)
    allowed = quiet_hours.next_allowed(job.now, job.timezone)
    return Reach(held_until=allowed) if allowed > job.now else Reach()
