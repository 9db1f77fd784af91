"""The payment-link page (a customer's whole job on one small screen, no JavaScript) and the health check.

Behind the same signed link: the job's printable statement (/statement), its calendar (/calendar.ics), and
the customer's Approve or Decline of a change order (core.change_orders).

A page is in its reader's language: the customer's for their job, the
browser's where no job says whose page it is (a link that does not work).
"""

import hashlib
import logging
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from core.change_orders import answer_on_page, waiting_on_page
from core.checkout import checkout_state, pay_methods, pay_options
from core.errors import NotFound
from core.export import payments_received
from core.health import worker_trouble
from core.ics import has_dates, job_calendar
from core.links import NOT_VALID
from core.plan import TriggerKind
from core.status import JobView, Status
from core.views import job_view, price_history
from core.wording.language import LANGUAGES, _, speaking
from core.wording.words import (
    STATES,
    capitalized,
    due_when,
    format_day,
    format_phone,
    format_when,
    held_until,
    label,
    method_words,
    money,
    reason_words,
    short_name,
    trigger_words,
)
from storage.models import Job

log = logging.getLogger(__name__)
bp = Blueprint("pages", __name__)


@bp.get("/healthz")
def healthz():
    """Whether the database answers and the worker turns the loop (core/health.py): 503 with the reason when not, for
    a load balancer or a watchdog to act on."""
    ctx = current_app.config["PAYSTAGE_CONTEXT"]
    try:
        trouble = worker_trouble(ctx.clock(), since=current_app.config["STARTED_AT"])
    except Exception as error:  # whatever the driver raises, the answer is the same
        log.warning("/healthz: the database does not answer (%s)", error.__class__.__name__)
        return {"status": "unavailable", "reason": "the database does not answer"}, 503
    if trouble:
        return {"status": "unavailable", "reason": trouble}, 503
    return {"status": "ok"}


def browsers_language() -> str | None:
    return request.accept_languages.best_match(LANGUAGES)


def linked_job(token: str) -> Job:
    """The job a payment link names; NotFound, saying what to do, when it is tampered with, expired or gone."""
    ctx = current_app.config["PAYSTAGE_CONTEXT"]
    with speaking(browsers_language()):
        job = Job.get_or_none(Job.ref == ctx.links.job_ref(token, ctx.clock()))
        if job is None:
            raise NotFound(_(NOT_VALID))
    return job


def link_error(error: NotFound):
    with speaking(browsers_language()):
        return render_template("link_error.html", message=str(error)), 404


@bp.get("/p/<token>")
def payment_page(token: str):
    ctx = current_app.config["PAYSTAGE_CONTEXT"]
    now = ctx.clock()
    try:
        job = linked_job(token)
    except NotFound as error:
        return link_error(error)
    ref = job.ref
    # Before the job: a payment recorded in between then shows in the totals under "confirming", never the
    # other way round ("received" over totals without it); the page refreshes itself while it confirms.
    returned = checkout_state(ref, request.args.get("checkout", ""))
    view = job_view(job, now)
    payments = current_app.config["PAYMENTS"]
    online = payments is not None and payments.takes_payments_for(job) and view.state == "active"
    options = [(option, pay_methods(view, option.amount, payments.bank_first_above))
               for option in pay_options(view)] if online else []

    with speaking(view.language):
        return render_template(
            "payment.html", job=view, history=_price_changes(job, view), options=options, token=token,
            returned=returned, payment_names=lambda milestones: ", ".join(short_name(m) for m in milestones),
            calendar=has_dates(view), waiting=waiting_on_page(ctx, ref) if view.state == "active" else None,
            answered=request.args.get("change", ""), **_helpers(view))


def on_a_link(page):
    """A page behind a payment link, given the linked job and its view now; a bad link gets the link's error."""

    @wraps(page)
    def answer(token: str, **rest):
        try:
            job = linked_job(token)
        except NotFound as error:
            return link_error(error)
        return page(token, job, job_view(job, current_app.config["PAYSTAGE_CONTEXT"].clock()), **rest)

    return answer


