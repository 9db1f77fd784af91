"""The web app: Twilio's webhooks, the payment-link page (with its stylesheet), a health check."""

import logging

from flask import Flask

from core.context import Context
from sms import request_limits, response_headers
from storage.models import db

log = logging.getLogger(__name__)


def create_app(ctx: Context, *, public_base_url: str, twilio_auth_token: str | None) -> Flask:
    """The Flask app. Without a Twilio auth token every Twilio request is refused: none can be verified."""
    app = Flask(__name__)
    app.config.update(PAYSTAGE_CONTEXT=ctx, PUBLIC_BASE_URL=public_base_url.rstrip("/"),
                      TWILIO_AUTH_TOKEN=twilio_auth_token)
    request_limits.init_app(app)  # first: an oversized body is refused before anything else is done
    response_headers.init_app(app)

    @app.before_request
    def connect():
        # Each server thread keeps its connection (peewee's are per thread). Closing it after every request
        # made SQLite checkpoint and delete its WAL each time: 3-14 ms on every text (bench/sms_webhook.py).
        db.connect(reuse_if_open=True)

    from sms import pages, webhooks

    app.register_blueprint(webhooks.bp)
    app.register_blueprint(pages.bp)
    return app
