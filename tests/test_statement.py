"""The printable statement and the calendar behind the payment link (sms/pages.py, core/ics.py)."""

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from core.change_orders import apply_price_change
from core.context import Actor
from core.events import add_event, cancel_event, mark_event_done, reschedule_event
from core.jobs import set_customer_language
from core.payments import record_payment, unapply_refund
from core.pricing import PriceChange
from core.views import job_view
from core.wording.words import due_when, falls_due_on_a_day, format_when
from sms.app import create_app
from storage.models import Job, Payment, db
from tests.test_page_headers import assert_private


@pytest.fixture
def client(ctx):
    return create_app(ctx, public_base_url="https://pay.example", twilio_auth_token="t").test_client()


@pytest.fixture
def paid_and_refunded(ctx, clock, contractor, planned):
    """The countertop job: the deposit paid by card, the price up to $4,850.00, $200.00 of the card payment
    refunded, a check for $500.00, Removal done."""
    record_payment(ctx, Actor.system("stripe"), planned, 100_000, "card", reference="pi_1")
    clock.advance(days=1)
    apply_price_change(ctx, contractor, planned, PriceChange.total(485_000), because="signed on paper")
    clock.advance(days=1)
    with db.atomic():
        unapply_refund(ctx, Actor.system("stripe"), Job.get(Job.ref == planned),
                       Payment.get(Payment.reference == "pi_1"), refunded_in_all=20_000)
    clock.advance(days=7)
    mark_event_done(ctx, contractor, planned, "Removal")
    record_payment(ctx, contractor, planned, 50_000, "check")
    return planned


def link(ctx, ref, now=None):
    return "/p/" + ctx.links.token(ref, now or ctx.clock())


def words(html: str, heading: str) -> str:
    """The text of the card under `heading`, its tags dropped and its spaces squeezed."""
    section = html.split(f"<h2>{heading}</h2>", 1)[1].split("</div>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", section).split())


def test_the_statement_tells_the_whole_account_of_the_job(client, ctx, paid_and_refunded):
    response = client.get(link(ctx, paid_and_refunded) + "/statement")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Granite &amp; Co" in html and "(415) 555-0100" in html and "Dana Whitfield" in html
    assert "Kitchen countertops" in html and paid_and_refunded in html and "As of Thu, Dec 10" in html
    assert words(html, "Price") == "Kitchen countertops $4,850.00 Total $4,850.00"
    assert words(html, "Payment plan") == (
        "Payment Amount Paid "
        "Before Measurement (Thu, Dec 3) Due Wed, Dec 2, 9:00 AM $1,000.00 Paid $1,000.00 "
        "After Removal (Thu, Dec 10) Due Thu, Dec 10, 8:30 AM $1,283.33 Due now $300.00 "
        "After Installation (Thu, Dec 17) $2,566.67 Upcoming $0.00")
    assert words(html, "Payments received") == (
        "Date Method Amount Tue, Dec 1 Card $1,000.00 Thu, Dec 3 Refund -$200.00 Thu, Dec 10 Check $500.00")
    totals = " ".join(re.sub(r"<[^>]+>", " ", html.split('class="card totals">', 1)[1].split("\n</div>", 1)[0])
                      .split())
    assert "Total $4,850.00 Paid $1,300.00 Remaining $3,550.00" in totals
    assert words(html, "Price changes") == ("New price Wed, Dec 2 &middot; applied by Granite &amp; Co without your "
                                            "approval: signed on paper $4,000.00 &rarr; $4,850.00")
    assert "<script" not in html and "<style" not in html and "style=" not in html
    assert "<form" not in html and "<button" not in html and "tel:" not in html  # nothing to tap on paper
    assert_private(response)


def test_the_statement_shows_a_credit_owed(client, ctx, contractor, planned):
    record_payment(ctx, contractor, planned, 200_000, "cash")
    apply_price_change(ctx, contractor, planned, PriceChange.total(180_000), because="signed on paper")
    html = client.get(link(ctx, planned) + "/statement").get_data(as_text=True)
    assert "Credit owed to you" in html and "$200.00" in html
    assert words(html, "Payments received") == "Date Method Amount Tue, Dec 1 Cash $2,000.00"


