"""Twilio's webhooks: a customer's text (answered with TwiML at once) and delivery status callbacks.

Input Twilio sends that we cannot use is answered 200 with an empty
<Response/>, so Twilio stops retrying; an unexpected error is logged and
answered with an apology, never a stack trace.
"""

import logging
import re

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from core.delivery import DeliveryError
from core.dispatcher import record_delivery_status
from core.inbound import answer_text
from sms.sender import TwilioSender
from sms.signature import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__)

SID = re.compile(r"[A-Za-z]{2}[0-9A-Za-z]{1,62}")  # Twilio's are "SM" or "MM" and 32 hex digits
ERROR_CODE = re.compile(r"[0-9]{1,6}")  # Twilio's are five digits
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


def field(name: str) -> str:
    """A form field as the database can keep it: a NUL cannot be stored (PostgreSQL refuses the whole row),
    and no phone sends one, so it is dropped and the rest of what the customer said is kept."""
    return request.form.get(name, "").replace("\x00", "")


def twiml(text: str | None) -> Response:
    answer = MessagingResponse()
    if text:
        answer.message(text)
    return Response(str(answer), mimetype="application/xml")


@bp.post("/sms/inbound")
@twilio_signed
def inbound():
    """A customer texted our number."""
    phone, sid = field("From"), field("MessageSid")
    if not (phone and SID.fullmatch(sid)):
        log.warning("ignored an inbound text without a From or with a malformed MessageSid")
        return twiml(None)
    try:
        answer = answer_text(current_app.config["PAYSTAGE_CONTEXT"], phone, field("Body"), sid)
    except Exception:
        log.exception("answering inbound text %s failed", sid)
        return twiml(SORRY)
    return twiml(answer.text)


@bp.post("/sms/status")
@twilio_signed
def status():
    """Twilio tells how a text we sent is doing."""
    sid, state = field("MessageSid"), field("MessageStatus").lower()
    if not SID.fullmatch(sid) or state not in SUPERSEDES:
        return Response(status=204)
    code = field("ErrorCode")
    error_code = int(code) if ERROR_CODE.fullmatch(code) else None
    error = _error(error_code) if state in ("undelivered", "failed") else None
    record_delivery_status(sid, state, supersedes=SUPERSEDES[state], error_code=error_code, error=error,
                           now=current_app.config["PAYSTAGE_CONTEXT"].clock())
    return Response(status=204)


def _error(code: int | None) -> DeliveryError:
    reason = f"Twilio reported error {code}" if code else "Twilio reported the text undelivered"
    return DeliveryError(reason, opted_out=code == TwilioSender.OPTED_OUT,
                         permanent=code in TwilioSender.PERMANENT_CODES)
