"""The sandbox page (sandbox/web.py) over the whole product, as `paystage run` runs it in sandbox mode.

One process, as `paystage run`: the Sandbox's local Bot API, Twilio and Stripe; the real bot polling the local Bot
API; the worker sending through its outbox; the web app with the sandbox blueprint on a live port. Built with
paystage/app.py's own builders from settings made with the world's env(). The story is played in headless Chromium
through the page as a visitor plays it; the endpoints' refusals over plain HTTP.
"""

import json
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from paystage.app import build_bot, build_context, build_web_app, build_worker, open_storage, web_server
from paystage.settings import Settings
from sandbox.twilio_api import segments
from sandbox.web import sandbox_blueprint
from sandbox.world import Sandbox
from storage.models import db
from tests.run_harness import free_port

pytest_plugins = ["tests.browser"]

LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
DANA = "+14155550134"
SAM = "+14155550188"
SCREENS = Path(__file__).resolve().parents[1] / "docs" / "screens"
WAIT = 20_000  # ms a step of the story may take in the browser


@dataclass
class Running:
    world: Sandbox
    base: str
    settings: Settings

    @property
    def later(self) -> date:
        """A day two months from now, for a plan's "on DATE"."""
        return date.today() + timedelta(days=60)


@pytest.fixture
def running(tmp_path):
    """`paystage run` in sandbox mode, in this process: the world, the bot, the worker and the page."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    world = Sandbox(base).start()
    env = {**world.env(), "PAYSTAGE_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
           "PUBLIC_BASE_URL": base, "PORT": str(port), "PAYSTAGE_SMS_PER_SECOND": "0"}
    settings = Settings.from_env(env)
    open_storage(settings)
    ctx = build_context(settings)
    bot = build_bot(settings, ctx)
    web = build_web_app(settings, ctx)
    web.register_blueprint(sandbox_blueprint(world))
    server = web_server(web, "127.0.0.1", port)
    worker = build_worker(settings, ctx)
    thread = threading.Thread(target=server.run, name="web", daemon=True)
    thread.start()
    worker.start()
    bot.start()
    try:
        yield Running(world, base, settings)
    finally:
        bot.stop()
        worker.stop()
        server.close()
        world.close()
        db.close()


def test_the_worlds_settings_text_the_customer_at_any_hour(running, tmp_path):
    """The visitor is the customer too: at 11 PM their phone must not stay empty until 8 AM."""
    night = datetime(2026, 12, 2, 4, 30, tzinfo=timezone.utc)  # 11:30 PM in New York
    assert not running.settings.quiet_hours.is_quiet(night, "America/New_York")
    live = Settings.from_env({"PAYSTAGE_SECRET_KEY": "k" * 32, "PAYSTAGE_DATA_DIR": str(tmp_path)})
    assert live.quiet_hours.is_quiet(night, "America/New_York")  # the live product's default


def call(base: str, path: str, body=None, *, raw: bytes | None = None, content_type="application/json"):
    """(status, JSON answer) of a GET, or a POST of `body` as JSON (or of `raw` bytes)."""
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": content_type} if data is not None else {}
    request = urllib.request.Request(base + path, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        with error:
            text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, {"html": text.decode()}


def test_the_page_is_served_with_a_policy_for_its_own_script(running):
    with urllib.request.urlopen(running.base + "/", timeout=10) as response:
        html = response.read().decode()
        policy = response.headers["Content-Security-Policy"]
    assert "Load the countertop story" in html and "/sandbox/static/sandbox.js" in html
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy


# --- in the browser ------------------------------------------------------------------------------------------


@pytest.fixture
def page(browser, running):
    """The sandbox page at a laptop's size, failing the test on any console error or page error (a CSP refusal
    shows up as one)."""
    context = browser.new_context(viewport=LAPTOP, device_scale_factor=1)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.goto(running.base + "/")
    yield page
    context.close()
    assert problems == []


def say(page, text: str):
    """The visitor types `text` in the chat and presses Enter; the bot's answer to it (a locator)."""
    from playwright.sync_api import expect

    bot = page.locator("#chat .message.bot")
    before = bot.count()
    page.fill("#message", text)
    page.press("#message", "Enter")
    expect(page.locator("#chat .message.mine").last).to_contain_text(text.splitlines()[0])
    expect(bot).to_have_count(before + 1, timeout=WAIT)
    return bot.last


