"""The web app: Twilio's webhooks, the payment-link page (with its stylesheet), a health check."""

import logging

from flask import Flask

from core.context import Context
from core.wording.language import _, current, ngettext
from sms import request_limits, response_headers
from sms.payments import OnlinePayments
from storage.models import db

log = logging.getLogger(__name__)


def create_app(ctx: Context, *, public_base_url: str, twilio_auth_token: str | None,
               payments: OnlinePayments | None = None) -> Flask:
    """The Flask app. Without a Twilio auth token every Twilio request is refused: none can be verified.
    Without `payments` the page shows the contractor's own payment instructions and takes no money."""
    app = Flask(__name__)
    app.config.update(PAYSTAGE_CONTEXT=ctx, PUBLIC_BASE_URL=public_base_url.rstrip("/"),
                      TWILIO_AUTH_TOKEN=twilio_auth_token, PAYMENTS=payments)
    request_limits.init_app(app)  # first: an oversized body is refused before anything else is done
    response_headers.init_app(app)
    # Pages say their words with _() as the texts do, in the language the view is speaking (sms/pages.py).
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(gettext=_, ngettext=ngettext, newstyle=True)
    app.jinja_env.globals["language"] = current

    @app.before_request
    def connect():
        # Each server thread keeps its connection (peewee's are per thread). Closing it after every request
        # made SQLite checkpoint and delete its WAL each time: 3-14 ms on every text (bench/sms_webhook.py).
        db.connect(reuse_if_open=True)

    from sms import pages, webhooks
    from sms.payments import bp as payments_bp

    app.register_blueprint(webhooks.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(payments_bp)
    return app
