"""The worker's catch-up with Stripe: the events Stripe could not deliver to the webhook, applied as it would have.

Stripe retries a failed delivery for days, but a customer who paid while the
web app was down should not wait days for their receipt. Every few minutes
the worker asks Stripe for the events it has not delivered yet
(`delivery_success=false`) and applies each through the webhook's own
`apply_news`, oldest first: once per event id, so an event the webhook took
meanwhile, or takes later when Stripe retries, is a duplicate that changes
nothing. With Connect, every connected account's events are asked for as that
account's.
"""

import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from core.checkout import PaymentsUnavailable
from core.context import Context
from core.provider_events import apply_news
from sms.stripe_gateway import StripeGateway, news_of
from storage.models import Contractor

log = logging.getLogger(__name__)

# Stripe retries a failed delivery for three days; a week also covers a worker that was down over a long weekend.
WINDOW = timedelta(days=7)


class Reconciliation:
    """What `paystage worker` runs every few minutes with Stripe settings."""

    def __init__(self, ctx: Context, gateway: StripeGateway, *, connect: bool = False, window: timedelta = WINDOW):
        self.ctx, self.gateway, self.connect, self.window = ctx, gateway, connect, window

    def __call__(self, *, stopping: Callable[[], bool] = lambda: False) -> Counter:
        """Apply every undelivered event once; how many came to what ("paid", "duplicate", ...)."""
        since = self.ctx.clock() - self.window
        done: Counter = Counter()
        accounts, unanswered = self._accounts(), []
        for account in accounts:
            if stopping():
                break
            try:
                events = self.gateway.missed_events(since, account)
            except PaymentsUnavailable as error:
                if account is None:
                    raise  # Stripe itself, or our key: every account would fail the same way
                unanswered.append(error)  # one connected account's trouble (revoked, say) holds up no other
                continue
            for event in events:
                if stopping():
                    break
                done[self._apply(event)] += 1
        news = {outcome: n for outcome, n in done.items() if outcome != "duplicate"}
        if news:
            log.info("applied Stripe events the webhook missed: %s",
                     ", ".join(f"{n} {outcome}" for outcome, n in sorted(news.items())))
        if unanswered:
            raise PaymentsUnavailable(f"{unanswered[0]} (for {len(unanswered)} of {len(accounts) - 1} connected "
                                      "accounts)")
        return done

    def _accounts(self) -> list[str | None]:
        """The platform's own events (None), and with Connect every connected account's."""
        if not self.connect:
            return [None]
        connected = Contractor.select(Contractor.payment_account).where(Contractor.payment_account.is_null(False))
        return [None, *sorted({row.payment_account for row in connected})]

    def _apply(self, event: dict) -> str:
        try:
            return apply_news(self.ctx, news_of(event))
        except Exception:  # the others still go in; this one is tried again at the next run
            log.exception("applying missed Stripe event %s failed; trying again at the next reconciliation",
                          event.get("id"))
            return "error"
