"""The sandbox page: the visitor is the contractor (a Telegram-like chat with the bot) and the customer (a phone).

Served at / and under /sandbox/ only where `paystage run` registers the blueprint, in sandbox mode. The page is
plain HTML, a stylesheet and one small script (sandbox/static), which polls GET /sandbox/state and posts what the
visitor does as JSON:

    POST /sandbox/chat   {"text": "/jobs", "reply_to": 12}    a message in the chat (reply_to optional)
    POST /sandbox/tap    {"message_id": 7, "data": "send:J-7K2Q"}    a tap on a button under the bot's message
    POST /sandbox/phone  {"phone": "+14155550134", "text": "BAL"}    the customer texts our number
    POST /sandbox/story  (no body)                               play the countertop story's first steps
    GET  /sandbox/file/7                                         the file the bot sent as message 7 (/export's CSV)

Each goes where Telegram or Twilio would send it (sandbox/world.py), so the product answers as in production.
A body the page would never send is a 400 that says what is wrong; anything but JSON is a 415, which also keeps
another site's page from posting here (a cross-site JSON request needs a preflight that is never allowed).
"""

import hashlib
import json
import re
from urllib.parse import quote

import phonenumbers
from flask import Blueprint, Response, jsonify, render_template, request

from .story import STEPS, CountertopStory
from .telegram_api import MAX_TEXT, utf16_len
from .twilio_api import MAX_BODY, encoding, segments
from .world import InboundFailed, Sandbox

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
VERSION = re.compile(r"^[0-9a-f]{16}$")
# The page runs its own script and fetches its own state, nothing else; the customer's page (/p/) keeps the
# app's policy, which allows no script at all (sms/response_headers.py).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "connect-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
])


def sandbox_blueprint(sandbox: Sandbox) -> Blueprint:
    """Serves "/" and everything under /sandbox/ for `sandbox`."""
    bp = Blueprint("sandbox", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/sandbox/static")
    story = CountertopStory(sandbox)

    @bp.after_request
    def own_policy(response: Response) -> Response:
        # the app's headers add the rest and keep this policy (sms/response_headers.py)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    @bp.get("/")
    def page():
        """The two panes, the guided start and the story button."""
        return render_template("sandbox/page.html", visitor_name=sandbox.visitor_name,
                               bot_name=sandbox.bot_api.bot["first_name"], our_number=_national(sandbox.our_number))

    @bp.get("/sandbox/state")
    def state():
        """Everything the page shows, with a version; only the version when it is still `since`."""
        since = request.args.get("since", "")
        if since and not VERSION.match(since):
            return _refused(400, "since must be the version of an earlier state (16 hex digits)")
        shown = {"chat": _chat(sandbox), "phones": _phones(sandbox), "story": _story(story)}
        version = hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:16]
        if version == since:
            return jsonify(version=version, changed=False)
        return jsonify(version=version, changed=True, **shown)

    @bp.post("/sandbox/chat")
    def chat():
        """The visitor sends a message to the bot, maybe as a reply to one of its messages."""
        body, refusal = _json_object()
        if refusal:
            return refusal
        text, reply_to = body.get("text"), body.get("reply_to")
        if not isinstance(text, str) or not text.strip():
            return _refused(400, "text must be the message, a non-empty string")
        if utf16_len(text) > MAX_TEXT:
            return _refused(400, f"text is longer than Telegram takes ({MAX_TEXT:,} characters)")
        if reply_to is not None and not _is_id(reply_to):
            return _refused(400, "reply_to must be the id of a message in the chat, or left out")
        try:
            update = sandbox.say(text, reply_to=reply_to)
        except KeyError:
            return _refused(400, f"there is no message {reply_to} in the chat to reply to")
        return jsonify(update_id=update["update_id"], message_id=update["message"]["message_id"]), 202

    @bp.post("/sandbox/tap")
    def tap():
        """The visitor taps a button under one of the bot's messages."""
        body, refusal = _json_object()
        if refusal:
            return refusal
        message_id, data = body.get("message_id"), body.get("data")
        if not _is_id(message_id) or not isinstance(data, str) or not data:
            return _refused(400, "message_id must be the id of a bot message and data its button's callback_data")
        try:
            update = sandbox.tap(message_id, data)
        except KeyError:
            return _refused(400, f"there is no message {message_id} in the chat")
        except ValueError:
            return _refused(409, "that button is no longer under the message; it changed meanwhile")
        return jsonify(update_id=update["update_id"]), 202

    @bp.post("/sandbox/phone")
    def phone():
        """A customer texts our number from their phone; the answer the app gives at once."""
        body, refusal = _json_object()
        if refusal:
            return refusal
        number, text = body.get("phone"), body.get("text")
        if not isinstance(number, str) or not E164.match(number):
            return _refused(400, "phone must be the customer's number in E.164, like +14155550134")
        if not isinstance(text, str) or not text.strip():
            return _refused(400, "text must be the text message, a non-empty string")
        if len(text) > MAX_BODY:
            return _refused(400, f"text is longer than Twilio takes ({MAX_BODY:,} characters)")
        try:
            answers = sandbox.text_in(number, text)
        except InboundFailed as error:
            return _refused(502, str(error))
        return jsonify(answers=answers)

    @bp.get("/sandbox/file/<int:message_id>")
    def file(message_id: int):
        """The file the bot sent in the visitor's chat as message `message_id`, to save (the chat shows its name)."""
        sent = sandbox.bot_api.document(sandbox.visitor_id, message_id)
        if sent is None:
            return _refused(404, f"the bot sent no file as message {message_id} in the chat")
        response = Response(sent["content"], mimetype="application/octet-stream")
        response.headers["Content-Disposition"] = _attachment(sent["filename"])
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @bp.post("/sandbox/story")
    def play_story():
        """Play the countertop story's first steps through the bot."""
        if not story.start():
            return _refused(409, "the story is playing already")
        return jsonify(steps=STEPS), 202

    return bp


