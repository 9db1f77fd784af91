"""The bot speaks the contractor's Telegram language, and the contractor sets the language a customer's texts are in
(issue 13): every word the bot says is core.wording.contractor_texts', said in the language of the app that sent the
update, and that language is kept as the contractor's for what they are told later.

Two ways to see it. With the Spanish catalog as it is: the sentences it translates already (a plan's states and
triggers, dates, a refusal of core's, the notices) come out in Spanish. And with a marking catalog standing in
for Spanish (every sentence said comes back as ⟦sentence⟧): nothing the bot says to a Spanish app is left out of
the catalog, the refusals core raises in the bot's worker threads included, while an English app gets no mark.
"""

import gettext
import re

import pytest

from core.wording import language
from tests.bot_harness import Chat, buttons, invited, start_bot

NEWJOB = "/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000"
PLAN = "25% before measurement, 75% after measurement"


def ref_in(text: str) -> str:
    return re.search(r"J-[A-Z0-9]{4,6}", text).group()


@pytest.fixture
def spanish(api, bot):
    """The owner's chat from a Telegram app set to Spanish, after /start."""
    chat = Chat(api, bot, chat_id=555, language_code="es")
    chat.say("/start")
    return chat


def contractor():
    from storage.models import Contractor

    return Contractor.get(Contractor.telegram_id == 555)


def customer_language() -> str:
    from storage.models import Customer

    return Customer.get(Customer.phone == "+14155550134").language


# -- the contractor's language -----------------------------------------------------------------------------------


def test_the_contractors_telegram_language_is_kept_as_theirs(api, bot):
    chat = Chat(api, bot, chat_id=555, language_code="es-419")
    chat.say("/start")
    assert contractor().language == "es"
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    [card] = chat.say(f"/job {ref}")
    chat.language_code = None  # Telegram does not always say: what was kept stays
    chat.say("/jobs")
    assert contractor().language == "es"
    chat.language_code = "fr"  # a language we do not write: English, and a tap says it as a message does
    chat.press(f"lang:{ref}:es", card)
    assert contractor().language == "en"


def test_a_spanish_job_card_says_the_plan_and_its_dates_in_spanish(spanish):
    ref = ref_in(spanish.say(NEWJOB)[0]["text"])
    spanish.say(f"/event {ref} Measurement, Dec 3 9am")
    spanish.say(f"/plan {ref} {PLAN}")
    [card] = spanish.say(f"/job {ref}")
    text = card["text"]
    assert "antes de Measurement (jue, 3 de dic)" in text and "después de Measurement (jue, 3 de dic)" in text
    assert "próximo" in text and "Measurement: jue, 3 de dic, 9:00" in text
    assert "before Measurement" not in text and "upcoming" not in text and "Thu, Dec 3" not in text


def test_a_refusal_of_cores_comes_in_spanish(spanish):
    from storage.models import Customer

    ref = ref_in(spanish.say(NEWJOB)[0]["text"])
    [card] = spanish.say(f"/job {ref}")
    [refused] = spanish.press(f"lang:{ref}:xx", card)  # a forged language: core.jobs.set_customer_language says no
    assert "Los mensajes pueden ser en inglés o en español: en o es." in refused["text"]
    assert "Texts can be" not in refused["text"]
    assert Customer.get().language == "en"


def test_what_the_worker_tells_the_contractor_later_is_in_their_language(spanish, ctx, outbox):
    from core.inbound import answer_text

    ref = ref_in(spanish.say(NEWJOB)[0]["text"])
    answer_text(ctx, "+14155550134", "¿Puede venir el viernes?", "SM" + "7" * 32)
    [(channel, _kind, body)] = outbox("relay")
    assert channel == "telegram" and "Dana Whitfield" in body and ref in body
    assert "escribió:" in body and "texted:" not in body


