"""Paying from the page in a real browser at a phone's 390x844: our page, the fake Stripe's checkout page, and back.

The browser follows the Pay form's redirect to the checkout itself, so the page's Content-Security-Policy is put
to the test as a phone applies it (form-action covers where a form's redirect goes). Each test saves what the
phone shows to docs/screens/<name>.png. SQLite only, as tests/test_page_in_browser.py.
"""

import re
import time

import pytest

from core.change_orders import apply_price_change
from core.context import Actor
from core.events import mark_event_done
from core.payments import record_payment
from core.pricing import PriceChange
from storage.models import Checkout, Job

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

DOLLARS = 100
CONFIRMING = "We are confirming your payment"


@pytest.fixture
def removal_due(ctx, clock, contractor, planned):
    """The countertop job under docs/design.md's reference: the deposit paid by card, Removal done nine days later,
    so its $1,000.00 is due now and $3,000.00 is left in all."""
    Job.update(ref="J-7K2Q").where(Job.ref == planned).execute()
    record_payment(ctx, Actor.system("card"), "J-7K2Q", 1_000 * DOLLARS, "card", reference="ch_1")
    clock.advance(days=9)
    mark_event_done(ctx, contractor, "J-7K2Q", "Removal")
    return "J-7K2Q"


def pay_form(phone, says: str):
    """The Pay form whose line says `says` ("Due now", "The whole balance")."""
    return phone.page.locator("form.pay", has_text=says)


def tap(phone, button):
    """Tap `button` and wait for the page it leads to (through any redirect); what the browser said if it did not
    go there (a Content-Security-Policy that refuses where the form's redirect goes aborts the navigation)."""
    from playwright.sync_api import Error

    try:
        with phone.page.expect_navigation():
            button.tap()
    except Error as error:
        phone.page.wait_for_timeout(500)  # the browser's console message comes after the navigation's abort
        raise AssertionError(f"{error.message.splitlines()[0]}; the browser said: {phone.problems}") from None


def confirmed(phone, timeout: float = 10.0) -> str:
    """The page's text once the payment is confirmed (Stripe's webhook applied). Until then the page says it is
    confirming and reloads itself (a meta refresh: no script), as a customer would reload it."""
    from playwright.sync_api import TimeoutError as NoNavigation  # here: without the wheel, deselected, not broken

    deadline = time.monotonic() + timeout
    while CONFIRMING in (text := phone.page.locator("main").inner_text()):
        assert time.monotonic() < deadline, f"the page still says {CONFIRMING!r} after {timeout} s"
        try:
            with phone.page.expect_navigation(timeout=5_000):
                pass  # the page's own refresh
        except NoNavigation:
            raise AssertionError("the confirming page did not reload itself within 5 s") from None
    return text


def at_checkout(phone, stripe_api) -> bool:
    return phone.page.url.startswith(stripe_api.base_url + "/checkout/cs_")


def test_paying_what_is_due_by_card_comes_back_to_a_page_that_says_paid(phone, live_server, stripe_api,
                                                                          removal_due):
    phone.open(live_server.link(removal_due))
    phone.screenshot("pay-buttons", full_page=False)  # the first screen: README.md shows it
    due = pay_form(phone, "Due now")
    assert "$1,000.00" in due.inner_text()
    stripe_api.hold_deliveries()  # Stripe's webhook comes a moment after the customer is back
    tap(phone, due.get_by_role("button", name="Pay by card"))
    assert at_checkout(phone, stripe_api)  # the browser followed the form's redirect: the CSP allowed it
    tap(phone, phone.page.get_by_role("button", name="Pay $1,000.00 by card"))
    assert phone.page.url.startswith(live_server.base + live_server.link(removal_due) + "?checkout=")
    assert CONFIRMING + " of $1,000.00" in phone.page.locator("main").inner_text()
    assert phone.page.locator("form.pay").count() == 0  # no second button for what was just paid
    phone.screenshot("pay-card-confirming")
    stripe_api.release()
    text = confirmed(phone)
    phone.screenshot("pay-card-paid")
    assert "Thank you: your payment of $1,000.00 was received." in text
    removal = phone.page.locator("h2:has-text('Payments') + .card li", has_text="After Removal")
    assert "PAID" in removal.inner_text() and "DUE NOW" not in text
    assert phone.problems == []  # no CSP violation, on our page or at the checkout


def test_starting_a_bank_transfer_comes_back_to_a_page_that_says_processing(phone, live_server, stripe_api,
                                                                           removal_due):
    phone.open(live_server.link(removal_due))
    tap(phone, pay_form(phone, "Due now").get_by_role("button", name="Pay by bank transfer"))
    assert at_checkout(phone, stripe_api)
    tap(phone, phone.page.get_by_role("button", name="Pay $1,000.00 by bank transfer (ACH)"))
    text = confirmed(phone)
    phone.screenshot("pay-bank-processing")
    assert "Your bank transfer of $1,000.00 is on its way." in text
    removal = phone.page.locator("h2:has-text('Payments') + .card li", has_text="After Removal")
    assert "BANK TRANSFER PROCESSING" in removal.inner_text()
    assert "Due now" not in phone.page.locator("form.pay").all_inner_texts()  # nothing more to pay for it
    assert phone.problems == []


def test_a_pay_form_with_a_tampered_link_starts_no_payment(phone, live_server, stripe_api, removal_due):
    phone.open(live_server.link(removal_due))
    form = pay_form(phone, "Due now")
    form.evaluate("f => f.action = f.action.replace(/..\\/pay$/, 'AA/pay')")  # the token's signature changed
    tap(phone, form.get_by_role("button", name="Pay by card"))
    text = phone.page.locator("main").inner_text()
    assert phone.page.url.startswith(live_server.base) and "This link does not work" in text
    assert "not valid" in text and removal_due not in text and "$" not in text
    assert Checkout.select().count() == 0 and stripe_api.requests == []  # Stripe was not even asked
    assert phone.problems == []


def test_a_price_change_while_at_the_checkout_shows_what_was_paid_and_the_credit(phone, ctx, contractor,
                                                                                   live_server, stripe_api,
                                                                                   removal_due):
    phone.open(live_server.link(removal_due))
    tap(phone, pay_form(phone, "The whole balance").get_by_role("button", name="Pay by card"))
    assert at_checkout(phone, stripe_api)
    # $500 less, meanwhile
    apply_price_change(ctx, contractor, removal_due, PriceChange.total(3_500 * DOLLARS), because="signed on paper")
    tap(phone, phone.page.get_by_role("button", name="Pay $3,000.00 by card"))  # the amount of the old price
    text = confirmed(phone)
    phone.screenshot("pay-price-changed")
    totals = re.sub(r"\s+", " ", phone.page.locator(".totals").inner_text())
    assert totals == "Total $3,500.00 Paid $4,000.00 Remaining $0.00 Credit owed to you $500.00"
    assert "Thank you: your payment of $3,000.00 was received." in text
    assert "You have paid $4,000.00 of $3,500.00: $500.00 is credit owed to you." in text
    assert [row.split("\n")[-1] for row in phone.page.locator("h2:has-text('Payments') + .card li").all_inner_texts()] \
        == ["PAID", "PAID", "PAID"]
    assert phone.page.locator("form.pay").count() == 0  # nothing left to pay
    changes = phone.page.locator("h2:has-text('Price changes') + .card").inner_text()
    assert re.sub(r"\s+", " ", changes) == ("New price Thu, Dec 10 · applied by Granite & Co without your approval: "
                                           "signed on paper $4,000.00 → $3,500.00")  # dated as the rest
    assert phone.problems == []