def _chat(sandbox: Sandbox) -> list[dict]:
    bot = sandbox.bot_api.bot["id"]
    shown = []
    for m in sandbox.chat():
        rows = (m.get("reply_markup") or {}).get("inline_keyboard", [])
        replied = m.get("reply_to_message")
        document = m.get("document")
        shown.append({
            "id": m["message_id"],
            "mine": m["from"]["id"] != bot,
            "text": m.get("text", m.get("caption", "")),  # a document's caption
            "document": {"name": document.get("file_name") or "file", "size": document.get("file_size", 0),
                         "url": f"/sandbox/file/{m['message_id']}"} if document else None,
            "date": m["date"],
            "edited": "edit_date" in m,
            "buttons": [[{"text": b["text"], "data": b.get("callback_data"), "url": b.get("url")} for b in row]
                        for row in rows],
            "reply_to": {"id": replied["message_id"], "text": replied.get("text", replied.get("caption", ""))}
            if replied else None,
        })
    return shown


def _attachment(filename: str) -> str:
    """A Content-Disposition that saves the file under its name: ASCII as it is, anything else as RFC 6266 says."""
    plain = re.sub(r'[^A-Za-z0-9._ -]', "_", filename) or "file"
    return f'attachment; filename="{plain}"; filename*=UTF-8\'\'{quote(filename, safe="")}'


def _phones(sandbox: Sandbox) -> list[dict]:
    return [{"number": number, "name": _national(number), "texts": [
        {"body": t.body, "incoming": t.incoming, "answer": t.answer, "at": round(t.at.timestamp(), 3),
         "segments": segments(t.body), "encoding": encoding(t.body)} for t in texts]}
            for number, texts in sandbox.phones().items()]


def _story(story: CountertopStory) -> dict:
    p = story.progress
    return {"running": p.running, "step": p.step, "steps": STEPS, "error": p.error}


def _national(number: str) -> str:
    """(415) 555-0134 for a US number, +44 20 7946 0958 for another: how the phone's owner reads it."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if parsed.country_code == 1
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(parsed, style)


def _json_object() -> tuple[dict, Response | None]:
    """The request's JSON object, or the refusal to answer with."""
    if not request.is_json:
        return {}, _refused(415, "send a JSON object, with Content-Type: application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return {}, _refused(400, "the body must be a JSON object")
    return body, None


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _refused(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response
