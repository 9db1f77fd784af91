"""The payment-link page: the customer's whole job on one small screen, and a clear page for a bad link."""

import re
from datetime import timedelta

import pytest

from core.change_orders import apply_price_change
from core.context import Actor
from core.events import mark_event_done
from core.payments import record_payment
from core.pricing import PriceChange
from sms.app import create_app


@pytest.fixture
def client(ctx):
    return create_app(ctx, public_base_url="https://pay.example", twilio_auth_token="t").test_client()


def path(ctx, ref, now=None):
    return "/p/" + ctx.links.token(ref, now or ctx.clock())


def page(client, url):
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


def test_the_page_tells_the_whole_story_of_the_job(client, ctx, clock, contractor, planned):
    record_payment(ctx, Actor.system("card"), planned, 100_000, "card", reference="ch_1")
    apply_price_change(ctx, contractor, planned, PriceChange.total(485_000), because="signed on paper")
    clock.advance(days=9)
    mark_event_done(ctx, contractor, planned, "Removal")
    status, html = page(client, path(ctx, planned))
    assert status == 200
    assert "Kitchen countertops" in html and planned in html and "Granite &amp; Co" in html
    for amount in ("$4,850.00", "$1,000.00", "$1,283.33", "$2,566.67", "$3,850.00"):
        assert amount in html
    assert html.index("Measurement") < html.index("Removal") < html.index("Installation")  # in order
    assert "Paid" in html and "Due now" in html and "Upcoming" in html
    assert "$4,000.00 &rarr; $4,850.00" in html  # the price history
    assert "<script" not in html and 'name="viewport"' in html


def test_the_page_shows_a_credit_owed(client, ctx, contractor, planned):
    record_payment(ctx, contractor, planned, 200_000, "check")
    apply_price_change(ctx, contractor, planned, PriceChange.total(180_000), because="signed on paper")
    status, html = page(client, path(ctx, planned))
    assert "Credit owed to you" in html and "$200.00" in html


def test_how_to_pay_shows_the_contractors_instructions_when_something_is_due(client, ctx, contractor, planned):
    from storage.models import Contractor

    Contractor.update(payment_instructions="Zelle to pay@granite.example").execute()
    mark_event_done(ctx, contractor, planned, "Removal")
    assert "Zelle to pay@granite.example" in page(client, path(ctx, planned))[1]


def test_an_expired_link_gets_a_clear_page(client, ctx, clock, planned):
    old = path(ctx, planned, clock() - timedelta(days=91))
    status, html = page(client, old)
    assert status == 404 and "expired" in html and "PAY" in html and planned not in html


@pytest.mark.parametrize("mangle", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # a changed signature
    lambda token: token.replace("J-", "J-X", 1),  # another job named, same signature
    lambda token: "nonsense",
    lambda token: "",
    lambda token: token.rsplit(".", 1)[0] + ".%C3%A9",  # a signature that is not ASCII
    lambda token: token.replace(".", ".\u0661\u0662", 1),  # digits, but not ASCII ones
    lambda token: token.replace(".", "." + "9" * 5000, 1),  # past Python's int-from-string limit
    lambda token: token + "%00",
])
def test_a_tampered_or_guessed_link_gets_a_clear_page_and_names_no_job(client, ctx, planned, mangle, caplog):
    status, html = page(client, "/p/" + mangle(ctx.links.token(planned, ctx.clock())))
    assert status == 404
    assert planned not in html and "Dana" not in html and "Traceback" not in html
    assert not [r for r in caplog.records if r.levelno >= 40]  # nothing logged as an error, no token in a log


def test_a_link_names_one_job_and_its_signature_cannot_be_moved_to_another(ctx, contractor, planned):
    from core.jobs import Item, create_job

    other = create_job(ctx, contractor, customer_name="Sam", phone="415 555 0177", title="Deck",
                       items=[Item("Deck", 10_000)])
    token = ctx.links.token(planned, ctx.clock())
    signature = token.rsplit(".", 1)[1]
    expiry = token.split(".")[1]
    forged = f"{other.ref}.{expiry}.{signature}"
    client = create_app(ctx, public_base_url="https://pay.example", twilio_auth_token="t").test_client()
    assert client.get("/p/" + forged).status_code == 404
    assert re.fullmatch(r"J-\w+\.\d+\.[\w-]{24}", token)  # 144 bits of signature: not guessable


