"""The statement printed: headless Chromium (tests/browser.py) saves it as a PDF on A4 and on Letter, as a
customer's "Save as PDF" would, and on paper nothing shows that only works on a screen: no button, no link.

The page reads the same from either database, so these run on SQLite only, as the other browser tests do.
"""

import re

import pytest

from core.context import Actor
from core.events import mark_event_done
from core.payments import record_payment

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

# Every element the page shows (a size, not hidden): what would be on paper under print media.
SHOWN = """selector => [...document.querySelectorAll(selector)].filter(element => {
    const box = element.getBoundingClientRect(), style = getComputedStyle(element);
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden";
}).map(element => element.outerHTML.slice(0, 80))"""


@pytest.fixture
def job(ctx, clock, contractor, planned):
    """The countertop job under docs/design.md's reference: the deposit paid by card, Removal done and due."""
    from storage.models import Job

    Job.update(ref="J-7K2Q").where(Job.ref == planned).execute()
    record_payment(ctx, Actor.system("card"), "J-7K2Q", 100_000, "card", reference="ch_1")
    clock.advance(days=9)
    mark_event_done(ctx, contractor, "J-7K2Q", "Removal")
    return "J-7K2Q"


def pages(pdf: bytes) -> int:
    """How many pages a PDF has: its page objects (/Type /Page, not the /Pages tree above them)."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_the_statement_prints_to_pdf_with_nothing_to_tap(phone, live_server, job):
    response = phone.open(live_server.link(job) + "/statement")
    assert response.status == 200
    phone.screenshot("statement")
    assert not phone.scrolls_sideways()
    assert phone.page.evaluate(SHOWN, "a, .actions, .screen-only")  # on the screen: the way back, how to print
    phone.page.emulate_media(media="print")
    assert phone.page.evaluate(SHOWN, "a, button, form, .actions, .screen-only") == []
    assert phone.page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    printed = phone.page.locator("main").inner_text()
    assert "Payments received" in printed and "$1,000.00" in printed and "Back to your job" not in printed
    for paper in ("A4", "Letter"):
        pdf = phone.page.pdf(format=paper, prefer_css_page_size=True)
        assert pdf.startswith(b"%PDF-") and pages(pdf) >= 1
    assert phone.problems == []


def test_the_payment_page_prints_without_its_pay_buttons(phone, live_server, stripe_api, job):
    phone.open(live_server.link(job))
    assert phone.page.get_by_role("button", name="Pay by card").count() >= 1  # on the screen, to tap
    phone.page.emulate_media(media="print")
    assert phone.page.evaluate(SHOWN, "button, form, .actions") == []
    assert "Due now" in phone.page.locator(".totals").inner_text()  # what is owed is still on paper
    assert pages(phone.page.pdf(format="Letter")) >= 1
    assert phone.problems == []
