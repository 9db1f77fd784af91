import pytest

from core.errors import InvalidInput
from core.matching import match_event, match_name

EVENTS = ["Measurement", "Removal", "Installation", "Final walkthrough", "Demolition"]


@pytest.mark.parametrize(
    "typed, event",
    [
        ("Measurement", "Measurement"),
        ("measurement", "Measurement"),
        ("  INSTALLATION. ", "Installation"),
        ("final walk-through", "Final walkthrough"),
        ("the removal", "Removal"),
    ],
)
def test_exact_names_match_whatever_the_case_and_punctuation(typed, event):
    assert match_event(typed, EVENTS) == event


@pytest.mark.parametrize(
    "typed, event",
    [
        ("measure", "Measurement"),
        ("measuring", "Measurement"),
        ("install", "Installation"),
        ("installing", "Installation"),
        ("remove", "Removal"),
        ("final walk", "Final walkthrough"),
        ("walkthrough", "Final walkthrough"),
        ("demo", "Demolition"),
    ],
)
def test_a_start_or_stem_of_a_word_matches_the_event(typed, event):
    assert match_event(typed, EVENTS) == event


def test_the_jobs_spelling_is_returned():
    assert match_event("cabinet install", ["Cabinet INSTALL day"]) == "Cabinet INSTALL day"


def test_a_full_word_on_the_job_matches_a_longer_typed_word():
    assert match_event("demolition", ["Demo", "Removal"]) == "Demo"


def test_an_unknown_event_is_refused_with_the_jobs_events():
    with pytest.raises(InvalidInput) as error:
        match_event("pour", ["Measurement", "Removal", "Installation"])
    assert str(error.value) == (
        "There is no event 'pour' on this job. Its events are: Measurement, Removal, Installation."
    )


def test_two_letters_are_too_few_to_match():
    with pytest.raises(InvalidInput, match="no event 'in'"):
        match_event("in", EVENTS)


def test_every_typed_word_must_match():
    with pytest.raises(InvalidInput, match="no event 'final pour'"):
        match_event("final pour", EVENTS)


def test_a_job_without_events_says_how_to_add_one():
    with pytest.raises(InvalidInput) as error:
        match_event("install", [])
    assert "no events yet" in str(error.value)
    assert "/event REF NAME, WHEN" in str(error.value)


def test_two_events_matching_equally_are_not_guessed_between():
    with pytest.raises(InvalidInput) as error:
        match_event("install", ["Tile installation", "Cabinet installation"])
    message = str(error.value)
    assert "'install'" in message
    assert "Tile installation" in message and "Cabinet installation" in message
    assert "Which one?" in message


def test_identical_spellings_are_ambiguous_too():
    with pytest.raises(InvalidInput, match="Which one"):
        match_event("install", ["Install", "install"])


def test_the_event_with_no_words_left_over_is_the_closer_match():
    assert match_event("install", ["Installation check", "Installation"]) == "Installation"


def test_more_typed_words_narrow_the_match():
    events = ["Tile installation", "Cabinet installation"]
    assert match_event("cabinet install", events) == "Cabinet installation"


def test_an_empty_name_asks_which_event():
    with pytest.raises(InvalidInput, match="Which event\\? Its events are: Measurement"):
        match_event(" the ", EVENTS)


def test_line_items_are_matched_the_same_way_and_named_as_line_items():
    items = ["Kitchen countertops", "Backsplash", "Undermount sink"]
    assert match_name("sink", items, noun="line item") == "Undermount sink"
    with pytest.raises(InvalidInput, match="no line item 'roof' on this job. Its line items are: Kitchen"):
        match_name("roof", items, noun="line item")


def test_a_name_of_punctuation_only_matches_nothing():
    with pytest.raises(InvalidInput, match="no event 'pour'"):
        match_event("pour", ["--", "Installation"])
