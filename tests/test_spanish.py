"""A customer who reads Spanish (issue 13): ESPAÑOL and ENGLISH switch, every keyword in both languages with or
without accents, the page and every answer in the customer's language, the contractor told, STOP always STOP."""

import pytest

from core.context import Actor
from core.errors import InvalidInput
from core.inbound import keyword
from core.jobs import Item, create_job, job_status, set_customer_language
from sms.app import create_app
from storage.models import AuditRecord, Customer
from tests.test_sms_webhooks import DANA, PUBLIC, STRANGER, TOKEN, answer


@pytest.fixture
def client(ctx):
    return create_app(ctx, public_base_url=PUBLIC, twilio_auth_token=TOKEN).test_client()


def dana() -> Customer:
    return Customer.get(Customer.phone == DANA)


@pytest.mark.parametrize("typed, word", [(" Próximo! ", "PROXIMO"), ("proximo", "PROXIMO"), ("Sí", "SI"),
                                         ("español", "ESPANOL"), ("ESPAÑOL", "ESPANOL"), ("Saldo.", "SALDO"),
                                         ("bal", "BAL"), ("AYÚDA", "AYUDA")])
def test_a_keyword_is_read_whatever_its_case_accents_and_punctuation(typed, word):
    assert keyword(typed) == word


@pytest.mark.parametrize("typed", ["ESPAÑOL", "español", "Espanol"])
def test_espanol_switches_the_customer_to_spanish_and_says_so_in_spanish(client, planned, outbox, typed):
    english = answer(client, "BAL")
    reply = answer(client, typed)
    assert dana().language == "es"
    assert "ENGLISH" in reply and "ESPAÑOL" not in reply  # how to go back, in the new language
    assert answer(client, "BAL") != english
    assert AuditRecord.select().where(AuditRecord.kind == "language_set").count() == 1
    told = outbox("language_set")
    assert len(told) == 1 and told[0][0] == "telegram" and "Dana Whitfield" in told[0][2]


def test_english_switches_back(client, planned):
    english = answer(client, "BAL")
    answer(client, "ESPAÑOL")
    answer(client, "ENGLISH")
    assert dana().language == "en" and answer(client, "BAL") == english


def test_switching_to_the_language_already_read_changes_nothing_and_tells_nobody(client, planned, outbox):
    answer(client, "ENGLISH")
    assert dana().language == "en" and not outbox("language_set")
    assert AuditRecord.select().where(AuditRecord.kind == "language_set").count() == 0


@pytest.mark.parametrize("spanish, english", [("SALDO", "BAL"), ("PROXIMO", "NEXT"), ("Próximo", "NEXT"),
                                              ("PAGAR", "PAY"), ("AYUDA", "HELP"), ("PLAN", "PLAN")])
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_keyword_works_in_both_languages_and_is_answered_in_the_customers(client, planned, spanish, english,
                                                                               language):
    Customer.update(language=language).execute()
    assert answer(client, spanish) == answer(client, english)


def test_si_answers_as_yes(client, planned):
    Customer.update(language="es").execute()
    assert answer(client, "Sí") == answer(client, "YES")


def test_stop_and_start_work_for_a_customer_who_reads_spanish(client, planned):
    answer(client, "ESPAÑOL")
    assert answer(client, "STOP") is None and dana().opted_out_at is not None
    answer(client, "START")
    assert dana().opted_out_at is None


def test_a_stranger_texting_a_spanish_keyword_is_answered_in_spanish_and_learns_nothing(client, planned):
    english, spanish = answer(client, "BAL", phone=STRANGER), answer(client, "SALDO", phone=STRANGER)
    assert english.startswith("Sorry, this number is not linked") and spanish != english
    assert "Granite" not in spanish and "Dana" not in spanish


def test_the_contractor_sets_the_language_of_a_new_job_or_a_known_customer(ctx, contractor, planned):
    job = create_job(ctx, contractor, customer_name="Luz Ortega", phone="(415) 555-0177", title="Patio",
                     items=[Item("Patio", 200_000)], language="es")
    assert job.language == "es"
    assert set_customer_language(ctx, contractor, planned, "es").language == "es"
    assert set_customer_language(ctx, contractor, planned, "en").language == "en"
    with pytest.raises(InvalidInput):
        set_customer_language(ctx, contractor, planned, "fr")
    assert job_status(ctx, contractor, planned).language == "en"


def test_another_contractor_cannot_set_the_language_of_a_job_not_theirs(ctx, planned):
    from core.errors import NotFound
    from core.jobs import register_contractor

    stranger = Actor.contractor(register_contractor(ctx, business_name="Other", telegram_id=777).id)
    with pytest.raises(NotFound):
        set_customer_language(ctx, stranger, planned, "es")
    assert dana().language == "en"


def test_the_page_is_in_the_customers_language(client, ctx, planned):
    url = "/p/" + ctx.links.token(planned, ctx.clock())
    english = client.get(url).get_data(as_text=True)
    Customer.update(language="es").execute()
    spanish = client.get(url).get_data(as_text=True)
    assert '<html lang="en">' in english and '<html lang="es">' in spanish
    assert "Payments" in english and "Payments" not in spanish
    assert "$4,000.00" in spanish  # es_US writes dollars as en_US does


def test_a_dead_link_is_explained_in_the_browsers_language(client):
    english = client.get("/p/J-XXXX.1.bad").get_data(as_text=True)
    spanish = client.get("/p/J-XXXX.1.bad", headers={"Accept-Language": "es-US,es;q=0.9"}).get_data(as_text=True)
    assert "This payment link is not valid" in english and "This payment link is not valid" not in spanish


def test_a_price_change_names_each_payment_in_the_customers_language(ctx, contractor, planned, outbox):
    from core.change_orders import apply_price_change
    from core.pricing import PriceChange

    Customer.update(language="es").execute()
    apply_price_change(ctx, contractor, planned, PriceChange.total(485_000), because="signed on paper")
    [(_, _, text)] = outbox("plan_changed")
    assert "$4,000.00 a $4,850.00" in text
    assert "After Removal" not in text and "Después de Removal" in text  # the name the parser gave, in Spanish