def test_the_command_menu_is_registered_in_english_and_in_spanish(api, bot):
    english, spanish = api.commands(), api.commands("es")
    assert [c["command"] for c in english] == [c["command"] for c in spanish]
    assert {"newjob", "paid", "help", "cancel"} <= {c["command"] for c in english}
    assert next(c for c in english if c["command"] == "cancel")["description"] == "stop what we are doing"
    assert api.commands("fr") == []  # any other language gets the default menu, as Telegram does


# -- the customer's language -------------------------------------------------------------------------------------


@pytest.mark.parametrize("named", ["es", "Spanish", "español", "ESPANOL"])
def test_newjob_ending_with_a_language_creates_the_customer_in_it(chat, named):
    from storage.models import Job

    [created] = chat.say(f"{NEWJOB}, {named}")
    assert "created: Kitchen countertops for Dana Whitfield" in created["text"] and "$4,000.00" in created["text"]
    assert "Dana Whitfield gets texts in Spanish." in created["text"]
    assert customer_language() == "es" and Job.get().title == "Kitchen countertops"
    [card] = chat.say(f"/job {ref_in(created['text'])}")
    assert "Dana Whitfield +14155550134 - texts in Spanish" in card["text"] and "Texts in English" in buttons(card)


def test_newjob_without_a_language_keeps_english_and_a_title_with_commas(chat):
    from storage.models import Job

    [created] = chat.say("/newjob Dana Whitfield, (415) 555-0134, Sink, faucet, tap, $4,000")
    assert "Dana Whitfield gets texts in English." in created["text"]
    assert customer_language() == "en" and Job.get().title == "Sink, faucet, tap"


def test_the_cards_language_button_switches_the_customers_texts_and_back(chat, outbox):
    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    [card] = chat.say(f"/job {ref}")
    assert "texts in English" in card["text"] and buttons(card)["Texts in Spanish"] == f"lang:{ref}:es"
    [switched] = chat.tap("Texts in Spanish", card)
    assert customer_language() == "es"
    assert switched["text"].startswith("Dana Whitfield's texts and payment page are in Spanish from now on.")
    assert "texts in Spanish" in switched["text"] and "Texts in English" in buttons(switched)
    chat.say(f"/plan {ref} 100% now")
    chat.tap("Send to customer")
    [(_channel, _kind, sms)] = outbox("plan")
    assert "su plan de pagos" in sms  # the customer's texts follow
    [back] = chat.tap("Texts in English", switched)
    assert customer_language() == "en" and "Texts in Spanish" in buttons(back)


def test_a_forged_language_button_is_refused_and_changes_nothing(chat):
    from storage.models import AuditRecord, Customer

    ref = ref_in(chat.say(NEWJOB)[0]["text"])
    [card] = chat.say(f"/job {ref}")
    rival = invited(chat, chat_id=777, first_name="Rival Stone")
    rivals = ref_in(rival.say("/newjob Ann Lee, (415) 555-0199, Roof, $9,000")[0]["text"])
    for data, said in [(f"lang:{rivals}:es", "There is no job"), ("lang:J-ZZZZ:es", "There is no job"),
                       (f"lang:{ref}:fr", "Texts can be in English or Spanish")]:
        [refused] = chat.press(data, card)
        assert said in refused["text"] and "Nothing was changed" in refused["text"]
    [refused] = chat.press(f"lang:{ref}:spanish", card)  # no button of ours carries that
    assert "That button no longer works" in refused["text"]
    assert {c.language for c in Customer.select()} == {"en"}
    assert not AuditRecord.select().where(AuditRecord.kind == "language_set").exists()


# -- every word in the catalog: a marking catalog stands in for Spanish ----------------------------------------------


class Marked(gettext.NullTranslations):
    """Every sentence said comes back as ⟦sentence⟧ (its fields still filled in)."""

    def gettext(self, message):
        return f"⟦{message}⟧"

    def ngettext(self, singular, plural, n):
        return f"⟦{singular if n == 1 else plural}⟧"


