"""`paystage doctor`: one line per check, and an exit code that says whether something needed is wrong."""

from paystage.doctor import doctor
from paystage.settings import Settings
from sandbox import LocalStripeAPI


def settings_with(tmp_path, **env) -> Settings:
    return Settings.from_env({"PAYSTAGE_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/d.sqlite3",
                              **env})


def test_doctor_says_stripe_answers_in_test_mode(tmp_path, capsys):
    with LocalStripeAPI() as stripe_api:
        code = doctor(settings_with(tmp_path, STRIPE_SECRET_KEY=stripe_api.secret_key,
                                    STRIPE_WEBHOOK_SECRET="whsec_test", STRIPE_API_BASE_URL=stripe_api.base_url))
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.split()[1] == "stripe"]
    assert code == 0 and line.startswith("ok ") and "TEST mode" in line and "/stripe/webhook" in line


def test_doctor_refuses_a_wrong_stripe_key_without_printing_it(tmp_path, capsys):
    with LocalStripeAPI() as stripe_api:
        code = doctor(settings_with(tmp_path, STRIPE_SECRET_KEY="sk_test_not_the_right_one",
                                    STRIPE_WEBHOOK_SECRET="whsec_test", STRIPE_API_BASE_URL=stripe_api.base_url))
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.split()[1] == "stripe"]
    assert code == 1 and line.startswith("NO ") and "STRIPE_SECRET_KEY is wrong" in line
    assert "sk_test_not_the_right_one" not in out


def test_doctor_without_stripe_says_how_customers_pay(tmp_path, capsys):
    assert doctor(settings_with(tmp_path)) == 0
    assert "own payment instructions" in capsys.readouterr().out
