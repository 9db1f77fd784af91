"""The headers on every answer of the web app, written for the customer's page: its link is the key to the job.

The page has no script and no image; its one form (Pay) goes to the app, which sends it on to the payment
provider's checkout; and its styles come from its own stylesheet (sms/static), so the
policy can allow that one thing and refuse everything else.
"""

from flask import Flask, Response, current_app

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",  # no script, image, font or connection of any kind
    "style-src 'self'",  # the page's stylesheet, never an inline <style>
    "frame-ancestors 'none'",  # no other site may show the page inside its own
    "form-action 'self'",
    "base-uri 'none'",
])
RESPONSE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # a shared computer's back button or a proxy's cache must not show someone's job and balance again
    "Cache-Control": "no-store",
    # the address is the token itself: a tap on the contractor's phone number or any link must not send it on
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that do not read it
    "X-Content-Type-Options": "nosniff",
}


def init_app(app: Flask) -> None:
    app.after_request(add_response_headers)


def add_response_headers(response: Response) -> Response:
    # A page of another kind sets its own policy and keeps it: the sandbox's page (sandbox/web.py, registered in
    # sandbox mode only) runs a script. No view of the customer's sets one, so theirs is always the one above.
    own_policy = response.headers.get("Content-Security-Policy")
    response.headers.update(RESPONSE_HEADERS)
    payments = current_app.config.get("PAYMENTS")
    if own_policy:
        response.headers["Content-Security-Policy"] = own_policy
    elif payments is not None:  # the Pay form's redirect goes to the provider's checkout: form-action covers it
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {payments.checkout_origin}")
    return response