@bp.post("/p/<token>/change/<int:number>")
@on_a_link
def answer_change(token: str, job: Job, view: JobView, number: int):
    """Approve or Decline under a change order on the page. The request is the evidence: where it came from, the
    browser, which link (by a digest: the link itself is a key to the page, not for a record). Then the page again,
    saying what became of it; a second tap of the same button finds nothing waiting and changes nothing."""
    ctx = current_app.config["PAYSTAGE_CONTEXT"]
    approve = request.form.get("answer") == "approve"
    browser = request.user_agent.string[:300]
    link = hashlib.sha256(token.encode()).hexdigest()[:16]
    evidence = f"address {request.remote_addr}; browser {browser}; link {link}"
    answered = answer_on_page(ctx, job.ref, number, approve, request.form.get("shown", ""), evidence)
    return redirect(url_for("pages.payment_page", token=token, change=answered.outcome), 303)


@bp.get("/p/<token>/statement")
@on_a_link
def statement(token: str, job: Job, view: JobView):
    """The job on paper: what it costs, the plan, every payment and refund, the totals; printed or saved as a
    PDF by the browser (page.css's print styles: no buttons or links on paper, A4 and Letter margins)."""
    with speaking(view.language):
        received = [(format_day(moved.at, view),
                     _("Refund") if moved.refund else capitalized(method_words(moved.method)),
                     money(view, moved.amount)) for moved in payments_received(job)]
        return render_template("statement.html", job=view, history=_price_changes(job, view), received=received,
                               token=token, today=format_day(view.now, view),
                               # when each payment falls due, once the customer has the plan ("on Dec 20" says it)
                               due=lambda m: due_when(m, view) if m.due_at and view.plan_sent
                               and m.trigger.kind is not TriggerKind.DATE else "",
                               **_helpers(view))


@bp.get("/p/<token>/calendar.ics")
@on_a_link
def calendar(token: str, job: Job, view: JobView):
    """The job's events and payment due dates for the customer's calendar (core/ics.py), in their language."""
    with speaking(view.language):
        body = job_calendar(view, urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "paystage")
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{view.ref}.ics"'})


def _price_changes(job: Job, view: JobView) -> list:
    """Each price change: its day in the customer's timezone, as every other date on the page ("Thu, Dec 10"),
    the change, and its old and new totals. Within the customer's language."""
    return [(format_day(change.at, view), change, money(view, change.old_total), money(view, change.new_total))
            for change in price_history(job)]


def _helpers(view: JobView) -> dict:
    """What the page and the statement say a job's parts with, in the language being spoken."""
    now = view.now

    def named(m) -> tuple[str, str]:
        """A milestone's name and what it is tied to; said once when it has no name but its trigger."""
        name, tied_to = label(m), trigger_words(m, view)
        return (name, tied_to) if name else (capitalized(tied_to), "")

    def state(m) -> tuple[str, str]:
        """A milestone's state as a class for its colour and the words: due and overdue only while asked for."""
        status = m.status
        if m.is_due(now):
            status = Status.OVERDUE if m.status is Status.OVERDUE else Status.DUE
        elif status in (Status.DUE, Status.OVERDUE):
            status = Status.UPCOMING
        return status.value.split()[0], capitalized(_(STATES[status]))

    def agreed(change) -> str:
        """How a price change was agreed, once the plan was sent: the customer's approval, or the reason the
        contractor gave for applying it without."""
        if change.approved_via:
            return _("approved by you by text") if change.approved_via == "sms" else _("approved by you on your page")
        if change.because:
            return _("applied by {business} without your approval: {because}").format(
                business=view.business_name, because=change.because)
        return ""

    return dict(
        money=lambda cents: money(view, cents), named=named, state=state, reason=reason_words, agreed=agreed,
        when=lambda moment, date_only=False: format_when(moment, view, date_only) if moment
        else _("not scheduled yet"),
        phone=format_phone(view.business_phone, view), held_until=held_until(view))
