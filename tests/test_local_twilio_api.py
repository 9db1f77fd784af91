"""The local Twilio answers like the real one: checked with a plain HTTP client, not with our sender."""

import base64
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from sandbox import LocalTwilioAPI
from sandbox.twilio_api import segments


@pytest.fixture
def api():
    with LocalTwilioAPI() as api:
        yield api


def post(api, form, *, sid=None, token=None, account=None):
    """(status, json body, headers) of one POST to the Messages resource."""
    auth = base64.b64encode(f"{sid or api.account_sid}:{token or api.auth_token}".encode()).decode()
    request = urllib.request.Request(
        f"{api.base_url}/2010-04-01/Accounts/{account or api.account_sid}/Messages.json",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.load(error), error.headers


FORM = {"To": "+14155550142", "From": "+14155550100", "Body": "Hello"}


def test_an_accepted_message_is_answered_201_queued_and_recorded(api):
    status, body, _ = post(api, {**FORM, "StatusCallback": "https://pay.example/sms/status"})

    assert status == 201
    assert body["status"] == "queued" and body["sid"].startswith("SM") and len(body["sid"]) == 34
    assert (body["to"], body["from"], body["body"]) == ("+14155550142", "+14155550100", "Hello")
    assert body["num_segments"] == "1" and body["date_created"].endswith("+0000")
    [recorded] = api.wait_for(1, timeout=1)
    assert recorded["sid"] == body["sid"] and recorded["status_callback"] == "https://pay.example/sms/status"


def test_a_wrong_token_gets_twilios_401_body(api):
    status, body, headers = post(api, FORM, token="wrong")

    assert status == 401
    assert body == {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003",
                    "status": 401}
    assert api.messages == []


def test_another_accounts_path_is_not_found(api):
    status, body, _ = post(api, FORM, account="AC" + "9" * 32)

    assert status == 404 and body["code"] == 20404


def test_scripted_failures_come_first_then_sends_succeed(api):
    api.fail_next(2, status=500)
    api.fail_next(status=429, retry_after=7)

    answers = [post(api, FORM) for _ in range(4)]

    assert [status for status, _, _ in answers] == [500, 500, 429, 201]
    assert answers[2][1]["code"] == 20429 and answers[2][2]["Retry-After"] == "7"
    assert len(api.messages) == 1 and [r["status"] for r in api.requests] == [500, 500, 429, 201]


def test_a_rejected_number_is_refused_until_accepted_again(api):
    api.reject("+14155550142")

    status, body, _ = post(api, FORM)
    assert (status, body["code"], body["message"]) == (400, 21610, "Attempt to send to unsubscribed recipient")

    api.accept("+14155550142")
    assert post(api, FORM)[0] == 201


def test_missing_or_malformed_fields_get_twilios_codes(api):
    assert post(api, {**FORM, "To": "555-0142"})[1]["code"] == 21211
    assert post(api, {"To": "+14155550142", "Body": "Hi"})[1]["code"] == 21603
    assert post(api, {**FORM, "Body": ""})[1]["code"] == 21602
    assert post(api, {**FORM, "Body": "x" * 1601})[1]["code"] == 21617


def test_a_messaging_service_send_is_accepted_rather_than_queued(api):
    status, body, _ = post(api, {"To": "+14155550142", "MessagingServiceSid": "MG" + "0" * 32, "Body": "Hi"})

    assert status == 201 and body["status"] == "accepted" and body["from"] is None


def test_segments_follow_gsm7_and_ucs2():
    assert segments("x" * 160) == 1 and segments("x" * 161) == 2
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2  # an extension character costs two septets
    assert segments("é" * 160) == 1 and segments("ł" * 70) == 1 and segments("ł" * 71) == 2


def test_wait_for_gives_up_with_what_it_saw(api):
    with pytest.raises(TimeoutError, match="expected 1 messages"):
        api.wait_for(1, timeout=0.1)


def test_several_processes_are_served_at_once(api):
    api.latency = 1.0
    client = (
        "import sys, urllib.request, urllib.parse, base64;"
        "url, sid, token, to = sys.argv[1:];"
        "auth = base64.b64encode(f'{sid}:{token}'.encode()).decode();"
        "data = urllib.parse.urlencode({'To': to, 'From': '+14155550100', 'Body': 'Hi'}).encode();"
        "req = urllib.request.Request(url, data=data, headers={'Authorization': 'Basic ' + auth});"
        "print(urllib.request.urlopen(req, timeout=10).status)"
    )
    url = f"{api.base_url}/2010-04-01/Accounts/{api.account_sid}/Messages.json"
    started = time.monotonic()
    workers = [
        subprocess.Popen([sys.executable, "-c", client, url, api.account_sid, api.auth_token, f"+1415555{n:04d}"],
                         stdout=subprocess.PIPE, text=True)
        for n in range(6)
    ]
    outputs = [worker.communicate(timeout=20)[0].strip() for worker in workers]

    assert outputs == ["201"] * 6
    assert sorted(m["to"] for m in api.wait_for(6, timeout=1)) == [f"+1415555{n:04d}" for n in range(6)]
    assert time.monotonic() - started < 4.0  # served side by side: one after another takes 6 s