def milestones_of(html: str) -> str:
    """The Payments list of the page, as text: its tags dropped, its spaces squeezed."""
    section = html.split("<h2>Payments</h2>", 1)[1].split("</ol>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", section).split())


def test_the_contractors_phone_is_written_as_the_customer_dials_it(client, ctx, contractor, planned):
    mark_event_done(ctx, contractor, planned, "Removal")  # something due: the page says whom to call about it
    html = page(client, path(ctx, planned))[1]
    assert html.count('<a href="tel:+14155550100">(415) 555-0100</a>') == 2
    assert "+14155550100<" not in html and "+14155550100." not in html  # never the raw E.164 as text


def test_without_a_phone_the_page_does_not_ask_to_call_the_business_by_name(client, ctx, contractor, planned):
    from storage.models import Contractor

    Contractor.update(phone="").execute()
    mark_event_done(ctx, contractor, planned, "Removal")
    html = page(client, path(ctx, planned))[1]
    assert "Questions? Reply to the text message.</p>" in html and "call Granite" not in html and "tel:" not in html


def test_a_label_that_only_restates_its_trigger_is_said_once(client, ctx, planned):
    payments = milestones_of(page(client, path(ctx, planned))[1])
    assert payments.startswith("Before Measurement (Thu, Dec 3) $1,000.00 Upcoming "
                               "After Removal (Thu, Dec 10) $1,000.00")
    assert "before Measurement" not in payments and "after Removal" not in payments


def test_a_label_of_its_own_keeps_what_it_is_tied_to_beside_it(client, ctx, contractor, countertop_job):
    from core.plans import send_plan, set_plan

    set_plan(ctx, contractor, countertop_job, "25% deposit before measurement, 75% after installation")
    send_plan(ctx, contractor, countertop_job)
    payments = milestones_of(page(client, path(ctx, countertop_job))[1])
    assert payments.startswith("Deposit before Measurement (Thu, Dec 3) $1,000.00")


def test_a_partly_paid_payment_says_what_is_left_of_it(client, ctx, contractor, planned):
    record_payment(ctx, contractor, planned, 40_000, "cash")
    payments = milestones_of(page(client, path(ctx, planned))[1])
    assert payments.startswith("Before Measurement (Thu, Dec 3) $400.00 paid, $600.00 left $1,000.00 Partly paid")


def test_only_the_payments_due_now_are_marked_in_the_list(client, ctx, clock, contractor, planned):
    clock.advance(days=9)
    mark_event_done(ctx, contractor, planned, "Removal")  # the deposit (before Measurement) and Removal's are due
    html = page(client, path(ctx, planned))[1]
    assert html.count('<li class="due-now">') == 2 and len(re.findall("<li[ >]", html)) == 3 + 3  # and 3 events


def test_names_show_on_the_page_as_they_were_typed(client, ctx, contractor, utc):
    from core.events import add_event
    from core.jobs import Item, create_job
    from core.plans import send_plan, set_plan

    job = create_job(ctx, contractor, customer_name="Đặng Zoë", phone="(415) 555-0134",
                     title="“Zoë’s” kitchen 🏠", items=[Item("Kitchen countertops", 400_000)])
    add_event(ctx, contractor, job.ref, "Монтаж", utc(2026, 12, 17, 14))
    set_plan(ctx, contractor, job.ref, "25% before монтаж, 75% after монтаж")
    send_plan(ctx, contractor, job.ref)
    html = page(client, path(ctx, job.ref))[1]
    assert "Before Монтаж (Thu, Dec 17)" in milestones_of(html) and "After Монтаж" in milestones_of(html)
    assert "“Zoë’s” kitchen 🏠" in html and "Montazh" not in html and "?" not in milestones_of(html)
