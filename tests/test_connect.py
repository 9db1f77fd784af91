"""Each contractor's own Stripe account (STRIPE_CONNECT=on): /payments, onboarding, and payments into it."""

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from bot.commands import OnlinePaymentsSetup
from core.checkout import start_checkout
from core.provider_events import ACCOUNT, PaymentNews, apply_news
from sms.app import create_app
from sms.payments import OnlinePayments
from storage.models import Contractor
from tests.bot_harness import Chat, start_bot

PUBLIC = "https://pay.example"


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def chat_with(api, ctx, payments) -> Chat:
    runner = start_bot(api, ctx, payments=payments)
    chat = Chat(api, runner, 555)
    chat.say("/start")
    return chat


@pytest.fixture
def connect_chat(api, ctx, gateway):
    chat = chat_with(api, ctx, OnlinePaymentsSetup(connect=True, onboarding=gateway, public_base_url=PUBLIC))
    yield chat
    chat.runner.stop()


def web(ctx, gateway, stripe_api):
    payments = OnlinePayments(gateway, ("whsec_x",), 100_000, connect=True, checkout_origin=stripe_api.base_url)
    return create_app(ctx, public_base_url=PUBLIC, twilio_auth_token="t", payments=payments).test_client()


def finish_onboarding(link: str, action: str = "submit") -> str:
    """The contractor goes through Stripe's onboarding page; where Stripe sends them back."""
    opener = urllib.request.build_opener(NoRedirects)
    try:
        opener.open(urllib.request.Request(link, data=urllib.parse.urlencode({"action": action}).encode()))
    except urllib.error.HTTPError as redirect:
        with redirect:
            assert redirect.code == 303
            return redirect.headers["Location"]
    raise AssertionError("no redirect")


def test_payments_sends_a_stripe_onboarding_link_and_keeps_the_instructions_until_done(
        connect_chat, ctx, gateway, stripe_api, planned):
    [reply] = connect_chat.say("/payments")
    link = re.search(r"http\S+", reply["text"]).group()
    assert link.startswith(stripe_api.base_url + "/connect/onboarding/") and "works once" in reply["text"]
    contractor = Contractor.get(Contractor.telegram_id == 555)
    assert contractor.payment_account.startswith("acct_") and not contractor.payment_account_ready
    page = web(ctx, gateway, stripe_api).get("/p/" + ctx.links.token(planned, ctx.clock())).get_data(as_text=True)
    assert "Pay by card" not in page  # not until Stripe says the account can take payments


def test_back_from_onboarding_the_page_takes_payments_into_the_contractors_account(
        connect_chat, ctx, gateway, stripe_api, planned):
    link = re.search(r"http\S+", connect_chat.say("/payments")[0]["text"]).group()
    back = finish_onboarding(link)
    assert back.startswith(f"{PUBLIC}/connect/back/")
    client = web(ctx, gateway, stripe_api)
    answer = client.get(back.removeprefix(PUBLIC))
    assert answer.status_code == 200 and "Your payments are set up" in answer.get_data(as_text=True)
    contractor = Contractor.get(Contractor.telegram_id == 555)
    assert contractor.payment_account_ready
    assert "Pay by card" in client.get("/p/" + ctx.links.token(planned, ctx.clock())).get_data(as_text=True)
    start_checkout(ctx, gateway, planned, "next", "card", page_url=PUBLIC + "/p/x", account=contractor.payment_account)
    [session] = [r for r in stripe_api.requests if r["path"] == "/v1/checkout/sessions"]
    assert session["account"] == contractor.payment_account
    assert "connected" in connect_chat.say("/payments")[0]["text"]


def test_leaving_onboarding_unfinished_says_what_is_left(connect_chat, ctx, gateway, stripe_api):
    link = re.search(r"http\S+", connect_chat.say("/payments")[0]["text"]).group()
    back = finish_onboarding(link, action="leave")
    html = web(ctx, gateway, stripe_api).get(back.removeprefix(PUBLIC)).get_data(as_text=True)
    assert "Almost there" in html and not Contractor.get(Contractor.telegram_id == 555).payment_account_ready
    assert finish_onboarding(link) == f"{PUBLIC}/connect/again"  # a used link: Stripe sends them to refresh_url


def test_a_forged_return_link_changes_nothing(ctx, gateway, stripe_api, contractor):
    assert web(ctx, gateway, stripe_api).get("/connect/back/C1.99999999999.forged").status_code == 404


def test_the_account_updated_event_turns_payments_on(connect_chat, ctx, stripe_api):
    connect_chat.say("/payments")
    account = Contractor.get(Contractor.telegram_id == 555).payment_account
    assert apply_news(ctx, PaymentNews("evt_a", ACCOUNT, account=account, ready=True)) == ACCOUNT
    assert Contractor.get(Contractor.telegram_id == 555).payment_account_ready


def test_payments_without_connect_or_stripe_says_how_customers_pay(api, ctx, gateway):
    shared = chat_with(api, ctx, OnlinePaymentsSetup(connect=False, onboarding=gateway, public_base_url=PUBLIC))
    try:
        assert "this Paystage's Stripe account" in shared.say("/payments")[0]["text"]
    finally:
        shared.runner.stop()