def tap(message, label: str):
    """Tap the inline button `label` under `message`; the bot's answer (the next bot message)."""
    from playwright.sync_api import expect

    page = message.page
    bot = page.locator("#chat .message.bot")
    before = bot.count()
    message.get_by_role("button", name=label, exact=True).click()
    expect(bot).to_have_count(before + 1, timeout=WAIT)
    return bot.last


def phone_of(page, name: str):
    """The card of the customer phone shown as `name`, like (415) 555-0134."""
    return page.locator(".phone", has=page.locator(".phone-head", has_text=name))


def text_back(phone, text: str) -> None:
    phone.locator("input[name=text]").fill(text)
    phone.locator("input[name=text]").press("Enter")


def test_the_countertop_story_played_through_the_page(page, running):
    from playwright.sync_api import expect

    assert "Welcome" in say(page, "/start").inner_text()
    created = say(page, "/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000").inner_text()
    ref = re.search(r"J-[A-Z0-9]{4,6}", created).group()
    for line in ("Measurement, in 3 days 9am", "Removal, in 10 days 8am", "Installation, in 17 days 9am"):
        assert "Added" in say(page, f"/event {ref} {line}").inner_text()
    preview = say(page, f"/plan {ref} 25% before measurement, 25% after removal, 50% after installation")
    assert "$1,000.00" in preview.inner_text()
    expect(tap(preview, "Send to customer")).to_contain_text("Plan sent")

    dana = phone_of(page, "(415) 555-0134")
    texts = dana.locator(".sms.in")
    expect(texts.first).to_contain_text("Reply STOP to opt out", timeout=WAIT)  # the business's first text
    expect(texts.nth(1)).to_contain_text("$4,000.00", timeout=WAIT)
    [_consent, plan] = running.world.twilio_api.messages
    expect(texts.nth(1).locator(".segments")).to_contain_text(
        f"{segments(plan['body'])} segment{'s' if segments(plan['body']) > 1 else ''} · GSM-7")

    asked = say(page, f"/done {ref} removal")  # Measurement is still to do: asked once
    expect(asked).to_contain_text("Measurement is scheduled before Removal")
    tap(asked, "Mark Removal done anyway")
    expect(texts.last).to_contain_text("$1,000.00 is now due", timeout=WAIT)

    text_back(dana, "BAL")
    expect(dana.locator(".sms.out").last).to_have_text("BAL")
    balance = texts.last
    expect(balance).to_contain_text("Paid so far: $0.00 of $4,000.00", timeout=WAIT)
    expect(balance).to_contain_text("Due now: $1,000.00")

    assert "Recorded $1,000.00" in say(page, f"/paid {ref} 1000 check").inner_text()
    expect(texts.last).to_contain_text("We received $1,000.00", timeout=WAIT)

    preview = say(page, f"/price {ref} 4850")
    assert "$4,000.00 -> $4,850.00" in preview.inner_text()
    expect(tap(preview, "Send for approval")).to_contain_text("Change order 1: $4,000.00 -> $4,850.00")
    expect(texts.last).to_contain_text("please approve a new price", timeout=WAIT)
    expect(texts.last).to_contain_text("$1,283.33")
    expect(texts.last).to_contain_text("$2,566.67")
    asked = texts.nth(texts.count() - 1)
    text_back(dana, "YES")
    expect(texts.last).to_contain_text("You approved the new price", timeout=WAIT)

    # the link in a text (the change order's) opens the customer's payment page, in a tab of its own
    with page.context.expect_page() as opened:
        asked.locator("a[href*='/p/']").click()
    payment_page = opened.value
    payment_page.wait_for_load_state()
    assert "$4,850.00" in payment_page.inner_text("body")
    payment_page.close()

    screenshots(page)


