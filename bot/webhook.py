"""The Telegram webhook endpoint, mounted in the web app when TELEGRAM_MODE=webhook."""

import hmac
import json

from flask import Blueprint, abort, request

from bot.runner import BotRunner


def webhook_blueprint(secret: str, runner: BotRunner) -> Blueprint:
    bp = Blueprint("telegram", __name__)

    @bp.post("/telegram/webhook")
    def webhook():
        """An update from Telegram, proven by the secret we registered the webhook with."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not (secret and hmac.compare_digest(given.encode(), secret.encode())):
            abort(403)
        try:
            update = json.loads(request.get_data())
        except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
            update = None
        if isinstance(update, dict) and "update_id" in update:
            runner.feed(update)
        return "", 200  # anything else is acknowledged too, so Telegram stops retrying it

    return bp
