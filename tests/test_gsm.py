import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.gsm import MAX_SEGMENTS, is_gsm7, segments, spells, to_gsm7

GSM_LETTERS = "é ñ ü Ä Ö Ñ Ü à è ù ì ò Ç Ø ø Å å Æ æ ß É ä ö"


def test_letters_gsm7_has_keep_their_accents():
    assert to_gsm7(GSM_LETTERS) == GSM_LETTERS


def test_letters_gsm7_lacks_lose_their_accents():
    assert to_gsm7("á ç ë í ô ŷ Ł ő Ș ž") == "a c e i o y L o S z"


def test_a_decomposed_accent_is_recomposed_before_it_is_judged():
    assert to_gsm7("Cre\u0300me e\u0301") == "Crème é"


def test_typography_becomes_plain():
    assert to_gsm7("“Quote” ‘single’ – — … It’s") == "\"Quote\" 'single' - - ... It's"


def test_odd_spaces_become_plain_spaces():
    assert to_gsm7("1\u00a0000\u202f€\u2009x\u3000y\tz") == "1 000 € x y z"


def test_zero_width_characters_are_dropped():
    assert to_gsm7("\ufeffKit\u200bchen") == "Kitchen"


def test_emoji_are_dropped_with_their_modifiers():
    assert to_gsm7("Zoë's kitchen 🏠 👍🏽 done ✅") == "Zoe's kitchen done"
    assert to_gsm7("🏠 Acme\n🏠 Deck") == "Acme\nDeck"


def test_a_word_in_a_script_gsm7_cannot_spell_is_transliterated_never_a_question_mark():
    assert to_gsm7("Bob 李小龍 Lee") == "Bob LiXiaoLong Lee"
    assert to_gsm7("Иван") == "Ivan"
    assert to_gsm7("Монтаж") == "Montazh"
    assert to_gsm7("王 Stone") == "Wang Stone"
    assert to_gsm7("Σοφία, ΣΟΦΙΑ, Σ") == "Sofia, ΣOΦIA, Σ"  # not "Σofia"
    assert to_gsm7("𠀂 Stone, Hi 𠀂𠀄, ok") == "Stone, Hi, ok"  # no romanisation: left out, with its space


@pytest.mark.parametrize("typed, sent", [("Đặng", "Dang"), ("Zoë", "Zoe"), ("Łukasz Wróbel", "Lukasz Wrobel"),
                                         ("Nguyễn Thị Hương", "Nguyen Thi Huong"), ("Ðorðe Þór", "Dorde Thor"),
                                         ("“Zoë’s” ‘deck’", "\"Zoe's\" 'deck'"), ("`tick`", "'tick'")])
def test_names_gsm7_lacks_are_spelled_by_their_nearest_gsm7_form(typed, sent):
    assert to_gsm7(typed) == sent


@given(st.text())
def test_no_question_mark_is_made_up(text):
    assert to_gsm7(text).count("?") == text.count("?")


def test_compatibility_forms_become_their_plain_letters():
    assert to_gsm7("ﬁne ½ ™ Ａ ①") == "fine 1/2 TM A 1"


def test_line_breaks_become_line_feeds():
    assert to_gsm7("a\r\nb\rc\u2028d") == "a\nb\nc\nd"


def test_extension_characters_are_kept():
    assert to_gsm7("€ [ ] { } ^ ~ \\ |") == "€ [ ] { } ^ ~ \\ |"


@given(st.text())
def test_any_text_becomes_gsm7(text):
    assert is_gsm7(to_gsm7(text))


@given(st.text())
def test_gsm7_text_is_left_as_it_is(text):
    once = to_gsm7(text)
    assert to_gsm7(once) == once


def test_a_name_of_emoji_alone_spells_nothing_in_an_sms():
    assert not spells("🏠 ✅") and spells("Монтаж") and spells("王")


@pytest.mark.parametrize("text", ["ë", "🏠", "1\u00a0000", "’", "李"])
def test_is_gsm7_rejects_what_forces_ucs2(text):
    assert not is_gsm7(text)


@pytest.mark.parametrize(
    "length, expected",
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_segments_hold_160_alone_and_153_each_when_joined(length, expected):
    assert segments("a" * length) == expected


def test_an_extension_character_counts_as_two():
    assert segments("€" * 80) == 1
    assert segments("a" * 159 + "€") == 2
    assert segments("a" * 158 + "[") == 1


def test_an_extension_character_is_never_split_across_segments():
    # 306 septets would fill two parts exactly, but the € would straddle them.
    assert segments("a" * 152 + "€" + "a" * 152) == 3


@pytest.mark.parametrize("length, expected", [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_text_outside_gsm7_is_counted_as_ucs2(length, expected):
    assert segments("ë" * length) == expected


def test_one_emoji_makes_a_160_character_text_three_segments():
    assert segments("a" * 158 + "🏠") == 3


def test_customer_texts_are_held_to_three_segments():
    assert MAX_SEGMENTS == 3
