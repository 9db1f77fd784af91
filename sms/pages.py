"""The payment-link page (a customer's whole job on one small screen, no JavaScript) and the health check."""

from flask import Blueprint, current_app, render_template, request

from core.checkout import checkout_state, pay_methods, pay_options
from core.errors import NotFound
from core.links import NOT_VALID
from core.money import format_money
from core.views import job_view, price_history
from core.wording.words import format_day, format_phone, format_when, label, trigger_words
from storage.models import Job

bp = Blueprint("pages", __name__)


@bp.get("/healthz")
def healthz():
    Job.select().limit(1).execute()  # the database answers
    return {"status": "ok"}


def linked_job(token: str) -> Job:
    """The job a payment link names; NotFound, saying what to do, when it is tampered with, expired or gone."""
    ctx = current_app.config["PAYSTAGE_CONTEXT"]
    job = Job.get_or_none(Job.ref == ctx.links.job_ref(token, ctx.clock()))
    if job is None:
        raise NotFound(NOT_VALID)
    return job


def link_error(error: NotFound):
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

    def money(cents: int) -> str:
        return format_money(cents, view.currency, view.locale)

    def named(m) -> tuple[str, str]:
        """A milestone's name and what it is tied to; said once when the label only restates the trigger."""
        name, tied_to = label(m), trigger_words(m, view)
        if not name:  # "Before Measurement" over "before Measurement (Thu, Dec 3)"
            return tied_to[:1].upper() + tied_to[1:], ""
        return name, tied_to

    # the day in the customer's timezone, as every other date on the page ("Thu, Dec 10"; a UTC date was a day
    # late for a change made in the evening)
    history = [(format_day(change.at, view), change, money(change.old_total),
                money(change.new_total)) for change in price_history(job)]
    payments = current_app.config["PAYMENTS"]
    online = payments is not None and payments.takes_payments_for(job) and view.state == "active"
    options = [(option, pay_methods(view, option.amount, payments.bank_first_above))
               for option in pay_options(view)] if online else []
    return render_template("payment.html", job=view, money=money, history=history, options=options, token=token,
                           returned=returned,
                           when=lambda moment, date_only=False: format_when(moment, view, date_only) if moment
                           else "not scheduled yet",
                           named=named, phone=format_phone(view.business_phone, view))
