"""The app on a real port, served as `paystage run` serves it; given the local Stripe, it takes payments through it.

Shared by the tests that pay over plain HTTP (tests/test_pay_from_page.py) and the ones that pay in a real
browser (tests/browser.py's `live_server`); the `stripe_api` fixture is in tests/conftest.py.
"""

import threading
import urllib.error
import urllib.parse
import urllib.request

from waitress import wasyncore

from paystage.app import web_server
from sandbox import LocalStripeAPI
from sms.app import create_app
from sms.payments import OnlinePayments
from sms.stripe_gateway import StripeGateway

DOLLARS = 100


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


http = urllib.request.build_opener(NoRedirects)


def request(url: str, form: dict | None = None, headers: dict | None = None, body: bytes | None = None):
    """(status, headers, text) of a GET, or a POST of `form` or `body`, without following redirects."""
    data = body if body is not None else urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with http.open(urllib.request.Request(url, data=data, headers=headers or {}), timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read().decode()


class Shop:
    """The app of `ctx` on http://127.0.0.1:<port> (`base`); with `stripe_api`, taking payments through it, the
    fake delivering its signed webhooks to the app. Without it the page shows the contractor's instructions."""

    def __init__(self, ctx, stripe_api: LocalStripeAPI | None = None, bank_first_above: int = 1_000 * DOLLARS):
        self.ctx, self.stripe = ctx, stripe_api
        self.app = create_app(ctx, public_base_url="http://127.0.0.1", twilio_auth_token="t")
        self.server = web_server(self.app, "127.0.0.1", 0)
        self.base = f"http://127.0.0.1:{self.server.effective_port}"
        self.app.config["PUBLIC_BASE_URL"] = self.base
        self.payments = None
        if stripe_api is not None:  # the webhook's address is known once the port is
            secret = stripe_api.add_endpoint(self.base + "/stripe/webhook")
            self.payments = OnlinePayments(StripeGateway(stripe_api.secret_key, api_base_url=stripe_api.base_url),
                                           webhook_secrets=(secret,), bank_first_above=bank_first_above,
                                           connect=False, checkout_origin=stripe_api.base_url)
            self.app.config["PAYMENTS"] = self.payments
        self.thread = threading.Thread(target=self.server.run, name="shop", daemon=True)
        self.thread.start()

    def link(self, ref: str) -> str:
        """The path of the job's payment page, as today's texts link to it."""
        return f"/p/{self.ctx.links.token(ref, self.ctx.clock())}"

    def page(self, ref: str, query: str = "") -> str:
        status, _, html = request(f"{self.base}{self.link(ref)}{query}")
        assert status == 200
        return html

    def tap_pay(self, ref: str, choice: str, method: str) -> tuple[int, str]:
        """The customer taps a Pay button; (status, where they are sent or the page's text)."""
        status, headers, text = request(f"{self.base}{self.link(ref)}/pay", {"choice": choice, "method": method})
        return status, headers.get("Location") or text

    def checkout(self, checkout_url: str, method: str) -> str:
        """At Stripe's page the customer pays by `method` (card, us_bank_account); where they are sent back."""
        status, headers, _ = request(checkout_url + "/pay", {"method": method})
        assert status == 303
        return headers["Location"]

    def close(self):
        stop_serving(self.server, self.thread)


def stop_serving(server, thread: threading.Thread) -> None:
    """Stop a waitress server running on `thread`. The sockets are closed on the server's own thread, between two
    waits: closed from here, under a select() that was waiting on them, they killed that thread with EBADF now and
    then."""
    try:
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    except OSError:
        pass  # woken by a request thread meanwhile, the loop ran it already and closed the pipe pulled here
    thread.join(timeout=5)
    server.task_dispatcher.shutdown()
