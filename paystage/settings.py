"""Settings from the environment (or a .env file), each with a default that works on a fresh machine.

A malformed setting stops start-up with one line that names it.
"""

import importlib.util
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import find_dotenv, load_dotenv

from core import regional
from core.context import Defaults, ReminderPolicy
from core.errors import InvalidInput
from core.money import parse_amount
from core.quiet_hours import QuietHours

MIN_SECRET_KEY = 32  # signs every payment link: a short key can be guessed offline from one link
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MIN_AUTH_TOKEN = 16  # Twilio's are 32 hex digits; the token is also the key of every webhook signature
# what makes `paystage run` the live product: any of them set, the sandbox is off (the same ones _telegram, _twilio
# and _stripe take as "configured")
REAL_CREDENTIALS = ("TELEGRAM_BOT_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER",
                    "TWILIO_MESSAGING_SERVICE_SID", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+pool", "postgres+pool")  # what playhouse.db_url opens
# The settings, by what they are for: each command's --help names the groups it reads (paystage/cli.py), and
# tests/test_cli.py holds this to what from_env and sandbox_mode really read, and to the README's tables.
SETTING_GROUPS = {
    "database": ("DATABASE_URL", "PAYSTAGE_DATA_DIR"),
    "links": ("PUBLIC_BASE_URL", "PAYSTAGE_SECRET_KEY"),
    "address": ("HOST", "PORT"),
    "regional": ("PAYSTAGE_TIMEZONE", "PAYSTAGE_CURRENCY", "PAYSTAGE_LOCALE", "PAYSTAGE_REGION"),
    "rules": ("PAYSTAGE_QUIET_HOURS", "PAYSTAGE_REMINDER_FIRST_DAYS", "PAYSTAGE_REMINDER_EVERY_DAYS",
              "PAYSTAGE_REMINDER_MAX", "PAYSTAGE_CHANGE_ORDER_DAYS"),
    "sending": ("PAYSTAGE_SMS_PER_SECOND", "PAYSTAGE_SEND_LEASE_SECONDS", "PAYSTAGE_DISPATCHERS"),
    "twilio": ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID",
               "TWILIO_API_BASE_URL"),
    "telegram": ("TELEGRAM_BOT_TOKEN", "TELEGRAM_MODE", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_BASE_URL",
                 "PAYSTAGE_ALLOWED_TELEGRAM_IDS"),
    "stripe": ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT", "STRIPE_API_BASE_URL",
               "PAYSTAGE_BANK_FIRST_ABOVE"),
    "log": ("PAYSTAGE_LOG_LEVEL", "PAYSTAGE_LOG_FORMAT"),
    "metrics": ("METRICS_PORT",),
    "sandbox": ("PAYSTAGE_SANDBOX", "PAYSTAGE_SANDBOX_ANY_HOST"),
}


class SettingError(Exception):
    """A setting is missing or malformed; the message names it. The command stops with exit code 2: fix it."""


class Unavailable(Exception):
    """Something start-up needs is not there now: a service that does not answer, a port or a database another
    process holds. The message names it; the command stops with exit code 3, as trying again later may work."""


@dataclass(frozen=True)
class Twilio:
    account_sid: str
    auth_token: str = field(repr=False)
    from_number: str | None
    messaging_service_sid: str | None
    api_base_url: str | None


@dataclass(frozen=True)
class Telegram:
    token: str = field(repr=False)
    api_base_url: str  # the Bot API server: Telegram's, a self-hosted one, or a local fake
    mode: str  # polling or webhook
    webhook_secret: str | None = field(default=None, repr=False)
    allowed_ids: frozenset[int] | None = None  # who may register without an invite (core.access); None: nobody


