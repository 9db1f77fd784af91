"""How large a body each route of the web app takes, and the check that holds every request to it.

Every POST we serve is refused when its signature is wrong, but the signature is computed over the parsed body:
without a limit, one unauthenticated request of 1,000 MB sat whole in memory before its 403. So each route takes
what its sender really sends, with room to spare, and a route not listed here takes no body at all (every GET).
A new POST route adds its line.

The WSGI server is held to the largest of these (paystage.app.web_server), so it refuses anything bigger after
the headers, before reading it; this check refuses the rest before Flask parses any of it.
"""

from flask import Flask, abort, request

KIB = 1024
BODY_LIMITS = {  # route -> the largest body it takes, in bytes
    # Twilio's form posts: a text's Body is at most 1,600 characters, the whole form a few KiB
    "/sms/inbound": 64 * KIB,
    "/sms/status": 64 * KIB,
    # Telegram's updates: up to 4,096 characters of text, with its entities, a quoted reply and the sender
    "/telegram/webhook": 256 * KIB,
    # Stripe's events: a Checkout Session or a Charge with its metadata, a few KiB; Stripe sets no smaller bound
    "/stripe/webhook": 256 * KIB,
    # the Pay button's form: what to pay and how
    "/p/<token>/pay": 1 * KIB,
    # Approve or Decline under a change order: the answer and the digest of the words shown
    "/p/<token>/change/<int:number>": 1 * KIB,
    # the sandbox page's JSON (sandbox/web.py, only in sandbox mode): a chat message of up to 4,096 characters, a
    # text of up to 1,600, each character up to 12 bytes once escaped; a tap names a message and its button
    "/sandbox/chat": 64 * KIB,
    "/sandbox/phone": 32 * KIB,
    "/sandbox/tap": 1 * KIB,
}
LARGEST_BODY = max(BODY_LIMITS.values())


def init_app(app: Flask) -> None:
    app.before_request(hold_to_body_limit)


def hold_to_body_limit() -> None:
    """Refuse a body larger than its route takes (413), or a multipart one (415), before reading any of it."""
    limit = BODY_LIMITS.get(request.url_rule.rule, 0) if request.url_rule else 0
    request.max_content_length = limit  # werkzeug reads no further, also when no Content-Length was sent
    if (request.content_length or 0) > limit:
        abort(413)
    if request.mimetype == "multipart/form-data":
        abort(415)  # no route takes a file, and a multipart body is parsed into temporary files
    if request.content_length is None and limit:
        # A body without a Content-Length (chunked, from a server that does not dechunk it) would be quietly
        # cut at the limit and the cut form handled: read it now, kept for the view, and refuse it if it is
        # longer (reading past a max_content_length raises 413).
        request.get_data(cache=True)
        request.stream.read(1)