def screenshots(page) -> None:
    """What a visitor sees, at the top of the page: on a laptop, side by side; on a phone, stacked (all of it)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENS / "sandbox-laptop.png"))
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing scrolls sideways
    page.screenshot(path=str(SCREENS / "sandbox-phone.png"), full_page=True)


def test_the_story_button_plays_the_first_steps_and_a_reply_to_a_relayed_text_reaches_the_phone(page, running):
    from playwright.sync_api import expect

    page.click("#story")
    expect(page.locator("#story-status")).to_contain_text("Done", timeout=WAIT)
    chat = page.locator("#chat .message.mine")
    expect(chat).to_have_count(6)  # /start, /newjob, three /event, /plan: typed as a visitor types them
    expect(chat.nth(1)).to_contain_text("/newjob Dana Whitfield")
    dana = phone_of(page, "(415) 555-0134")
    expect(dana.locator(".sms.in").nth(1)).to_contain_text("$4,000.00", timeout=WAIT)

    text_back(dana, "Can the crew come a bit earlier?")
    expect(dana.locator(".sms.in").last).to_contain_text("passed your message", timeout=WAIT)
    relayed = page.locator("#chat .message.bot", has_text="a bit earlier?")
    expect(relayed).to_contain_text("Dana Whitfield", timeout=WAIT)
    relayed.get_by_role("button", name="Reply to this message").click()
    expect(page.locator("#replying")).to_contain_text("Dana Whitfield")
    answer = say(page, "Sure, 8am works 👍")
    expect(answer).to_contain_text("Sent to Dana")
    expect(page.locator("#chat .message.mine").last.locator(".quote")).to_contain_text("Dana Whitfield")
    reply = dana.locator(".sms.in").last
    expect(reply).to_contain_text("Sure, 8am works 👍", timeout=WAIT)
    expect(reply.locator(".segments")).to_contain_text("1 segment · UCS-2")


def test_two_customer_phones_stay_apart(page, running):
    from playwright.sync_api import expect

    say(page, "/start")
    refs = {}
    for name, phone in (("Dana Whitfield", "(415) 555-0134"), ("Sam Ortiz", "(415) 555-0188")):
        created = say(page, f"/newjob {name}, {phone}, Kitchen countertops, $4,000").inner_text()
        refs[phone] = ref = re.search(r"J-[A-Z0-9]{4,6}", created).group()
        tap(say(page, f"/plan {ref} half now, the rest on {running.later:%Y-%m-%d}"), "Send to customer")
    for phone, other in (("(415) 555-0134", "(415) 555-0188"), ("(415) 555-0188", "(415) 555-0134")):
        card = phone_of(page, phone)
        expect(card.locator(".sms.in", has_text="$2,000.00 is now due")).to_have_count(1, timeout=WAIT)
        text_back(card, "BAL")
        expect(card.locator(".sms.in").last).to_contain_text(refs[phone], timeout=WAIT)
        expect(card.locator(".sms", has_text=refs[other])).to_have_count(0)
    expect(page.locator(".phone")).to_have_count(2)
    assert {m["to"] for m in running.world.twilio_api.messages} == {DANA, SAM}


# --- over plain HTTP -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path, body, error", [
    ("/sandbox/chat", {"text": ""}, "text must be"),
    ("/sandbox/chat", {"text": 42}, "text must be"),
    ("/sandbox/chat", {}, "text must be"),
    ("/sandbox/chat", {"text": "x" * 4097}, "longer than Telegram takes"),
    ("/sandbox/chat", {"text": "hi", "reply_to": "1"}, "reply_to must be"),
    ("/sandbox/chat", {"text": "hi", "reply_to": True}, "reply_to must be"),
    ("/sandbox/chat", {"text": "hi", "reply_to": 999}, "no message 999"),
    ("/sandbox/chat", [1, 2], "a JSON object"),
    ("/sandbox/tap", {"message_id": 999, "data": "drop"}, "no message 999"),
    ("/sandbox/tap", {"message_id": -1, "data": "drop"}, "message_id must be"),
    ("/sandbox/tap", {"message_id": 1}, "message_id must be"),
    ("/sandbox/phone", {"phone": "415 555 0134", "text": "BAL"}, "E.164"),
    ("/sandbox/phone", {"phone": "+14155550134", "text": " "}, "text must be"),
    ("/sandbox/phone", {"phone": "+14155550134", "text": "x" * 1601}, "longer than Twilio takes"),
])
def test_a_malformed_request_to_the_page_endpoints_is_a_clear_400(running, path, body, error):
    status, answer = call(running.base, path, body)
    assert status == 400 and error in answer["error"]


def test_a_body_that_is_not_json_is_refused_with_what_to_send(running):
    assert call(running.base, "/sandbox/chat", raw=b"{not json", content_type="application/json") == (
        400, {"error": "the body must be a JSON object"})
    status, answer = call(running.base, "/sandbox/chat", raw=b"text=hi", content_type="text/plain")
    assert status == 415 and "application/json" in answer["error"]
    status, answer = call(running.base, "/sandbox/state?since=not-a-version")
    assert status == 400 and "since" in answer["error"]
    assert running.world.chat() == []  # nothing reached the bot


def test_a_tap_on_a_button_no_longer_there_is_refused_and_a_tap_on_one_there_reaches_the_bot(running):
    bot = running.world.bot_api
    assert call(running.base, "/sandbox/chat", {"text": "/start"})[0] == 202
    assert call(running.base, "/sandbox/chat", {"text": "/newjob Dana Whitfield, (415) 555-0134, Tiles, $400"}
                )[0] == 202
    bot.wait_for_sent(2, timeout=20)
    assert call(running.base, "/sandbox/chat", {"text": "/jobs"})[0] == 202
    [listing] = [m for m in bot.wait_for_sent(3, timeout=20)[2:]]
    data = listing["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    status, answer = call(running.base, "/sandbox/tap", {"message_id": listing["message_id"], "data": "job:J-NOPE"})
    assert status == 409 and "no longer" in answer["error"]
    assert call(running.base, "/sandbox/tap", {"message_id": listing["message_id"], "data": data})[0] == 202
    bot.wait_for_sent(4, timeout=20)
    assert bot.calls_to("answerCallbackQuery")  # the bot took it as a real tap


def test_the_state_answers_only_its_version_when_nothing_changed(running):
    status, first = call(running.base, "/sandbox/state")
    assert status == 200 and first["changed"] and first["chat"] == [] and first["phones"] == []
    assert call(running.base, f"/sandbox/state?since={first['version']}")[1] == {"version": first["version"],
                                                                                 "changed": False}
    call(running.base, "/sandbox/phone", {"phone": DANA, "text": "hello?"})
    status, later = call(running.base, f"/sandbox/state?since={first['version']}")
    assert later["changed"] and [t["body"] for t in later["phones"][0]["texts"]][0] == "hello?"


def test_the_customer_page_keeps_its_no_script_policy_beside_the_sandbox(running):
    status, answer = call(running.base, "/sandbox/phone", {"phone": DANA, "text": "BAL"})
    assert status == 200 and answer["answers"]  # an unknown number is answered, as in production
    with urllib.request.urlopen(running.base + "/sandbox/static/sandbox.js", timeout=10) as response:
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    for path in ("/p/J-NOPE.1800000000.abc", "/healthz"):
        try:
            response = urllib.request.urlopen(running.base + path, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            policy = response.headers["Content-Security-Policy"]
        assert policy.startswith("default-src 'none'") and "script-src" not in policy and "connect-src" not in policy


def test_without_the_blueprint_no_sandbox_route_exists(ctx):
    from sms.app import create_app

    app = create_app(ctx, public_base_url="http://127.0.0.1:8000", twilio_auth_token="t" * 32)
    assert [r.rule for r in app.url_map.iter_rules() if r.rule == "/" or r.rule.startswith("/sandbox")] == []
    assert app.test_client().get("/").status_code == 404
    assert app.test_client().get("/sandbox/state").status_code == 404


def test_a_customer_pays_by_card_from_their_text_and_both_sides_hear_of_it(page, running):
    """The sandbox takes payments at the local Stripe: the link in the due text, its Pay button, the checkout, and
    Stripe's signed webhook back to the app; the receipt reaches the phone and the note the chat."""
    from playwright.sync_api import expect

    say(page, "/start")
    ref = re.search(r"J-[A-Z0-9]{4,6}", say(page, "/newjob Dana Whitfield, (415) 555-0134, Tiles, $4,000")
                    .inner_text()).group()
    tap(say(page, f"/plan {ref} half now, the rest on {running.later:%Y-%m-%d}"), "Send to customer")
    due = phone_of(page, "(415) 555-0134").locator(".sms.in", has_text="$2,000.00 is now due")
    expect(due).to_have_count(1, timeout=WAIT)
    with page.context.expect_page() as opened:
        due.locator("a[href*='/p/']").click()
    customer = opened.value
    customer.wait_for_load_state()
    with customer.expect_navigation():
        customer.locator("form.pay", has_text="Due now").get_by_role("button", name="Pay by card").click()
    assert customer.url.startswith(running.world.stripe_api.base_url + "/checkout/")
    with customer.expect_navigation():
        customer.get_by_role("button", name="Pay $2,000.00 by card").click()
    customer.close()
    expect(phone_of(page, "(415) 555-0134").locator(".sms.in").last).to_contain_text("We received $2,000.00",
                                                                                     timeout=WAIT)
    expect(page.locator("#chat .message.bot").last).to_contain_text("$2,000.00 received (card)", timeout=WAIT)


