"""`paystage doctor`: are the settings complete, and do the configured services answer?"""

import httpx

from paystage.settings import Settings
from storage.database import open_database, pending


def doctor(settings: Settings) -> int:
    """Print one line per check; exit 1 if something needed is wrong."""
    results = [_database(settings), _public_url(settings), _twilio(settings), _telegram(settings), _stripe(settings)]
    for ok, name, detail in results:
        print(f"{'ok ' if ok else 'NO '} {name:<10} {detail}")
    return 0 if all(ok for ok, _, _ in results) else 1


def _database(settings: Settings) -> tuple[bool, str, str]:
    where = settings.database_url.split("@")[-1]  # never print a password
    try:
        database = open_database(settings.database_url)
        waiting = pending(database)
        database.close()
    except Exception as error:  # noqa: BLE001 - any failure is the answer here
        return False, "database", f"{where}: {error}"
    state = f"{len(waiting)} migration(s) pending, applied at start-up" if waiting else "schema up to date"
    return True, "database", f"{where} ({state})"


def _public_url(settings: Settings) -> tuple[bool, str, str]:
    url = settings.public_base_url
    local = "://127.0.0.1" in url or "://localhost" in url
    if url.startswith("https://") or local:
        note = " (only this machine can reach it: fine for a try, not for Twilio or Telegram)" if local else ""
        return True, "public url", url + note
    return False, "public url", f"{url}: Twilio and Telegram need https"


def _twilio(settings: Settings) -> tuple[bool, str, str]:
    t = settings.twilio
    if t is None:
        return True, "twilio", "not configured: customer texts are logged, not sent (set TWILIO_ACCOUNT_SID...)"
    base = t.api_base_url or "https://api.twilio.com"
    try:
        response = httpx.get(f"{base}/2010-04-01/Accounts/{t.account_sid}.json", auth=(t.account_sid, t.auth_token),
                             timeout=10)
    except httpx.HTTPError as error:
        return False, "twilio", f"{base} did not answer: {type(error).__name__}"
    if response.status_code in (401, 403):
        return False, "twilio", "the account SID or auth token is wrong (Twilio answered 401)"
    return True, "twilio", f"{base} answers (HTTP {response.status_code}); texts come from " \
                           f"{t.from_number or t.messaging_service_sid}"


def _telegram(settings: Settings) -> tuple[bool, str, str]:
    t = settings.telegram
    if t is None:
        return True, "telegram", "not configured: no bot runs (set TELEGRAM_BOT_TOKEN)"
    try:
        response = httpx.get(f"{t.api_base_url}/bot{t.token}/getMe", timeout=10)
    except httpx.HTTPError as error:
        return False, "telegram", f"{t.api_base_url} did not answer: {type(error).__name__}"
    if response.status_code != 200:
        return False, "telegram", f"getMe answered {response.status_code}: is TELEGRAM_BOT_TOKEN right?"
    return True, "telegram", f"@{response.json()['result']['username']} ({t.mode})"


def _stripe(settings: Settings) -> tuple[bool, str, str]:
    s = settings.stripe
    if s is None:
        return True, "stripe", "not configured: the page shows each contractor's own payment instructions " \
                               "(set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)"
    import stripe

    from sms.stripe_gateway import StripeGateway

    base = s.api_base_url or "https://api.stripe.com"
    try:
        StripeGateway(s.secret_key, api_base_url=s.api_base_url).client.v1.events.list(params={"limit": 1})
    except stripe.AuthenticationError:
        return False, "stripe", "STRIPE_SECRET_KEY is wrong (Stripe answered 401)"
    except stripe.StripeError as error:
        return False, "stripe", f"{base} did not answer: {type(error).__name__}"
    mode = "TEST mode: no real money moves" if s.secret_key.startswith(("sk_test_", "rk_test_")) else "live"
    where = "each contractor's own account (/payments)" if s.connect else "one account for the whole install"
    return True, "stripe", f"{base} answers ({mode}); payments go to {where}; webhook: " \
                           f"{settings.public_base_url}/stripe/webhook"
