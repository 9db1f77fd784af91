"""The web app: Twilio's webhooks, the payment-link page (with its stylesheet), a health check."""

import logging
import time
from collections.abc import Callable

from flask import Flask, g, request

from core.context import Context
from core.wording.language import _, current, ngettext
from sms import request_limits, response_headers
from sms.payments import OnlinePayments
from storage.models import db

log = logging.getLogger(__name__)


def create_app(ctx: Context, *, public_base_url: str, twilio_auth_token: str | None,
               payments: OnlinePayments | None = None,
               on_request: Callable[[str, int, float], None] | None = None) -> Flask:
    """The Flask app. Without a Twilio auth token every Twilio request is refused: none can be verified.
    Without `payments` the page shows the contractor's own payment instructions and takes no money.
    `on_request` is told of every answer: (the route, as "/p/<token>", its status, the seconds it took)."""
    app = Flask(__name__)
    app.config.update(PAYSTAGE_CONTEXT=ctx, PUBLIC_BASE_URL=public_base_url.rstrip("/"),
                      TWILIO_AUTH_TOKEN=twilio_auth_token, PAYMENTS=payments, STARTED_AT=ctx.clock())
    if on_request:
        _time_requests(app, on_request)  # before the limits: a refused request is timed and counted too
    request_limits.init_app(app)  # first to look at a request: an oversized body is refused before anything is done
    response_headers.init_app(app)
    # Pages say their words with _() as the texts do, in the language the view is speaking (sms/pages.py).
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(gettext=_, ngettext=ngettext, newstyle=True)
    app.jinja_env.globals["language"] = current

    @app.before_request
    def connect():
        # Each server thread keeps its connection (peewee's are per thread). Closing it after every request
        # made SQLite checkpoint and delete its WAL each time: 3-14 ms on every text (bench/sms_webhook.py).
        # /healthz connects with its own query, so that a database that does not answer is its answer, not a 500.
        if request.endpoint != "pages.healthz":
            db.connect(reuse_if_open=True)

    from sms import pages, webhooks
    from sms.payments import bp as payments_bp

    app.register_blueprint(webhooks.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(payments_bp)
    return app


def _time_requests(app: Flask, on_request: Callable[[str, int, float], None]) -> None:
    @app.before_request
    def start_clock():
        g.started = time.perf_counter()

    @app.after_request
    def tell(response):
        route = request.url_rule.rule if request.url_rule else "unmatched"  # a route, never a token or a stray path
        on_request(route, response.status_code, time.perf_counter() - g.get("started", time.perf_counter()))
        return response
