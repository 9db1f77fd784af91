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
from core.wording.language import N_, _

MIN_PREFIX = 3  # "demo" → "Demolition"; "in" would match far too much
MIN_STEM = 5  # "remove" and "Removal" share "remov"; "tile" and "tiling" share too little
IGNORED_WORDS = {"the", "a", "an"}
EXACT, START, STEM = 3, 2, 1  # how well one typed word matches one word of a name
# What is said about each kind of name, a whole sentence each: a noun alone would take the wrong gender in Spanish.
NOUNS = {
    "event": {
        "which": N_("Which event?"),
        "unknown": N_("There is no event '{typed}' on this job."),
        "none": N_("The job has no events yet; add them with /event REF NAME, WHEN."),
        "listing": N_("Its events are: {names}."),
    },
    "line item": {
        "which": N_("Which line item?"),
        "unknown": N_("There is no line item '{typed}' on this job."),
        "none": N_("The job has no line items yet; add them with /add REF DESCRIPTION, AMOUNT."),
        "listing": N_("Its line items are: {names}."),
    },
}


def match_event(name: str, events: list[str]) -> str:
    """The job's spelling of the event `name` stands for; InvalidInput if none or several."""
    return match_name(name, events, noun="event")


def match_name(typed: str, names: list[str], *, noun: str) -> str:
    """The one of `names` that `typed` stands for; InvalidInput naming the `noun` (a key of NOUNS: "event",
    "line item") if none or several."""
    said = NOUNS[noun]
    words = [word for word in _words(typed) if word not in IGNORED_WORDS]
    if not words:
        raise InvalidInput(f"{_(said['which'])} {_listing(names, said)}")
    exact = [name for name in names if "".join(_words(name)) == "".join(words)]
    if exact:
        return _only(exact, typed)
    scores = {name: score for name in names if (score := _score(words, _words(name)))}
    if not scores:
        unknown = _(said["unknown"]).format(typed=typed.strip())
        raise InvalidInput(f"{unknown} {_listing(names, said)}")
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
        raise InvalidInput(_("'{typed}' could be {names}. Which one? Write its full name.").format(
            typed=typed.strip(), names=_either(candidates)))
    return candidates[0]


def _listing(names: list[str], said: dict[str, str]) -> str:
    if not names:
        return _(said["none"])
    return _(said["listing"]).format(names=", ".join(names))


def _either(names: list[str]) -> str:
    return _("{names} or {last}").format(names=", ".join(names[:-1]), last=names[-1])
