"""Twilio's request signature, checked before anything else is read or written."""

from functools import wraps

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator


def signed_url() -> str:
    """The URL Twilio signed: the configured public address, not request.url.

    Behind a proxy request.url has the wrong scheme and host, and it decodes
    percent-escapes, either of which breaks the signature.
    """
    query = request.query_string.decode("latin-1")
    return current_app.config["PUBLIC_BASE_URL"] + request.path + (f"?{query}" if query else "")


def twilio_signed(view):
    """Refuse with 403 any request without a valid X-Twilio-Signature."""

    @wraps(view)
    def checked(*args, **kwargs):
        token = current_app.config["TWILIO_AUTH_TOKEN"]
        signature = request.headers.get("X-Twilio-Signature", "")
        if not (token and signature and RequestValidator(token).validate(signed_url(), request.form, signature)):
            abort(403)
        return view(*args, **kwargs)

    return checked
