"""Twilio's webhooks: a customer's text (answered with TwiML at once) and delivery status callbacks.

Input Twilio sends that we cannot use is answered 200 with an empty
<Response/>, so Twilio stops retrying; an unexpected error is logged and
answered with an apology, never a stack trace.
"""

import logging

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from core.delivery import DeliveryError
from core.dispatcher import record_delivery_status
from core.inbound import answer_text
from sms.sender import TwilioSender
from sms.signature import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__)

SORRY = "Sorry, something went wrong on our side. Please try again in a few minutes."
# a status only ever moves forward: each may replace the ones listed for it
SUPERSEDES = {
    "sending": {"accepted", "scheduled", "queued"},
    "sent": {"accepted", "scheduled", "queued", "sending"},
    "delivered": {"accepted", "scheduled", "queued", "sending", "sent"},
    "undelivered": {"accepted", "scheduled", "queued", "sending", "sent"},
    "failed": {"accepted", "scheduled", "queued", "sending", "sent"},
    "read": {"accepted", "scheduled", "queued", "sending", "sent", "delivered"},
}


def twiml(text: str | None) -> Response:
    answer = MessagingResponse()
    if text:
        answer.message(text)
    return Response(str(answer), mimetype="application/xml")


@bp.post("/sms/inbound")
@twilio_signed
def inbound():
    """A customer texted our number."""
    phone, sid = request.form.get("From", ""), request.form.get("MessageSid", "")
    if not (phone and sid):
        return twiml(None)
    try:
        answer = answer_text(current_app.config["PAYSTAGE_CONTEXT"], phone, request.form.get("Body", ""), sid)
    except Exception:
        log.exception("answering inbound text %s failed", sid)
        return twiml(SORRY)
    return twiml(answer.text)


@bp.post("/sms/status")
@twilio_signed
def status():
    """Twilio tells how a text we sent is doing."""
    sid, state = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "").lower()
    if not sid or state not in SUPERSEDES:
        return Response(status=204)
    code = request.form.get("ErrorCode", "")
    error_code = int(code) if code.isdigit() else None
    error = _error(error_code) if state in ("undelivered", "failed") else None
    record_delivery_status(sid, state, supersedes=SUPERSEDES[state], error_code=error_code, error=error,
                           now=current_app.config["PAYSTAGE_CONTEXT"].clock())
    return Response(status=204)


def _error(code: int | None) -> DeliveryError:
    reason = f"Twilio reported error {code}" if code else "Twilio reported the text undelivered"
    return DeliveryError(reason, opted_out=code == TwilioSender.OPTED_OUT,
                         permanent=code in TwilioSender.PERMANENT_CODES)