@dataclass(frozen=True)
class Stripe:
    secret_key: str = field(repr=False)
    webhook_secrets: tuple[str, ...] = field(repr=False)  # the account endpoint's; with Connect, the Connect one's too
    connect: bool  # each contractor connects their own account; else one account for the whole install
    api_base_url: str | None  # another Stripe-compatible API (a local fake in tests)
    bank_first_above: int  # minor units: above this, bank transfer is offered before card


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    public_base_url: str
    secret_key: str = field(repr=False)
    defaults: Defaults = Defaults()
    reminders: ReminderPolicy = ReminderPolicy()
    quiet_hours: QuietHours = QuietHours()
    change_order_days: float = 7  # an unanswered change order expires after this long (reminded once, halfway)
    sms_per_second: float = 1.0  # per Twilio number; 0 turns pacing off
    send_lease: timedelta = timedelta(minutes=5)  # how long a dispatcher holds a claimed batch
    dispatchers: int = 1  # sending threads in each worker: each has one text in flight
    twilio: Twilio | None = None  # None: texts are logged, not sent
    host: str = "127.0.0.1"
    port: int = 8000
    telegram: Telegram | None = None  # None: contractor messages are logged, no bot runs
    log_level: str = "INFO"
    stripe: Stripe | None = None  # None: the page shows the contractor's own payment instructions
    log_format: str = "text"  # or json: one object a line, for a log shipper
    metrics_port: int | None = None  # /metrics is served on 127.0.0.1 at this port; None: not served

    def secrets(self) -> list[str]:
        """Every secret this process was given: none of them may reach a log line."""
        given = [self.secret_key, urlsplit(self.database_url).password or ""]
        if self.twilio:
            given.append(self.twilio.auth_token)
        if self.telegram:
            given += [self.telegram.token, self.telegram.webhook_secret or ""]
        if self.stripe:
            given += [self.stripe.secret_key, *self.stripe.webhook_secrets]
        return [secret for secret in given if secret]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, new_key: bool = True) -> "Settings":
        """The settings in `env` (default: the environment and .env), each checked.

        Without PAYSTAGE_SECRET_KEY the key is DATA_DIR/secret_key, generated there when missing if `new_key`;
        a command that signs no link passes False, and makes no data folder: its secret_key is "" until a
        command that does has made one.
        """
        env = environment() if env is None else env
        data_dir = Path(env.get("PAYSTAGE_DATA_DIR", "data"))
        defaults = Defaults(
            timezone=_checked(regional.timezone_name, env, "PAYSTAGE_TIMEZONE", Defaults.timezone),
            currency=_checked(regional.currency_code, env, "PAYSTAGE_CURRENCY", Defaults.currency),
            locale=_checked(regional.locale_name, env, "PAYSTAGE_LOCALE", Defaults.locale),
            region=_checked(regional.phone_region, env, "PAYSTAGE_REGION", Defaults.region),
        )
        return cls(
            database_url=_database_url(env.get("DATABASE_URL", ""), data_dir),
            data_dir=data_dir,
            public_base_url=_url(env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")),
            secret_key=_secret("PAYSTAGE_SECRET_KEY", env.get("PAYSTAGE_SECRET_KEY")) or _local_secret(data_dir,
                                                                                                     new_key),
            defaults=defaults,
            reminders=ReminderPolicy(
                first=timedelta(days=_number(env, "PAYSTAGE_REMINDER_FIRST_DAYS", 3)),
                every=timedelta(days=_number(env, "PAYSTAGE_REMINDER_EVERY_DAYS", 7)),
                most=int(_number(env, "PAYSTAGE_REMINDER_MAX", 3)),
            ),
            quiet_hours=_quiet_hours(env.get("PAYSTAGE_QUIET_HOURS", "21:00-08:00")),
            change_order_days=_positive(env, "PAYSTAGE_CHANGE_ORDER_DAYS", 7),
            sms_per_second=_number(env, "PAYSTAGE_SMS_PER_SECOND", 1),
            send_lease=timedelta(seconds=_number(env, "PAYSTAGE_SEND_LEASE_SECONDS", 300)),
            dispatchers=_count(env, "PAYSTAGE_DISPATCHERS", 1),
            twilio=_twilio(env),
            host=env.get("HOST", "127.0.0.1"),
            port=_port(env.get("PORT", "8000")),
            telegram=_telegram(env),
            log_level=_log_level(env.get("PAYSTAGE_LOG_LEVEL", "INFO")),
            stripe=_stripe(env),
            log_format=_log_format(env.get("PAYSTAGE_LOG_FORMAT", "text")),
            metrics_port=_port(env["METRICS_PORT"].strip(), "METRICS_PORT") if env.get("METRICS_PORT", "").strip()
            else None,
        )


def environment() -> dict[str, str]:
    """The process's environment, with a .env file in the working directory under it (the README's promise:
    python-dotenv's own default looks beside the code that calls it instead)."""
    load_dotenv(find_dotenv(usecwd=True))
    return dict(os.environ)


def sandbox_choice(env: dict[str, str]) -> str:
    """PAYSTAGE_SANDBOX: on, off, or auto (the default: on exactly when no real credentials are set)."""
    text = env.get("PAYSTAGE_SANDBOX", "").strip().lower() or "auto"
    if text not in ("auto", "on", "off"):
        raise SettingError(f"PAYSTAGE_SANDBOX={text!r} must be on, off or auto")
    return text


def sandbox_mode(env: dict[str, str]) -> bool:
    """Whether `paystage run` runs the sandbox (docs/design.md, "Sandbox"): the product against local stand-ins for
    Telegram, Twilio and Stripe, in the same process.

    Never with real credentials, which would be ignored (a token set and nothing sent would be a puzzle), and on
    loopback only: the sandbox answers anyone who reaches it as the contractor, with no Telegram account behind.
    """
    choice = sandbox_choice(env)
    given = [name for name in REAL_CREDENTIALS if env.get(name, "").strip()]
    if choice == "off" or (choice == "auto" and given):
        return False
    if given:
        raise SettingError(f"PAYSTAGE_SANDBOX=on with real credentials set ({', '.join(given)}): the sandbox never "
                           "runs with them; unset PAYSTAGE_SANDBOX for the live product")
    host = env.get("HOST", "127.0.0.1").strip()
    allow_any = env.get("PAYSTAGE_SANDBOX_ANY_HOST", "").strip().lower()
    if allow_any not in ("", "yes", "no"):
        raise SettingError(f"PAYSTAGE_SANDBOX_ANY_HOST={allow_any!r} must be yes or no")
    if host not in LOOPBACK_HOSTS and allow_any != "yes":
        raise SettingError(f"HOST={host!r}: the sandbox listens on loopback only (127.0.0.1, localhost or ::1), as "
                           "whoever reaches it acts as the contractor; PAYSTAGE_SANDBOX_ANY_HOST=yes allows it")
    return True


def _positive(env: dict[str, str], name: str, default: float) -> float:
    value = _number(env, name, default)
    if value <= 0:
        raise SettingError(f"{name}={env[name]!r} must be a number of days above 0")
    return value


def _count(env: dict[str, str], name: str, default: int) -> int:
    value = _number(env, name, default)
    if value < 1 or value != int(value):
        raise SettingError(f"{name}={env[name]!r} must be a whole number, 1 or more")
    return int(value)


def _number(env: dict[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value < 0:
        raise SettingError(f"{name}={text!r} must be a number, 0 or more")
    return value


def _telegram(env: dict[str, str]) -> Telegram | None:
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    mode = env.get("TELEGRAM_MODE", "polling").strip().lower()
    if mode not in ("polling", "webhook"):
        raise SettingError(f"TELEGRAM_MODE={mode!r} must be polling or webhook")
    if not token:
        return None
    if ":" not in token:
        raise SettingError("TELEGRAM_BOT_TOKEN does not look like a bot token (BotFather gives 123456:ABC...)")
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None
    if mode == "webhook" and not (secret and re.fullmatch(r"[A-Za-z0-9_-]{8,256}", secret)):
        raise SettingError("TELEGRAM_WEBHOOK_SECRET is required in webhook mode: 8-256 letters, digits, _ or -")
    allowed = env.get("PAYSTAGE_ALLOWED_TELEGRAM_IDS", "").strip()
    ids = [part.strip() for part in allowed.split(",") if part.strip()]
    if not all(part.lstrip("-").isdigit() for part in ids):
        raise SettingError(f"PAYSTAGE_ALLOWED_TELEGRAM_IDS={allowed!r} must be Telegram user ids, comma-separated")
    base = env.get("TELEGRAM_API_BASE_URL", "").strip()
    return Telegram(token, _url(base, "TELEGRAM_API_BASE_URL") if base else "https://api.telegram.org", mode,
                    secret, frozenset(int(part) for part in ids) if ids else None)


def _log_format(text: str) -> str:
    form = text.strip().lower()
    if form not in ("text", "json"):
        raise SettingError(f"PAYSTAGE_LOG_FORMAT={text!r} must be text or json")
    return form


def _log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in LOG_LEVELS:
        raise SettingError(f"PAYSTAGE_LOG_LEVEL={text!r} must be one of {', '.join(LOG_LEVELS)}")
    return level


def _stripe(env: dict[str, str]) -> Stripe | None:
    key, secret = env.get("STRIPE_SECRET_KEY", "").strip(), env.get("STRIPE_WEBHOOK_SECRET", "").strip()
    connect = env.get("STRIPE_CONNECT", "off").strip().lower()
    if connect not in ("on", "off"):
        raise SettingError(f"STRIPE_CONNECT={connect!r} must be on or off")
    threshold = env.get("PAYSTAGE_BANK_FIRST_ABOVE", "1000.00").strip()
    try:
        bank_first_above = parse_amount(threshold, "USD", "en_US")
    except InvalidInput:
        raise SettingError(f"PAYSTAGE_BANK_FIRST_ABOVE={threshold!r} must be an amount, like 1000.00") from None
    if not (key or secret):
        return None
    if not key.startswith(("sk_", "rk_")):
        raise SettingError("STRIPE_SECRET_KEY must be a Stripe secret key (sk_live_... or sk_test_...)")
    secrets = tuple(part.strip() for part in secret.split(",") if part.strip())
    if not secrets or not all(part.startswith("whsec_") for part in secrets):
        raise SettingError("STRIPE_WEBHOOK_SECRET must be the webhook endpoint's signing secret (whsec_...; with "
                           "Connect, the Connect endpoint's too, comma-separated): without it no payment is confirmed")
    base = env.get("STRIPE_API_BASE_URL", "").strip()
    return Stripe(key, secrets, connect == "on", _url(base, "STRIPE_API_BASE_URL") if base else None,
                  bank_first_above)


def _port(text: str, name: str = "PORT") -> int:
    if not (text.isdigit() and 0 < int(text) < 65536):
        raise SettingError(f"{name}={text!r} must be a port number from 1 to 65535")
    return int(text)


def _quiet_hours(text: str) -> QuietHours:
    try:
        return QuietHours.parse(text)
    except ValueError as error:
        raise SettingError(f"PAYSTAGE_QUIET_HOURS: {error}") from None


def _twilio(env: dict[str, str]) -> Twilio | None:
    sid, token = env.get("TWILIO_ACCOUNT_SID", ""), env.get("TWILIO_AUTH_TOKEN", "")
    number, service = env.get("TWILIO_FROM_NUMBER") or None, env.get("TWILIO_MESSAGING_SERVICE_SID") or None
    if not (sid or token or number or service):
        return None
    if not sid:
        raise SettingError("TWILIO_ACCOUNT_SID is missing (the other TWILIO_ settings are set)")
    if not token:
        raise SettingError("TWILIO_AUTH_TOKEN is missing (the other TWILIO_ settings are set)")
    _secret("TWILIO_AUTH_TOKEN", token, least=MIN_AUTH_TOKEN)
    if bool(number) == bool(service):
        raise SettingError("set one of TWILIO_FROM_NUMBER and TWILIO_MESSAGING_SERVICE_SID")
    base = env.get("TWILIO_API_BASE_URL") or None
    return Twilio(sid, token, number, service, _url(base, "TWILIO_API_BASE_URL") if base else None)


def _database_url(text: str, data_dir: Path) -> str:
    """sqlite:///path or postgresql://...: refused here, in a line naming DATABASE_URL, rather than by a driver."""
    url = text.strip()
    if not url:
        return f"sqlite:///{data_dir / 'paystage.sqlite3'}"
    scheme, shown = url.partition(":")[0].lower(), shown_url(url)
    if url.startswith("sqlite:///"):
        if url == "sqlite:///":
            raise SettingError("DATABASE_URL='sqlite:///' names no file: add its path, like sqlite:///data/paystage.sqlite3")
        return url
    if scheme in ("mysql", "mysql+pool", "mariadb"):
        raise SettingError(f"DATABASE_URL={shown!r}: MySQL is not supported; use sqlite:///path or "
                           "postgresql://user@host:5432/db")
    try:
        port_ok = urlsplit(url).port is None or urlsplit(url).port > 0
    except ValueError:
        port_ok = False
    if scheme not in POSTGRES_SCHEMES or not url[len(scheme):].startswith("://") or not port_ok:
        raise SettingError(f"DATABASE_URL={shown!r} must be sqlite:///path (three slashes) or "
                           "postgresql://user@host:5432/db")
    if importlib.util.find_spec("psycopg2") is None:
        raise SettingError("DATABASE_URL names PostgreSQL, whose driver is not installed: "
                           "pip install -e '.[postgres]'")
    return url


def shown_url(url: str) -> str:
    """`url` as it may be printed: its password, if any, replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(a URL that cannot be read)"
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{host}").geturl()


def _checked(check, env: dict[str, str], name: str, default: str) -> str:
    try:
        return check(env.get(name, default))
    except InvalidInput as error:
        raise SettingError(f"{name}={error}") from None  # the reason starts with the value


def _url(url: str, name: str = "PUBLIC_BASE_URL") -> str:
    """A scheme, a host, an optional port and an optional path: what Twilio signs and every link starts with.

    A query, a fragment or credentials would end up in the middle of every link
    (https://pay.example?x=1/p/...) and break every webhook signature.
    """
    parts = urlsplit(url.strip())
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # not a number, or past 65535
        port_ok = False
    if (parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or parts.username is not None
            or parts.password is not None or "?" in url or "#" in url or any(c.isspace() for c in url.strip())):
        raise SettingError(f"{name}={shown_url(url)!r} must be a scheme, a host, an optional port and path only, "
                           "like https://pay.example.com")
    return url.strip().rstrip("/")


def _secret(name: str, value: str | None, least: int = MIN_SECRET_KEY) -> str | None:
    """A secret given in the environment, refused when it is too short to keep anything secret."""
    if value is None or value == "":
        return None
    if len(value) < least or any(c.isspace() for c in value):
        raise SettingError(f"{name} must be at least {least} characters with no spaces "
                           "(python3 -c 'import secrets; print(secrets.token_urlsafe(32))' makes one)")
    return value


def _local_secret(data_dir: Path, new_key: bool = True) -> str:
    """Without PAYSTAGE_SECRET_KEY, a random key kept in the data directory, so links outlive a restart.
    Without `new_key`, the key there or "": nothing is made.

    The file is created readable by its owner only (never world-readable, not
    even for a moment), and whole: the key is written to a file of its own and
    linked into place, so of two processes starting at once on a fresh data
    directory one wins and both read its key. An empty one is replaced.
    """
    path = data_dir / "secret_key"
    key = path.read_text().strip() if path.exists() else ""
    if key or not new_key:
        return key
    data_dir.mkdir(parents=True, exist_ok=True)
    draft = data_dir / f".secret_key.{secrets.token_hex(8)}"
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(32))
    try:
        os.link(draft, path)  # fails if another process linked its key first
    except FileExistsError:
        if not path.read_text().strip():  # an empty file, left by a crash
            os.replace(draft, path)
    finally:
        draft.unlink(missing_ok=True)
    return path.read_text().strip()
