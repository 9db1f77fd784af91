"""Changing a job's price: working out old and new amounts, and writing them.

A price change is one of: a new total, a line item added, removed or edited.
The preview, the change order the customer approves and the writing run the
same calculation (core.allocation.recalculate) on the same facts, so what the
contractor confirmed is what the customer is told. When it is written, and
who agreed to it, is core.change_orders'.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from core.allocation import Allocation, recalculate, slots
from core.context import Actor, Context
from core.due import announce_due
from core.errors import InvalidInput
from core.jobs import Item, check_amounts, check_total, load_job, require_active
from core.journal import audit, tell_contractor
from core.matching import match_name
from core.money import format_money
from core.payments import apply_payments, payment_order
from core.plan import TriggerKind
from core.reach import reach
from core.status import AmountChange, PriceChangeView
from core.views import job_paid, job_view, trigger_of
from core.wording import contractor_texts
from core.wording.language import N_, _
from storage.models import AuditRecord, Event, Job, LineItem, Milestone, db

# Names we give a milestone and a line item, stored in English as written here: N_ puts them in the catalog, for
# the texts that show them to translate where read, as core.wording.words does with the plan parser's names.
EXTRA_LABEL = N_("Balance after price change")
ADJUSTMENT = N_("Price adjustment")


@dataclass(frozen=True)
class PriceChange:
    """What the contractor asked for. kind: total, add, remove, edit."""

    kind: str
    description: str = ""
    amount: int = 0

    @classmethod
    def total(cls, amount: int) -> "PriceChange":
        return cls("total", amount=amount)

    @classmethod
    def add(cls, description: str, amount: int) -> "PriceChange":
        return cls("add", description, amount)

    @classmethod
    def remove(cls, description: str) -> "PriceChange":
        return cls("remove", description)

    @classmethod
    def edit(cls, description: str, amount: int) -> "PriceChange":
        return cls("edit", description, amount)


@dataclass(frozen=True)
class WorkedOut:
    """A change worked out on the job as it stands: new line items, new amounts, and the view of both."""

    change: PriceChange
    items: list[tuple[str, int]]  # (description, amount) after the change
    milestones: list[Milestone]
    allocation: Allocation
    view: PriceChangeView


def preview_price_change(ctx: Context, actor: Actor, ref: str, change: PriceChange) -> PriceChangeView:
    """Old and new amounts per milestone; nothing is written."""
    with db.atomic():
        job = load_job(actor, ref)
        require_active(job)
        return work_out(job, change, ctx.clock()).view


def work_out(job: Job, change: PriceChange, now: datetime) -> WorkedOut:
    """The change on the job as it stands: refused (InvalidInput, Conflict) when it cannot be made."""
    items = [(i.description, i.amount) for i in job.line_items.order_by(LineItem.position)]
    milestones = list(Milestone.select().where(Milestone.job == job).order_by(Milestone.position))
    paid = job_paid(job)
    new_items, reason = _changed_items(items, change, job.currency, job.locale)
    old_total, new_total = sum(a for _d, a in items), sum(a for _d, a in new_items)
    check_total(new_total, job.currency, job.locale)  # the same bounds as a new job's
    events = {e.id: e for e in Event.select().where(Event.job == job)}
    allocation = _recalculate(milestones, new_total, paid, now)
    changes = [AmountChange(m.label, m.amount, new, m.paid, trigger_of(m, events))
               for m, new in zip(milestones, allocation.amounts)]
    if allocation.unplaced:
        changes.append(AmountChange(EXTRA_LABEL, 0, allocation.unplaced, 0))
    # its credit is the job view's (core.status.credit_of): all that was received beyond the new total
    view = PriceChangeView(reason=reason, old_total=old_total, new_total=new_total, paid=paid, changes=tuple(changes))
    return WorkedOut(change, new_items, milestones, allocation, view)


def write_price_change(ctx: Context, actor: Actor, job: Job, worked: WorkedOut, now: datetime,
                       **noted) -> AuditRecord:
    """Write the new line items and amounts, apply what was paid, and record it (`noted`: how it was agreed). The
    payments it makes due are announced; the contractor hears of a credit. The job's row must be locked."""
    LineItem.delete().where(LineItem.job == job).execute()
    for position, (description, amount) in enumerate(worked.items):
        LineItem.create(job=job, position=position, description=description, amount=amount)
    for m, amount in zip(worked.milestones, worked.allocation.amounts):
        if amount != m.amount:
            Milestone.update(amount=amount).where(Milestone.id == m.id).execute()
    if worked.allocation.unplaced:
        _add_extra_milestone(job, worked.allocation.unplaced, len(worked.milestones), now)
    apply_payments(job, now)
    view = worked.view
    record = audit(job, actor, "price_changed", now,
                   old={"total": view.old_total, "amounts": [c.old for c in view.changes]},
                   new={"total": view.new_total, "amounts": [c.new for c in view.changes],
                        "reason": view.reason, "credit": view.credit, **noted})
    if job.plan_sent_at:
        announce_due(ctx, job, now)
    if view.credit:
        after = job_view(job, now)
        tell_contractor(job.contractor, job, "credit_owed", contractor_texts.credit_owed(after, reach(
            after, ctx.quiet_hours)), key=f"job:{job.id}:credit:{record.id}", now=now)
    return record


