"""The payment page as a homeowner sees it: headless Chromium at a phone's 390x844 (tests/browser.py).

Each test saves what the phone shows to docs/screens/<name>.png, to be looked at, not only asserted on.
The page reads the same from either database, so these run on SQLite only.
"""

import re
from datetime import date, timedelta

import pytest

from core.context import Actor
from core.events import mark_event_done, reschedule_event
from core.payments import record_payment

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

LONG_INSTRUCTIONS = "Zelle to payments-and-invoices@graniteandcompanyfabrication.example, or a check to Granite & Co"

# Every piece of text the phone shows: where it is, how big, and whether anything hides it.
TEXTS = """() => [...document.querySelectorAll("body *")].flatMap(element => {
    const own = [...element.childNodes].filter(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!own.length) return [];
    const box = element.getBoundingClientRect(), style = getComputedStyle(element);
    return [{text: own.map(n => n.textContent.trim()).join(" "), left: box.left, right: box.right,
             size: parseFloat(style.fontSize), shown: box.width > 0 && box.height > 0
                 && style.visibility !== "hidden" && parseFloat(style.opacity) > 0}];
})"""


@pytest.fixture
def job(planned):
    """The countertop job (tests/conftest.py) under docs/design.md's reference, so a screenshot is the same each run."""
    from storage.models import Job

    Job.update(ref="J-7K2Q").where(Job.ref == planned).execute()
    return "J-7K2Q"


def link(ctx, ref, now=None):
    return "/p/" + ctx.links.token(ref, now or ctx.clock())


def texts(phone) -> list[dict]:
    return phone.page.evaluate(TEXTS)


def removal_done_deposit_paid(ctx, clock, contractor, ref):
    """Measurement's deposit paid by card, then Removal done nine days later: its payment is due now."""
    record_payment(ctx, Actor.system("card"), ref, 100_000, "card", reference="ch_1")
    clock.advance(days=9)
    mark_event_done(ctx, contractor, ref, "Removal")


def test_the_page_fits_a_phone_and_its_stylesheet_applies(phone, ctx, job):
    from storage.models import Contractor

    Contractor.update(payment_instructions=LONG_INSTRUCTIONS).execute()  # an address with no place to break
    response = phone.open(link(ctx, job))
    phone.screenshot("payment-page-plan-sent")
    assert response.status == 200
    assert not phone.scrolls_sideways()
    background = phone.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(246, 247, 248)"  # page.css, allowed by the Content-Security-Policy
    assert phone.problems == []  # no CSP refusal, no failed request, no error of any kind


def test_totals_and_timeline_can_be_read_on_a_phone(phone, ctx, clock, contractor, job):
    removal_done_deposit_paid(ctx, clock, contractor, job)
    phone.open(link(ctx, job))
    phone.screenshot("payment-page-due-now")
    totals = phone.page.locator(".totals").inner_text()
    assert re.sub(r"\s+", " ", totals) == "Total $4,000.00 Paid $1,000.00 Remaining $3,000.00 Due now $1,000.00"
    timeline = phone.page.locator("h2:has-text('Timeline') + .card").inner_text()
    assert timeline.split("\n") == ["Measurement", "Thu, Dec 3, 9:00 AM", "SCHEDULED",
                                     "Removal", "Thu, Dec 10, 8:30 AM", "DONE",
                                     "Installation", "Thu, Dec 17, 9:00 AM", "SCHEDULED"]
    shown, width = [t for t in texts(phone) if t["shown"]], phone.page.viewport_size["width"]
    assert {t["text"] for t in texts(phone)} == {t["text"] for t in shown}  # no text only in the HTML
    assert [t["text"] for t in shown if t["left"] < 0 or t["right"] > width] == []  # none off the screen
    assert [t["text"] for t in shown if t["size"] < 12] == []  # none too small to read
    assert phone.problems == []


def test_an_event_on_a_day_shows_the_day_without_a_made_up_time(phone, ctx, contractor, job):
    reschedule_event(ctx, contractor, job, "Installation", date(2026, 12, 17))  # "/move ... Dec 17": no time
    phone.open(link(ctx, job))
    phone.screenshot("payment-page-date-only")
    timeline = phone.page.locator("h2:has-text('Timeline') + .card").inner_text()
    assert "Installation\nThu, Dec 17\nSCHEDULED" in timeline and "12:00 AM" not in timeline
    assert phone.problems == []


def test_a_payment_due_now_stands_out_and_a_paid_one_shows_paid(phone, ctx, clock, contractor, job):
    removal_done_deposit_paid(ctx, clock, contractor, job)
    phone.open(link(ctx, job))
    rows = phone.page.locator("h2:has-text('Payments') + .card li")
    paid, due, upcoming = rows.nth(0), rows.nth(1), rows.nth(2)
    assert "PAID" in paid.inner_text() and "$1,000.00" in paid.inner_text()
    assert "DUE NOW" in due.inner_text() and "Removal" in due.inner_text()
    assert "UPCOMING" in upcoming.inner_text()

    def looks(row):
        return row.evaluate("r => [getComputedStyle(r).backgroundColor, getComputedStyle(r).borderLeftColor]")

    assert looks(due) != looks(upcoming) and looks(paid) == looks(upcoming)  # only the one due is marked
    assert phone.problems == []


def test_an_expired_link_gets_a_clear_page_on_a_phone(phone, ctx, clock, job):
    response = phone.open(link(ctx, job, clock() - timedelta(days=91)))
    phone.screenshot("link-expired")
    text = phone.page.locator("main").inner_text()
    assert response.status == 404 and "expired" in text and job not in text
    assert "reply PAY to the text you got from your contractor" in text  # to whom, not just "text PAY"
    assert not phone.scrolls_sideways() and phone.problems == []


def test_a_tampered_link_gets_a_clear_page_on_a_phone(phone, ctx, job):
    token = ctx.links.token(job, ctx.clock())
    response = phone.open("/p/" + token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    phone.screenshot("link-tampered")
    text = phone.page.locator("main").inner_text()
    assert response.status == 404 and "not valid" in text and job not in text and "Dana" not in text
    assert "reply PAY to the text you got from your contractor" in text
    assert not phone.scrolls_sideways() and phone.problems == []


def test_a_change_order_is_approved_with_a_tap_on_the_page(phone, ctx, contractor, job):
    from core.change_orders import propose_price_change
    from core.pricing import PriceChange
    from storage.models import ChangeOrder

    record_payment(ctx, Actor.system("card"), job, 100_000, "card", reference="ch_1")
    propose_price_change(ctx, contractor, job, PriceChange.add("Undermount sink", 85_000))
    phone.open(link(ctx, job))
    phone.screenshot("payment-page-change-order")
    card = phone.page.locator("form.change-order")
    assert "Change order 1: the price for Kitchen countertops from $4,000.00 to $4,850.00." in card.inner_text()
    assert "- After Removal: $1,000.00 -> $1,283.33" in card.inner_text()  # a line each, as the words are kept
    assert not phone.scrolls_sideways()
    phone.page.get_by_role("button", name="Approve").click()
    phone.page.wait_for_load_state()
    notice = phone.page.locator(".notice").inner_text()
    assert "Thank you: you approved the new price, $4,850.00." in notice
    assert phone.page.locator("form.change-order").count() == 0
    assert "approved by you on your page" in phone.page.locator("h2:has-text('Price changes') + .card").inner_text()
    order = ChangeOrder.get()
    assert order.state == "approved" and "HeadlessChrome" in order.request
    assert phone.problems == []
