"""Which language a text is written in, and its words in that language (gettext catalogs, managed with babel).

Every sentence is written in English in the code, inside `_()` (or `ngettext` when
it counts something), with named fields: `_("{amount} is now due for {job}.")`.
`make messages` extracts them into locales/messages.pot and merges it into each
language's catalog (locales/es/LC_MESSAGES/messages.po), where a translator
writes the sentence in that language; the catalogs are compiled to .mo at
install. A sentence with no translation yet is sent in English, never lost;
tests/test_catalogs.py fails until every sentence has one.

The language a text is in is the reader's: the customer's for what a customer
reads (SMS and their page), the contractor's for Telegram. Whoever builds a
text says whose it is with `speaking(language)`; dates and amounts follow it in
the job's region (`localized`): "Tue, Dec 1" and "$4,000.00" for en_US,
"mar, 1 de dic" and "$4,000.00" for a Spanish reader of the same US job.
"""

import gettext
import io
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, wraps
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.localedata import locale_identifiers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("en", "es")  # English is the code's own; every other one has a catalog
ENGLISH = "en"
LOCALES = Path(__file__).parent / "locales"
DOMAIN = "messages"

_speaking: ContextVar[str] = ContextVar("language", default=ENGLISH)


def supported(code: str | None) -> str:
    """The language we write for a language tag ("es-419", "es_US", "ES" → "es"); English for any other."""
    language = (code or "").replace("-", "_").split("_")[0].lower()
    return language if language in LANGUAGES else ENGLISH


def language_named(text: str | None) -> str | None:
    """The language a person named: "es", "Spanish", "Español", "espanol", "English", "inglés"; None if none."""
    folded = unicodedata.normalize("NFKD", (text or "").strip().casefold())
    return _NAMED.get("".join(c for c in folded if not unicodedata.combining(c)))


_NAMED = {"en": "en", "english": "en", "ingles": "en", "es": "es", "spanish": "es", "espanol": "es"}


@contextmanager
def speaking(language: str | None):
    """Within the block, `_` and `ngettext` translate into `language`, and `localized` follows it."""
    token = _speaking.set(supported(language))
    try:
        yield
    finally:
        _speaking.reset(token)


def in_language_of(reader: str):
    """A decorator: `text(job, ...)` is written in the language the job names as `reader`'s ("language", the
    customer's; "business_language", the contractor's)."""

    def decorate(text):
        @wraps(text)
        def written(job, *args, **kwargs) -> str:
            with speaking(getattr(job, reader)):
                return text(job, *args, **kwargs)

        return written

    return decorate


def current() -> str:
    return _speaking.get()


def _(message: str) -> str:
    return _catalog(_speaking.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog(_speaking.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks `message` for the catalog where it is written, to be translated later where it is read."""
    return message


NAMES = {"en": N_("English"), "es": N_("Spanish")}  # in the reader's language: _(NAMES[language])


@cache
def babel_locale(name: str) -> Locale:
    """A locale name parsed once: babel parses the name again on every call it is given one, a third of formatting
    an amount, and a BAL or a job card formats dozens (docs/benchmarks.md)."""
    return Locale.parse(name)


def localized(locale: str) -> str:
    """The job's locale in the language being written: en_US read in Spanish is es_US; es_DE, which babel
    lacks, is plain es. In English, the code's own language, the job's locale is kept as the contractor set it
    (a de_DE job's English texts say "Di., 1. Dez."), and so is a locale already in the language (es_MX)."""
    language = _speaking.get()
    if language == ENGLISH:
        return locale
    try:
        parsed = babel_locale(locale)
    except (ValueError, UnknownLocaleError):
        return language
    if parsed.language == language:
        return locale
    regional = f"{language}_{parsed.territory}"
    return regional if parsed.territory and regional in _known_locales() else language


@cache
def _known_locales() -> frozenset[str]:
    return frozenset(locale_identifiers())


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog of `language`; compiled here from its .po when the .mo is missing or older (a
    checkout where `make` has not run yet), so a text is never English only because a build step was skipped."""
    if language == ENGLISH:
        return gettext.NullTranslations()
    po = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as compiled:
            return gettext.GNUTranslations(compiled)
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