def _recalculate(milestones: list[Milestone], total: int, paid: int, now: datetime) -> Allocation:
    """The milestones' amounts at `total`, `paid` having been received on the job in all."""
    if not milestones:  # without a plan there is nothing to recalculate: the price simply changes
        return Allocation((), 0, 0)
    # what no milestone holds yet goes to the open ones once the amounts are written (apply_payments, in its order)
    unapplied = max(paid - sum(m.paid for m in milestones), 0)
    index = {m.id: i for i, m in enumerate(milestones)}
    order = [index[m.id] for m in payment_order(milestones, now)]
    return recalculate(total, slots(milestones, total), unapplied, order)


def _changed_items(items: list[tuple[str, int]], change: PriceChange, currency: str,
                   locale: str) -> tuple[list[tuple[str, int]], str]:
    """The line items after the change, and the change in words."""
    money = partial(format_money, currency=currency, locale=locale)
    total = sum(a for _d, a in items)
    names = [d for d, _a in items]
    if change.kind == "total":
        if change.amount == total:
            raise InvalidInput(_("The price is already {price}.").format(price=money(total)))
        # the old and new totals say it all: no reason in words
        if len(items) == 1:
            return [(items[0][0], change.amount)], ""
        return items + [(ADJUSTMENT, change.amount - total)], ""
    if change.kind == "add":
        description = " ".join(change.description.split())
        if not description:
            raise InvalidInput(_("The new line item needs a description. Example: /add J-7K2Q Undermount sink, $350"))
        check_amounts([Item(description, change.amount)], currency, locale)
        return items + [(description[:200], change.amount)], f"Added: {description} {money(change.amount)}"
    index = names.index(match_name(change.description, names, noun="line item"))
    described, old = items[index]
    if change.kind == "remove":
        if len(items) == 1:
            raise InvalidInput(_("{item} is the job's only line item. To change the price use /price.").format(
                item=described))
        return items[:index] + items[index + 1:], f"Removed: {described} ({money(old)})"
    if change.amount == old:
        raise InvalidInput(_("{item} already costs {price}.").format(item=described, price=money(old)))
    check_amounts([Item(described, change.amount)], currency, locale)
    return items[:index] + [(described, change.amount)] + items[index + 1:], \
        f"Changed: {described} {money(old)} -> {money(change.amount)}"


def _add_extra_milestone(job: Job, amount: int, position: int, now: datetime) -> None:
    """The price rose after every percentage milestone was paid: the difference is due now as its own milestone."""
    Milestone.create(job=job, position=position, label=EXTRA_LABEL, fixed=amount, amount=amount,
                     trigger_kind=TriggerKind.NOW.value, due_at=now if job.plan_sent_at else None)

