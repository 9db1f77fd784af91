"""Settings: defaults that work on a fresh machine, one clear line for each malformed setting."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.context import Defaults
from paystage.settings import SettingError, Settings

KEY = "a-key-from-the-environment-long-enough-to-sign"


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def test_an_empty_environment_gets_working_defaults(data_dir):
    settings = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)})
    assert settings.data_dir == data_dir
    assert settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.defaults == Defaults(timezone="America/New_York", currency="USD", locale="en_US", region="US")
    assert len(settings.secret_key) >= 32


def test_the_default_database_is_a_sqlite_file_in_the_data_dir(data_dir):
    settings = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)})
    assert settings.database_url == f"sqlite:///{data_dir / 'paystage.sqlite3'}"


def test_database_url_wins_when_set(data_dir):
    url = "postgresql://paystage@db.internal:5432/paystage"
    settings = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir), "DATABASE_URL": url})
    assert settings.database_url == url


def test_well_formed_settings_are_taken_and_normalised(data_dir):
    settings = Settings.from_env(
        {
            "PAYSTAGE_DATA_DIR": str(data_dir),
            "PAYSTAGE_TIMEZONE": "Europe/Berlin",
            "PAYSTAGE_CURRENCY": "eur",
            "PAYSTAGE_LOCALE": "de_DE",
            "PAYSTAGE_REGION": "de",
            "PUBLIC_BASE_URL": "https://pay.example.com/",
        }
    )
    assert settings.defaults == Defaults(timezone="Europe/Berlin", currency="EUR", locale="de_DE", region="DE")
    assert settings.public_base_url == "https://pay.example.com"


@pytest.mark.parametrize(
    "name, value",
    [
        ("PAYSTAGE_TIMEZONE", "Mars/Base"),
        ("PAYSTAGE_TIMEZONE", ""),
        ("PAYSTAGE_CURRENCY", "XYZ"),
        ("PAYSTAGE_CURRENCY", "EURO"),
        ("PAYSTAGE_LOCALE", "xx_QQ"),
        ("PAYSTAGE_LOCALE", "en-US"),
        ("PAYSTAGE_REGION", "ZZ"),
        ("PUBLIC_BASE_URL", "ftp://x"),
        ("PUBLIC_BASE_URL", "pay.example.com"),
        ("PUBLIC_BASE_URL", "https://pay.example?x=1"),
        ("PUBLIC_BASE_URL", "https://pay.example/#top"),
        ("PUBLIC_BASE_URL", "https://user:pass@pay.example"),
        ("PUBLIC_BASE_URL", "https://pay.example:99999"),
        ("PUBLIC_BASE_URL", "https://pay.example:0"),
        ("PUBLIC_BASE_URL", "https://pay example.com"),
    ],
)
def test_a_malformed_setting_stops_start_up_with_a_message_naming_it(data_dir, name, value):
    with pytest.raises(SettingError) as caught:
        Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir), name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}=")
    assert "\n" not in message


def test_a_public_base_url_with_a_port_and_a_path_is_taken(data_dir):
    settings = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir), "PUBLIC_BASE_URL": "https://example.com:8443/pay/"})
    assert settings.public_base_url == "https://example.com:8443/pay"


WEAK_KEYS = {"one-letter": "a", "blank": "   ", "31-characters": "x" * 31,
             "spaces": "a key with spaces, long enough to sign"}


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
def test_a_weak_secret_key_stops_start_up_without_printing_it(data_dir, key):
    with pytest.raises(SettingError) as caught:
        Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir), "PAYSTAGE_SECRET_KEY": key})
    assert str(caught.value).startswith("PAYSTAGE_SECRET_KEY must be at least 32 characters")
    assert len(key.strip()) < 2 or key.strip() not in str(caught.value)


@pytest.mark.parametrize("token", [" ", "\t", "short", "a token with spaces in it"])
def test_a_blank_or_weak_twilio_auth_token_stops_start_up(data_dir, token):
    env = {"PAYSTAGE_DATA_DIR": str(data_dir), "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": token,
           "TWILIO_FROM_NUMBER": "+14155550100"}
    with pytest.raises(SettingError, match="^TWILIO_AUTH_TOKEN must be at least 16 characters"):
        Settings.from_env(env)


def test_an_api_base_url_with_a_query_is_refused(data_dir):
    env = {"PAYSTAGE_DATA_DIR": str(data_dir), "TELEGRAM_BOT_TOKEN": "123:abc",
           "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081?x=1"}
    with pytest.raises(SettingError, match="^TELEGRAM_API_BASE_URL="):
        Settings.from_env(env)


def test_a_public_base_url_without_a_host_is_refused(data_dir):
    with pytest.raises(SettingError, match="PUBLIC_BASE_URL"):
        Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir), "PUBLIC_BASE_URL": "https://"})


# -- the secret key --------------------------------------------------------------------------------------------


def test_the_generated_secret_key_survives_a_restart(data_dir):
    first = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)})
    second = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)})
    assert first.secret_key == second.secret_key


def test_each_data_dir_gets_its_own_secret_key(tmp_path):
    one = Settings.from_env({"PAYSTAGE_DATA_DIR": str(tmp_path / "one")})
    two = Settings.from_env({"PAYSTAGE_DATA_DIR": str(tmp_path / "two")})
    assert one.secret_key != two.secret_key


def test_the_secret_key_file_is_readable_by_its_owner_only(data_dir):
    Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)})
    assert stat.S_IMODE((data_dir / "secret_key").stat().st_mode) == 0o600


def test_paystage_secret_key_wins_and_no_key_file_is_written(data_dir):
    settings = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir), "PAYSTAGE_SECRET_KEY": KEY})
    assert settings.secret_key == KEY
    assert not (data_dir / "secret_key").exists()


def test_paystage_secret_key_wins_over_an_existing_key_file(data_dir):
    generated = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)}).secret_key
    settings = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir), "PAYSTAGE_SECRET_KEY": KEY})
    assert settings.secret_key == KEY != generated


def test_an_empty_secret_key_file_is_never_used_as_the_key(data_dir):
    data_dir.mkdir()
    (data_dir / "secret_key").write_text("")
    try:
        settings = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)})
    except SettingError:
        return  # refusing to start is as good as making a new key
    assert settings.secret_key != ""


def test_the_secret_key_file_is_created_owner_only_from_the_start(data_dir, monkeypatch):
    created = []
    real_open = os.open

    def spying_open(path, flags, mode=0o777, *args, **kwargs):
        if "secret_key" in Path(path).name and flags & os.O_CREAT:
            created.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spying_open)
    Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)})
    assert created == [0o600]  # the mode is given at creation, not fixed up by a chmod afterwards


def test_processes_starting_together_on_a_fresh_data_dir_agree_on_one_key(data_dir):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)}).secret_key, range(32)))
    assert len(keys) == 1 and keys == {(data_dir / "secret_key").read_text()}
    assert [p.name for p in data_dir.iterdir()] == ["secret_key"]  # no drafts left behind


# -- Stripe ------------------------------------------------------------------------------------------------------


def test_without_stripe_keys_the_page_keeps_the_contractors_instructions(data_dir):
    assert Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)}).stripe is None


def test_stripe_settings_are_taken_with_the_bank_first_threshold_in_cents(data_dir):
    settings = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir), "STRIPE_SECRET_KEY": "sk_test_abc",
                                  "STRIPE_WEBHOOK_SECRET": "whsec_abc", "PAYSTAGE_BANK_FIRST_ABOVE": "2,500.00",
                                  "STRIPE_CONNECT": "on"})
    assert settings.stripe.bank_first_above == 250_000 and settings.stripe.connect
    assert {"sk_test_abc", "whsec_abc"} <= set(settings.secrets())


@pytest.mark.parametrize("env, named", [
    ({"STRIPE_SECRET_KEY": "sk_test_abc"}, "STRIPE_WEBHOOK_SECRET"),
    ({"STRIPE_SECRET_KEY": "pk_test_abc", "STRIPE_WEBHOOK_SECRET": "whsec_abc"}, "STRIPE_SECRET_KEY"),
    ({"STRIPE_CONNECT": "maybe"}, "STRIPE_CONNECT"),
    ({"PAYSTAGE_BANK_FIRST_ABOVE": "lots"}, "PAYSTAGE_BANK_FIRST_ABOVE"),
])
def test_a_malformed_stripe_setting_stops_start_up_naming_it(data_dir, env, named):
    with pytest.raises(SettingError, match=f"^{named}"):
        Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir), **env})


@pytest.mark.parametrize("url, says", [
    ("foo", "must be sqlite:///path"),
    ("sqlite://relative.sqlite3", "three slashes"),
    ("sqlite:///", "names no file"),
    ("mysql://paystage:db-password-1@db:3306/paystage", "MySQL is not supported"),
    ("postgresql://paystage:db-password-1@db:notaport/paystage", "must be sqlite:///path"),
])
def test_a_database_url_no_driver_can_open_is_refused_naming_it_without_its_password(data_dir, url, says):
    with pytest.raises(SettingError, match="^DATABASE_URL") as refused:
        Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir), "DATABASE_URL": url})
    assert says in str(refused.value) and "db-password-1" not in str(refused.value)


@pytest.mark.parametrize("url", ["postgres://paystage@db/paystage", "postgresql+pool://paystage@db:5432/paystage",
                                 "sqlite:///:memory:", "sqlite:////var/lib/paystage/paystage.sqlite3"])
def test_every_database_url_the_readme_allows_is_taken(data_dir, url):
    assert Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir), "DATABASE_URL": url}).database_url == url


def test_a_url_with_credentials_is_refused_without_printing_the_password(data_dir):
    with pytest.raises(SettingError, match="^PUBLIC_BASE_URL") as refused:
        Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir), "PUBLIC_BASE_URL": "https://me:hunter2-pw@pay.example"})
    assert "hunter2-pw" not in str(refused.value)


def test_a_command_that_signs_no_link_makes_no_key_and_no_data_folder(data_dir):
    settings = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)}, new_key=False)
    assert settings.secret_key == "" and not data_dir.exists() and settings.secrets() == []
    made = Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)}).secret_key
    assert Settings.from_env({"PAYSTAGE_DATA_DIR": str(data_dir)}, new_key=False).secret_key == made


def test_a_dot_env_file_in_the_working_directory_is_read_under_the_environment(tmp_path):
    (tmp_path / ".env").write_text("PAYSTAGE_TIMEZONE=Europe/Madrid\nPAYSTAGE_CURRENCY=EUR\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYSTAGE_")} | {"PAYSTAGE_CURRENCY": "GBP"}
    read = subprocess.run(
        [sys.executable, "-c", "from paystage.settings import environment; e = environment(); "
                               "print(e['PAYSTAGE_TIMEZONE'], e['PAYSTAGE_CURRENCY'])"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert read.stdout.split() == ["Europe/Madrid", "GBP"]  # the file's, unless the environment says otherwise
