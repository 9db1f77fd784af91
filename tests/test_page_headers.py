"""The customer's page is reached by a link that is itself the key: nothing may keep it, frame it or pass it on.

Every answer of the web app says so in its headers (no cache, no Referer, no framing, no sniffing) and with a
Content-Security-Policy that allows no script at all and styles only from the app's own stylesheet.
"""

import re

import pytest

from sms.app import create_app


@pytest.fixture
def client(ctx):
    return create_app(ctx, public_base_url="https://pay.example", twilio_auth_token="t").test_client()


def policy(response) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    header = response.headers.get("Content-Security-Policy", "")
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in header.split(";") if part.strip())


def assert_private(response):
    assert response.headers.get("Cache-Control") == "no-store"
    assert response.headers.get("Referrer-Policy") == "no-referrer"
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    csp = policy(response)
    assert csp.get("default-src") == "'none'"
    assert csp.get("style-src") == "'self'"
    assert csp.get("frame-ancestors") == "'none'"
    assert csp.get("form-action") == "'self'"
    assert csp.get("base-uri") == "'none'"
    assert "script-src" not in csp  # default-src 'none' covers it: no script of any kind
    assert not any("unsafe" in sources for sources in csp.values())


def test_the_payment_page_may_not_be_cached_framed_or_referred(client, ctx, planned):
    response = client.get("/p/" + ctx.links.token(planned, ctx.clock()))
    assert response.status_code == 200
    assert_private(response)


@pytest.mark.parametrize("token", ["nonsense", "J-AAAA.1.AAAA"])
def test_the_link_error_page_may_not_be_cached_framed_or_referred(client, token):
    response = client.get("/p/" + token)
    assert response.status_code == 404 and "This link does not work" in response.get_data(as_text=True)
    assert_private(response)


def test_other_answers_carry_the_same_headers(client):
    assert_private(client.get("/healthz"))
    assert_private(client.post("/sms/inbound", data={"Body": "BAL"}))  # unsigned: 403


def test_the_page_takes_its_styles_from_its_own_stylesheet_only(client, ctx, planned):
    html = client.get("/p/" + ctx.links.token(planned, ctx.clock())).get_data(as_text=True)
    assert "<style" not in html and "style=" not in html and "<script" not in html  # the policy would block them
    [href] = re.findall(r'<link rel="stylesheet" href="([^"]+)">', html)
    assert href.startswith("/")  # same origin: style-src 'self'
    css = client.get(href)
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "max-width: 34rem" in css.get_data(as_text=True)  # the page's layout is in it
    assert_private(css)


def test_the_link_error_page_is_styled_too(client):
    html = client.get("/p/nonsense").get_data(as_text=True)
    assert "<style" not in html and re.search(r'<link rel="stylesheet" href="/[^"]+">', html)