@pytest.fixture
def marked(api, ctx, monkeypatch):
    """A bot whose Spanish is the marking catalog, and the owner's chat with it from a Spanish app."""
    monkeypatch.setattr(language, "_catalog", lambda lang: Marked() if lang == "es" else gettext.NullTranslations())
    runner = start_bot(api, ctx)
    yield Chat(api, runner, chat_id=555, language_code="es")
    runner.stop()


DATA = {"Granite", "Dana", "Whitfield", "Kitchen", "countertops", "Measurement", "four", "grand", "jue", "dic"}


def unsaid(text: str) -> list[str]:
    """The words of `text` no sentence of the catalog said: none but the data the contractor typed (names, a
    title), a job's reference and babel's day and month names."""
    while (inner := re.sub(r"⟦[^⟦⟧]*⟧", "", text)) != text:
        text = inner
    text = re.sub(r"J-[A-Z0-9]{4,6}|/\w+", "", text)
    return [word for word in re.findall(r"[A-Za-z]{3,}", text) if word not in DATA]


def test_every_word_the_bot_says_to_a_spanish_app_is_said_from_the_catalog(marked, api):
    said = [m["text"] for m in marked.say("/start")]
    said += [m["text"] for m in marked.say("/help")]
    [created] = marked.say(NEWJOB)
    ref = ref_in(created["text"])
    said.append(created["text"])
    said += [m["text"] for m in marked.say(f"/event {ref} Measurement, Dec 3 9am")]
    [preview] = marked.say(f"/plan {ref} {PLAN}")
    said.append(preview["text"])
    [card] = marked.say(f"/job {ref}")
    said.append(card["text"])
    said += [m["text"] for m in marked.say("/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, four grand")]
    said += [m["text"] for m in marked.say("/newjob")]  # a question
    said += [m["text"] for m in marked.say("/cancel")]
    said += [m["text"] for m in marked.press(f"lang:{ref}:xx", card)]
    said += [m["text"] for m in marked.press("what:ever", card)]
    labels = [label for m in marked.sent() for label in buttons(m) if label != ref]
    assert len(said) == 11 and labels
    for text in said + labels:
        assert "⟦" in text and unsaid(text) == [], text
    assert all(c["description"].startswith("⟦") for c in api.commands("es"))
    assert not any("⟦" in c["description"] for c in api.commands())


def test_an_english_app_gets_no_mark(marked, api):
    marked.language_code = "en"
    for line in ("/start", "/help", NEWJOB):
        assert not any("⟦" in m["text"] for m in marked.say(line))


def test_the_business_name_question_a_file_and_an_event_done_early_are_said_from_the_catalog(marked, api):
    said = [m["text"] for m in marked.say("/start")]  # a new contractor: asked their business's name
    said += [m["text"] for m in marked.say("/skip")]  # the name stays
    said += [m["text"] for m in marked.say("/skip")]  # nothing to skip now
    link = re.search(r"https://t\.me/\w+\?start=(\S+)", marked.say("/invite")[0]["text"])
    guest = Chat(api, marked.runner, chat_id=777, first_name="Dana", language_code="es")
    said += [m["text"] for m in guest.say(f"/start {link.group(1)}")]
    said += [m["text"] for m in guest.say("Whitfield Kitchen")]  # their answer: the name customers see
    ref = ref_in(marked.say(NEWJOB)[0]["text"])
    marked.say(f"/event {ref} Measurement, Dec 3 9am")
    marked.say(f"/event {ref} Installation, Dec 17 9am")
    [asked] = marked.say(f"/done {ref} installation")  # Measurement is still to do
    said.append(asked["text"])
    [document] = marked.say(f"/export {ref}")
    said.append(document["text"])  # its caption
    marked.say("/newjob")
    said += [m["text"] for m in marked.say("/skip")]  # a question that cannot be skipped
    labels = list(buttons(asked))
    assert len(said) == 8 and labels and document["document"]["file_name"] == f"{ref}.csv"
    for text in said + labels:
        assert "⟦" in text and unsaid(text) == [], text
