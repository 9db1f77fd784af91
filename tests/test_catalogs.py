"""The catalogs hold every sentence of the code, each translated with the same fields (core/wording/language.py).

The sentences are extracted from the code here, as `make messages` does, so a
sentence added without `make messages` and a translation fails the test that
names it; a translation that drops, renames or adds a field ("{amount}") would
fail at run time with a KeyError, or worse say the wrong amount, so it fails here.
"""

import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from core.wording.language import LANGUAGES, LOCALES, _, ngettext, speaking

ROOT = Path(__file__).resolve().parents[1]
FIELD = re.compile(r"\{[a-z_]*\}|%\([a-z_]+\)s")


@cache
def sentences_in_the_code() -> dict[str, tuple[str, ...]]:
    """msgid -> every form (singular and plural), as `make messages` extracts them."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = {}
    for _path, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map):
        forms = message if isinstance(message, tuple) else (message,)
        found[forms[0]] = forms
    return found


def catalog(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def translated_languages() -> list[str]:
    return [language for language in LANGUAGES if language != "en"]


def fields(text: str) -> list[str]:
    return sorted(FIELD.findall(text))


@pytest.mark.parametrize("language", translated_languages())
def test_every_sentence_in_the_code_has_a_translation(language):
    entries = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog(language) if m.id}
    missing = [s for s in sentences_in_the_code() if s not in entries]
    untranslated = [s for s, m in entries.items() if s in sentences_in_the_code()
                    and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))]
    assert not missing, f"not in the {language} catalog (run `make messages`): {missing[:5]}"
    assert not untranslated, f"no {language} translation yet: {untranslated[:5]}"


@pytest.mark.parametrize("language", translated_languages())
def test_the_catalog_holds_no_sentence_the_code_no_longer_has(language):
    code = sentences_in_the_code()
    stale = [m.id for m in catalog(language) if m.id and (m.id if isinstance(m.id, str) else m.id[0]) not in code]
    assert not stale, f"run `make messages` to drop: {stale[:5]}"


@pytest.mark.parametrize("language", translated_languages())
def test_a_translation_keeps_every_field_and_the_spaces_around_it(language):
    for message in catalog(language):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if not text:
                continue
            assert fields(text) == fields(ids[-1]) or fields(text) == fields(ids[0]), (message.id, text)
            assert text[:1].isspace() == ids[0][:1].isspace(), (message.id, text)
            assert text[-1:].isspace() == ids[0][-1:].isspace(), (message.id, text)


def test_a_sentence_is_written_in_the_language_being_spoken():
    with speaking("es"):
        assert _("Details: {link}") != "Details: {link}"
        assert "{link}" in _("Details: {link}")
        assert ngettext("{n} payment", "{n} payments", 1) != ngettext("{n} payment", "{n} payments", 2)
    assert _("Details: {link}") == "Details: {link}"  # English outside the block


def test_a_language_nobody_translated_is_english():
    with speaking("xx"):
        assert _("Details: {link}") == "Details: {link}"
    with speaking("es-419"):
        assert _("Details: {link}") != "Details: {link}"
