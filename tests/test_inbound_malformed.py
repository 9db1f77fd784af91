"""Signed texts and status callbacks with values no real phone sends: answered, never a traceback, nothing lost."""

import logging
import xml.etree.ElementTree as ET

import pytest
from twilio.request_validator import RequestValidator

from core.jobs import Item, create_job
from sms.app import create_app
from storage.models import OutboxMessage

TOKEN = "test-auth-token-for-malformed-texts"
PUBLIC = "https://pay.example"
DANA = "+14155550134"


@pytest.fixture
def client(ctx):
    return create_app(ctx, public_base_url=PUBLIC, twilio_auth_token=TOKEN).test_client()


def post(client, path: str, form: dict):
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def texted(client, body: str, *, phone: str = DANA, sid: str = "SM" + "a" * 32) -> str | None:
    response = post(client, "/sms/inbound", {"MessageSid": sid, "From": phone, "To": "+14155550100", "Body": body})
    assert response.status_code == 200
    message = ET.fromstring(response.data).find("Message")
    return message.text if message is not None else None


def errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def relayed(outbox) -> list[str]:
    return [body for channel, kind, body in outbox() if kind == "relay"]


def test_a_nul_in_a_text_is_dropped_and_the_rest_reaches_the_contractor(client, planned, outbox, caplog):
    answer = texted(client, "Can the crew\x00 come at 8?")
    assert "passed your message" in answer
    [relay] = relayed(outbox)
    assert "Can the crew come at 8?" in relay
    assert errors(caplog) == []


def test_a_nul_in_the_senders_number_is_dropped_too(client, planned, caplog):
    answer = texted(client, "BAL", phone=DANA[:5] + "\x00" + DANA[5:])
    assert planned in answer
    assert errors(caplog) == []


def test_thousands_of_digits_from_a_phone_with_several_jobs_ask_which_job(client, ctx, contractor, planned, caplog):
    create_job(ctx, contractor, customer_name="Dana Whitfield", phone=DANA, title="Bathroom vanity",
               items=[Item("Vanity", 90_000)])
    answer = texted(client, "7" * 5000)
    assert "1" in answer and "2" in answer and planned in answer
    assert errors(caplog) == []


def test_a_message_sid_no_provider_sends_is_answered_and_changes_nothing(client, planned, caplog):
    before = OutboxMessage.select().count()
    assert texted(client, "Hello", sid="SM" + "x" * 5000) is None
    assert OutboxMessage.select().count() == before
    assert errors(caplog) == []


@pytest.mark.parametrize("code", ["9" * 5000, "\u0661\u0662", "-1", "30005x"])
def test_a_status_callback_with_a_malformed_error_code_changes_nothing(client, planned, code, caplog):
    form = {"MessageSid": "SM" + "b" * 32, "MessageStatus": "undelivered", "ErrorCode": code}
    assert post(client, "/sms/status", form).status_code == 204
    assert errors(caplog) == []
