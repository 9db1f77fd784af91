"""TwilioSender against a local Twilio over real HTTP: what it sends, and how each refusal is classified."""

import pytest

from core.delivery import DeliveryError, Outgoing
from sandbox import LocalTwilioAPI
from sandbox.server import closed_port
from sms.sender import TwilioSender

CUSTOMER = "+14155550142"
OUR_NUMBER = "+14155550100"
SERVICE_SID = "MG" + "0" * 32
CALLBACK = "https://pay.example/sms/status"


def sender_for(api: LocalTwilioAPI, **overrides) -> TwilioSender:
    options = {"from_number": OUR_NUMBER, "api_base_url": api.base_url, "status_callback": CALLBACK, "timeout": 5}
    options.update(overrides)
    return TwilioSender(api.account_sid, api.auth_token, **options)


def text(body="J-7K2Q: your deposit of $1,000.00 is due. Pay: https://pay.example/p/abc", to=CUSTOMER):
    return Outgoing(id=1, channel="sms", recipient=to, body=body, kind="milestone_due")


def refusal(sender: TwilioSender, message: Outgoing | None = None) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        sender.send(message or text())
    return caught.value


def test_a_send_posts_to_from_body_and_status_callback_and_returns_twilios_sid(twilio_api):
    sid = sender_for(twilio_api).send(text())

    [message] = twilio_api.messages
    assert sid == message["sid"] and sid.startswith("SM") and len(sid) == 34
    assert message["to"] == CUSTOMER
    assert message["from"] == OUR_NUMBER
    assert message["body"] == text().body
    assert message["status_callback"] == CALLBACK
    assert message["messaging_service_sid"] is None


def test_a_messaging_service_sends_without_a_from_number(twilio_api):
    sid = sender_for(twilio_api, from_number=None, messaging_service_sid=SERVICE_SID).send(text())

    [message] = twilio_api.messages
    assert message["sid"] == sid
    assert message["messaging_service_sid"] == SERVICE_SID
    assert message["from"] is None


def test_no_status_callback_is_sent_when_none_is_configured(twilio_api):
    sender_for(twilio_api, status_callback=None).send(text())

    assert twilio_api.messages[0]["status_callback"] is None


def test_a_wrong_auth_token_is_retried_later_and_never_shows_the_token(twilio_api):
    wrong = "f00dfacef00dfacef00dfacef00dface"
    sender = TwilioSender(twilio_api.account_sid, wrong, from_number=OUR_NUMBER, api_base_url=twilio_api.base_url)

    error = refusal(sender)

    assert not error.permanent and not error.opted_out
    assert "401" in str(error) and "TWILIO_AUTH_TOKEN" in str(error)
    assert wrong not in str(error) and twilio_api.auth_token not in str(error)
    assert twilio_api.messages == []


def test_a_customer_who_texted_stop_is_an_opt_out_and_never_retried(twilio_api):
    twilio_api.reject(CUSTOMER, code=21610)

    error = refusal(sender_for(twilio_api))

    assert error.opted_out and error.permanent
    assert "21610" in str(error)
    assert twilio_api.messages == []


@pytest.mark.parametrize("code", [21211, 21408, 21612, 21614])
def test_a_number_that_cannot_take_texts_is_a_permanent_failure(twilio_api, code):
    twilio_api.reject(CUSTOMER, code=code)

    error = refusal(sender_for(twilio_api))

    assert error.permanent and not error.opted_out
    assert str(code) in str(error)


def test_a_malformed_number_is_refused_by_twilio_as_permanent(twilio_api):
    error = refusal(sender_for(twilio_api), text(to="555-0142"))

    assert error.permanent and "21211" in str(error)


def test_a_twilio_server_error_is_transient(twilio_api):
    twilio_api.fail_next(1, status=500)
    sender = sender_for(twilio_api)

    error = refusal(sender)
    assert not error.permanent and error.retry_after is None

    assert sender.send(text()) == twilio_api.messages[0]["sid"]  # and the retry goes through


def test_a_rate_limit_waits_as_long_as_retry_after_says(twilio_api):
    twilio_api.fail_next(1, status=429, retry_after=7)

    error = refusal(sender_for(twilio_api))

    assert not error.permanent and error.retry_after == 7


def test_a_rate_limit_without_retry_after_is_plainly_transient(twilio_api):
    twilio_api.fail_next(1, status=429)

    error = refusal(sender_for(twilio_api))

    assert not error.permanent and error.retry_after is None


def test_an_unknown_refusal_is_retried_rather_than_thrown_away(twilio_api):
    twilio_api.fail_next(1, status=400, code=21606, message="The 'From' phone number is not SMS-capable")

    error = refusal(sender_for(twilio_api))

    assert not error.permanent and "21606" in str(error)


def test_another_accounts_sid_is_a_transient_misconfiguration(twilio_api):
    sender = TwilioSender("AC" + "1" * 32, twilio_api.auth_token, from_number=OUR_NUMBER,
                          api_base_url=twilio_api.base_url)

    error = refusal(sender)

    assert not error.permanent and twilio_api.auth_token not in str(error)


def test_an_unreachable_twilio_is_transient():
    sender = TwilioSender("AC" + "2" * 32, "secret-token-123", from_number=OUR_NUMBER,
                          api_base_url=f"http://127.0.0.1:{closed_port()}", timeout=2)

    error = refusal(sender)

    assert not error.permanent and "could not reach Twilio" in str(error)
    assert "secret-token-123" not in str(error)


def test_a_twilio_slower_than_the_timeout_is_transient(twilio_api):
    twilio_api.latency = 1.0

    error = refusal(sender_for(twilio_api, timeout=0.2))

    assert not error.permanent and "did not answer within 0.2 s" in str(error)


def test_one_sender_serves_several_threads_at_once(twilio_api):
    from concurrent.futures import ThreadPoolExecutor

    twilio_api.latency = 0.05
    sender = sender_for(twilio_api)
    numbers = [f"+1415555{n:04d}" for n in range(16)]

    with ThreadPoolExecutor(8) as pool:
        sids = list(pool.map(lambda to: sender.send(text(to=to)), numbers))

    sent = {m["sid"]: m["to"] for m in twilio_api.messages}
    assert dict(zip(sids, numbers)) == sent


@pytest.mark.parametrize("numbers", [{}, {"from_number": OUR_NUMBER, "messaging_service_sid": SERVICE_SID}])
def test_the_sender_needs_exactly_one_of_a_from_number_and_a_messaging_service(numbers):
    with pytest.raises(ValueError, match="exactly one"):
        TwilioSender("AC" + "3" * 32, "token", **numbers)


@pytest.mark.parametrize("base_url", ["127.0.0.1:8080", "ftp://127.0.0.1", "http://127.0.0.1:8080/twilio"])
def test_a_base_url_must_be_a_scheme_and_host(base_url):
    with pytest.raises(ValueError, match="TWILIO_API_BASE_URL"):
        TwilioSender("AC" + "3" * 32, "token", from_number=OUR_NUMBER, api_base_url=base_url)
