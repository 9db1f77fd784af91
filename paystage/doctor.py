"""`paystage doctor`: are the settings complete, and do the configured services answer?

One line per check, starting with `ok`, `NO` (something needed is wrong: the exit code is 1) or `--` (not
configured: a channel without credentials, which `paystage run` plays in the sandbox). It makes nothing: no
database file, no data folder, no key.
"""

import httpx

from paystage.settings import Settings, shown_url
from storage.database import open_database, pending, sqlite_file

OK, WRONG, UNSET = "ok", "NO", "--"


def doctor(settings: Settings, sandbox: bool = False) -> int:
    """Print one line per check; exit 1 if something needed is wrong. `sandbox`: `paystage run` would be it."""
    results = [_database(settings), _secret_key(settings), _public_url(settings), _twilio(settings, sandbox),
               _telegram(settings, sandbox), _stripe(settings, sandbox)]
    for status, name, detail in results:
        for secret in settings.secrets():  # an error's text may quote what it was given
            detail = detail.replace(secret, "[redacted]")
        print(f"{status:<3} {name:<10} {detail}")
    return 1 if any(status == WRONG for status, _, _ in results) else 0


def _database(settings: Settings) -> tuple[str, str, str]:
    where = shown_url(settings.database_url)  # never print a password
    file = sqlite_file(settings.database_url)
    if file is not None and not file.exists():
        return OK, "database", f"{file}: not made yet; `paystage run`, `web` or `worker` makes it at start"
    try:
        database = open_database(settings.database_url)
        waiting = pending(database)
        database.close()
    except Exception as error:  # noqa: BLE001 - any failure is the answer here
        return WRONG, "database", f"{where}: {' '.join(str(error).split())}"
    state = f"{len(waiting)} migration(s) pending, applied at start-up" if waiting else "schema up to date"
    return OK, "database", f"{where} ({state})"


def _secret_key(settings: Settings) -> tuple[str, str, str]:
    path = settings.data_dir / "secret_key"
    if not settings.secret_key:
        return UNSET, "secret key", f"not made yet: the first start generates {path} (or set PAYSTAGE_SECRET_KEY)"
    if path.exists() and path.read_text().strip() == settings.secret_key:
        return OK, "secret key", f"{path}, generated: back it up, as every link already sent needs it"
    return OK, "secret key", "PAYSTAGE_SECRET_KEY"


def _public_url(settings: Settings) -> tuple[str, str, str]:
    url = settings.public_base_url
    local = "://127.0.0.1" in url or "://localhost" in url
    if url.startswith("https://") or local:
        note = " (only this machine can reach it: fine for a try, not for Twilio or Telegram)" if local else ""
        return OK, "public url", url + note
    return WRONG, "public url", f"{url}: Twilio and Telegram need https"


def _not_configured(sandbox: bool, in_the_sandbox: str, otherwise: str, settings: str) -> str:
    if sandbox:
        return f"not configured (sandbox): `paystage run` {in_the_sandbox}; set {settings} for the live product"
    return f"not configured: {otherwise} (set {settings})"


def _twilio(settings: Settings, sandbox: bool) -> tuple[str, str, str]:
    t = settings.twilio
    if t is None:
        return UNSET, "twilio", _not_configured(sandbox, "texts the sandbox's phone", "customer texts are logged, "
                                                "not sent", "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER")
    base = t.api_base_url or "https://api.twilio.com"
    try:
        response = httpx.get(f"{base}/2010-04-01/Accounts/{t.account_sid}.json", auth=(t.account_sid, t.auth_token),
                             timeout=10)
    except httpx.HTTPError as error:
        return WRONG, "twilio", f"{base} did not answer: {type(error).__name__}"
    if response.status_code in (401, 403):
        return WRONG, "twilio", "the account SID or auth token is wrong (Twilio answered 401)"
    return OK, "twilio", f"{base} answers (HTTP {response.status_code}); texts come from " \
                         f"{t.from_number or t.messaging_service_sid}"


def _telegram(settings: Settings, sandbox: bool) -> tuple[str, str, str]:
    t = settings.telegram
    if t is None:
        return UNSET, "telegram", _not_configured(sandbox, "is the bot in the sandbox's chat", "no bot runs, "
                                                  "messages to contractors are logged", "TELEGRAM_BOT_TOKEN")
    try:
        response = httpx.get(f"{t.api_base_url}/bot{t.token}/getMe", timeout=10)
    except httpx.HTTPError as error:
        return WRONG, "telegram", f"{t.api_base_url} did not answer: {type(error).__name__}"
    if response.status_code != 200:
        return WRONG, "telegram", f"getMe answered {response.status_code}: is TELEGRAM_BOT_TOKEN right?"
    return OK, "telegram", f"@{response.json()['result']['username']} ({t.mode})"


def _stripe(settings: Settings, sandbox: bool) -> tuple[str, str, str]:
    s = settings.stripe
    if s is None:
        return UNSET, "stripe", _not_configured(sandbox, "takes payments through the sandbox's checkout", "the page "
                                                "shows each contractor's own payment instructions",
                                                "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET")
    import stripe

    from sms.stripe_gateway import StripeGateway

    base = s.api_base_url or "https://api.stripe.com"
    try:
        StripeGateway(s.secret_key, api_base_url=s.api_base_url).client.v1.events.list(params={"limit": 1})
    except stripe.AuthenticationError:
        return WRONG, "stripe", "STRIPE_SECRET_KEY is wrong (Stripe answered 401)"
    except stripe.StripeError as error:
        return WRONG, "stripe", f"{base} did not answer: {type(error).__name__}"
    mode = "TEST mode: no real money moves" if s.secret_key.startswith(("sk_test_", "rk_test_")) else "live"
    where = "each contractor's own account (/payments)" if s.connect else "one account for the whole install"
    return OK, "stripe", f"{base} answers ({mode}); payments go to {where}; webhook: " \
                         f"{settings.public_base_url}/stripe/webhook"