def test_a_file_the_bot_sends_shows_by_its_name_and_can_be_saved(running):
    bot = running.world.bot_api
    call(running.base, "/sandbox/chat", {"text": "/start"})
    bot.wait_for_sent(1, timeout=20)
    call(running.base, "/sandbox/chat", {"text": "/newjob Dana Whitfield, (415) 555-0134, Tiles, $400"})
    ref = re.search(r"J-[A-Z0-9]{4,6}", bot.wait_for_sent(2, timeout=20)[1]["text"]).group()
    call(running.base, "/sandbox/chat", {"text": f"/export {ref}"})
    sent = bot.wait_for_sent(3, timeout=20)[2]
    [shown] = [m for m in call(running.base, "/sandbox/state")[1]["chat"] if m["document"]]
    assert shown["id"] == sent["message_id"] and not shown["mine"]
    assert shown["document"]["name"] == f"{ref}.csv" and shown["text"].startswith(f"{ref} Dana Whitfield:")
    with urllib.request.urlopen(running.base + shown["document"]["url"], timeout=10) as response:
        assert response.read() == bot.documents[0]["content"]
        assert f'filename="{ref}.csv"' in response.headers["Content-Disposition"]
    status, answer = call(running.base, "/sandbox/file/1")  # the visitor's /start: no file
    assert status == 404 and "no file" in answer["error"]


def test_the_page_shows_a_file_by_its_name(page, running):
    from playwright.sync_api import expect

    say(page, "/start")
    ref = re.search(r"J-[A-Z0-9]{4,6}", say(page, "/newjob Dana Whitfield, (415) 555-0134, Tiles, $400")
                    .inner_text()).group()
    exported = say(page, f"/export {ref}")
    expect(exported.locator("a.document")).to_have_text(f"{ref}.csv")
    expect(exported.locator(".text")).to_contain_text(f"{ref} Dana Whitfield")