def test_before_any_payment_the_statement_says_so(client, ctx, countertop_job):
    html = client.get(link(ctx, countertop_job) + "/statement").get_data(as_text=True)
    assert words(html, "Payments received") == "No payments yet."
    assert "The payment plan is not ready yet." in html and "Price changes" not in html


def test_the_statement_is_in_spanish_when_the_customer_reads_spanish(client, ctx, contractor, paid_and_refunded):
    set_customer_language(ctx, contractor, paid_and_refunded, "es")
    html = client.get(link(ctx, paid_and_refunded) + "/statement").get_data(as_text=True)
    assert '<html lang="es">' in html
    assert "Pagado" in html and "Restante" in html and "Cambios de precio" in html and "Volver a su trabajo" in html
    assert "jue, 10 de dic" in html  # the day as a Spanish reader writes it
    assert "<td>Tarjeta</td>" in html and "<td>Cheque</td>" in html  # how each payment was made, in Spanish
    assert ">Paid<" not in html and "Remaining" not in html


@pytest.mark.parametrize("path", ["/statement", "/calendar.ics"])
def test_a_bad_link_gets_the_link_error_page(client, ctx, clock, planned, path):
    token = ctx.links.token(planned, ctx.clock())
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense",
                ctx.links.token(planned, clock() - timedelta(days=91))):
        response = client.get(f"/p/{bad}{path}")
        html = response.get_data(as_text=True)
        assert response.status_code == 404 and response.mimetype == "text/html"
        assert "This link does not work" in html and planned not in html and "Dana" not in html


def test_the_payment_page_links_to_the_statement_and_the_calendar(client, ctx, contractor, planned):
    token = ctx.links.token(planned, ctx.clock())
    html = client.get(f"/p/{token}").get_data(as_text=True)
    assert f'<a href="/p/{token}/statement">Printable statement</a>' in html
    assert f'<a href="/p/{token}/calendar.ics">Add to calendar</a>' in html
    from core.jobs import Item, create_job

    bare = create_job(ctx, contractor, customer_name="Sam", phone="415 555 0177", title="Deck",
                      items=[Item("Deck", 10_000)])
    html = client.get(link(ctx, bare.ref)).get_data(as_text=True)
    assert "Printable statement" in html and "Add to calendar" not in html  # no day known: nothing to add
    css = client.get("/static/page.css").get_data(as_text=True)
    assert "@media print" in css and "@page" in css


# --- the calendar ------------------------------------------------------------------------------------------------


def calendar(client, ctx, ref):
    response = client.get(link(ctx, ref) + "/calendar.ics")
    assert response.status_code == 200
    return response, Calendar.from_ical(response.get_data())


def entries(cal) -> dict[str, object]:
    return {str(e["summary"]): e for e in cal.walk("VEVENT")}


def test_the_calendar_has_each_event_and_each_known_due_date(client, ctx, contractor, planned):
    response, cal = calendar(client, ctx, planned)
    assert response.mimetype == "text/calendar" and response.mimetype_params.get("charset") == "utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{planned}.ics"'
    assert_private(response)
    got = entries(cal)
    utc = timezone.utc
    assert got[f"Measurement: Kitchen countertops ({planned})"]["dtstart"].dt == datetime(2026, 12, 3, 14, tzinfo=utc)
    assert got[f"Removal: Kitchen countertops ({planned})"]["dtstart"].dt == datetime(2026, 12, 10, 13, tzinfo=utc)
    assert got[f"Installation: Kitchen countertops ({planned})"]["dtstart"].dt == datetime(2026, 12, 17, 14,
                                                                                             tzinfo=utc)
    # the only payment whose due date is known yet: 24 hours before Measurement
    due = got[f"Payment of $1,000.00 due: Kitchen countertops ({planned})"]
    assert due["dtstart"].dt == datetime(2026, 12, 2, 14, tzinfo=utc) and due["transp"] == "TRANSPARENT"
    assert "Before Measurement (Thu, Dec 3)" in str(due["description"])
    assert len(got) == 4
    for entry in got.values():
        assert entry["dtstart"].dt.utcoffset() == timedelta(0)
        assert re.search(r"^DTSTART:\d{8}T\d{6}Z\r$", entry.to_ical().decode(), re.M)  # in UTC: 20261203T140000Z
    assert "/p/" not in response.get_data(as_text=True)  # the link is the key to the job: never in a calendar


