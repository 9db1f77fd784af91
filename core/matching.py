"""Matching what a person typed to one of the job's names: its events, its line items.

A contractor types "install" or "final walk" with gloves on; the job calls
them "Installation" and "Final walkthrough". What was typed matches a name when
every typed word matches one of the name's words: the same word, the start of
it ("demo" → "Demolition"), or the same stem ("remove" → "Removal"). Exact
words beat starts, starts beat stems, and a name with fewer words left over
beats one with more ("install" is "Installation" before "Installation check").
Two names that match equally well are never guessed between: we ask.
"""

import re
from os.path import commonprefix

from core.errors import InvalidInput

MIN_PREFIX = 3  # "demo" → "Demolition"; "in" would match far too much
MIN_STEM = 5  # "remove" and "Removal" share "remov"; "tile" and "tiling" share too little
IGNORED_WORDS = {"the", "a", "an"}
EXACT, START, STEM = 3, 2, 1  # how well one typed word matches one word of a name
HOW_TO_ADD = {"event": "/event REF NAME, WHEN", "line item": "/add REF DESCRIPTION, AMOUNT"}


def match_event(name: str, events: list[str]) -> str:
    """The job's spelling of the event `name` stands for; InvalidInput if none or several."""
    return match_name(name, events, noun="event")


def match_name(typed: str, names: list[str], *, noun: str) -> str:
    """The one of `names` that `typed` stands for; InvalidInput naming the `noun` if none or several."""
    words = [word for word in _words(typed) if word not in IGNORED_WORDS]
    if not words:
        raise InvalidInput(f"Which {noun}? {_listing(names, noun)}")
    exact = [name for name in names if "".join(_words(name)) == "".join(words)]
    if exact:
        return _only(exact, typed)
    scores = {name: score for name in names if (score := _score(words, _words(name)))}
    if not scores:
        raise InvalidInput(f"There is no {noun} '{typed.strip()}' on this job. {_listing(names, noun)}")
    best = max(scores.values())
    return _only([name for name, score in scores.items() if score == best], typed)


def _words(text: str) -> list[str]:
    """Lower-case words; hyphens and apostrophes join ("walk-through" is "walkthrough")."""
    return re.findall(r"[^\W_]+", re.sub(r"[-'’]", "", text.lower()))


def _score(typed: list[str], words: list[str]) -> tuple[int, int] | None:
    """How well the typed words match a name's words, or None if one of them matches nothing."""
    strengths = [max((_word_match(t, w) for w in words), default=0) for t in typed]
    if not all(strengths):
        return None
    left_over = sum(1 for w in words if not any(_word_match(t, w) for t in typed))
    return sum(strengths), -left_over


def _word_match(typed: str, word: str) -> int:
    if typed == word:
        return EXACT
    if len(typed) >= MIN_PREFIX and word.startswith(typed):
        return START
    shared = len(commonprefix([typed, word]))
    if shared >= MIN_STEM or shared == len(word) >= MIN_PREFIX + 1:  # "demolition" typed, "Demo" on the job
        return STEM
    return 0


def _only(candidates: list[str], typed: str) -> str:
    if len(candidates) > 1:
        raise InvalidInput(f"'{typed.strip()}' could be {_either(candidates)}. Which one? Write its full name.")
    return candidates[0]


def _listing(names: list[str], noun: str) -> str:
    if not names:
        how = f"; add them with {HOW_TO_ADD[noun]}." if noun in HOW_TO_ADD else "."
        return f"The job has no {noun}s yet{how}"
    return f"Its {noun}s are: {', '.join(names)}."


def _either(names: list[str]) -> str:
    return f"{', '.join(names[:-1])} or {names[-1]}"
