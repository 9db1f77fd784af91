"""A contractor's own payment account (Stripe Connect): their customers' payments go straight to them.

With one account for the whole install this is not used. With Connect, a
contractor sends /payments, gets a link to the provider's onboarding, and
their page takes payments once the provider says the account can take them
(the contractor comes back from onboarding, sends /payments again, or the
provider's account.updated event arrives). Until then their page keeps
their own payment instructions.
"""

from dataclasses import dataclass
from typing import Protocol

from core.context import Actor, Context
from core.journal import audit
from storage.models import Contractor, db


class Onboarding(Protocol):
    def create_account(self, contractor_id: int, business_name: str) -> str:
        """A new connected account for the contractor; its id."""

    def onboarding_link(self, account: str, *, refresh_url: str, return_url: str) -> str:
        """A one-time link to the provider's onboarding for `account`."""

    def can_take_payments(self, account: str) -> bool:
        """Whether the account finished onboarding (Stripe: charges_enabled)."""


@dataclass(frozen=True)
class Connection:
    ready: bool
    link: str | None = None  # where to finish onboarding, while not ready


def connect_payments(ctx: Context, actor: Actor, onboarding: Onboarding, *, refresh_url: str,
                     return_url: str) -> Connection:
    """The contractor's account, made at the first /payments; ready, or the link to finish setting it up."""
    contractor = Contractor.get_by_id(int(actor.key))
    if contractor.payment_account_ready:
        return Connection(ready=True)
    account = contractor.payment_account
    if account is None:
        account = onboarding.create_account(contractor.id, contractor.business_name)
        with db.atomic():
            Contractor.update(payment_account=account).where(Contractor.id == contractor.id).execute()
            audit(None, actor, "payment_account_created", ctx.clock(), new={"account": account})
    elif onboarding.can_take_payments(account):
        account_ready(ctx, account, True)
        return Connection(ready=True)
    return Connection(ready=False, link=onboarding.onboarding_link(account, refresh_url=refresh_url,
                                                                   return_url=return_url))


def account_ready(ctx: Context, account: str, ready: bool) -> bool:
    """The provider says whether `account` can take payments; True when that changed anything."""
    with db.atomic():
        changed = (Contractor.update(payment_account_ready=ready)
                   .where(Contractor.payment_account == account, Contractor.payment_account_ready != ready).execute())
        if changed:
            contractor = Contractor.get(Contractor.payment_account == account)
            audit(None, Actor.system("stripe"), "payment_account_ready" if ready else "payment_account_paused",
                  ctx.clock(), new={"account": account, "contractor": contractor.id})
    return bool(changed)