def test_a_day_with_no_time_is_an_all_day_entry(client, ctx, contractor, planned):
    from core.plans import send_plan, set_plan

    reschedule_event(ctx, contractor, planned, "Installation", date(2026, 12, 17))
    add_event(ctx, contractor, planned, "Walkthrough", date(2026, 12, 21))
    set_plan(ctx, contractor, planned, "25% 2 days before installation, 25% after removal, 25% on Dec 24, "
                                       "25% after walkthrough")
    send_plan(ctx, contractor, planned)
    _, cal = calendar(client, ctx, planned)
    got = entries(cal)
    install = got[f"Installation: Kitchen countertops ({planned})"]
    assert install["dtstart"].dt == date(2026, 12, 17) and install["dtend"].dt == date(2026, 12, 18)
    assert not isinstance(install["dtstart"].dt, datetime)
    payments = {e["dtstart"].dt: e for e in cal.walk("VEVENT") if str(e["summary"]).startswith("Payment of")}
    assert set(payments) == {date(2026, 12, 15), date(2026, 12, 24)}  # 2 days before a day: that day; a date
    assert payments[date(2026, 12, 15)]["dtend"].dt == date(2026, 12, 16)
    assert payments[date(2026, 12, 24)]["dtend"].dt == date(2026, 12, 25)
    assert got[f"Walkthrough: Kitchen countertops ({planned})"]["dtstart"].dt == date(2026, 12, 21)


def test_entries_keep_their_uid_and_a_cancelled_event_or_paid_payment_says_so(client, ctx, contractor, planned):
    _, first = calendar(client, ctx, planned)
    uids = {str(e["uid"]) for e in first.walk("VEVENT")}
    assert len(uids) == 4 and all(uid.endswith(f".{planned}@pay.example") for uid in uids)
    record_payment(ctx, contractor, planned, 100_000, "cash")
    cancel_event(ctx, contractor, planned, "Installation", "Removal")
    _, again = calendar(client, ctx, planned)
    got = entries(again)
    assert {str(e["uid"]) for e in again.walk("VEVENT")} == uids - {
        str(e["uid"]) for e in first.walk("VEVENT") if str(e["summary"]).startswith("Installation")}
    assert f"$1,000.00 paid: Kitchen countertops ({planned})" in got


def test_no_payment_is_in_the_calendar_before_the_plan_is_sent(client, ctx, contractor, countertop_job):
    from core.plans import set_plan

    set_plan(ctx, contractor, countertop_job, "25% before measurement, 75% after installation")
    _, cal = calendar(client, ctx, countertop_job)
    assert sorted(str(e["summary"]).split(":")[0] for e in cal.walk("VEVENT")) == [
        "Installation", "Measurement", "Removal"]


def test_a_payment_is_all_day_exactly_when_its_texts_say_the_day_alone(ctx, contractor, planned):
    """core/ics.py's rule and core/wording/words.py's due_when agree on every kind of trigger."""
    from core.plans import send_plan, set_plan

    reschedule_event(ctx, contractor, planned, "Installation", date(2026, 12, 17))
    set_plan(ctx, contractor, planned, "10% now, 10% before measurement, 10% 3 days before installation, "
                                       "10% 12 hours before installation, 10% after removal, 10% on Dec 24, "
                                       "40% after removal net 5")
    send_plan(ctx, contractor, planned)
    mark_event_done(ctx, contractor, planned, "Removal")
    view = job_view(Job.get(Job.ref == planned), ctx.clock())
    known = [m for m in view.milestones if m.due_at]
    assert len(known) == 7
    for m in known:
        assert due_when(m, view) == format_when(m.due_at, view, date_only=falls_due_on_a_day(m, view))
    assert [falls_due_on_a_day(m, view) for m in known] == [False, False, True, False, False, True, False]
