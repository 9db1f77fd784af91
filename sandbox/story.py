"""The countertop story's first steps (paystage/demo.py; docs/design.md, "The countertop job"), played through the
real bot as a visitor would type them, so a visitor can take over from the middle: the plan is sent, Removal and the
payments are theirs.

Each step is a message in the visitor's chat (or a tap), and the next waits for the bot's answer: /event needs the
job's reference, which only /newjob's answer tells. The days are relative to today, as the sandbox runs on the real
clock.
"""

import logging
import re
import threading
import time
from dataclasses import dataclass

from .world import Sandbox

log = logging.getLogger(__name__)

NEW_JOB = "/newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000"
EVENTS = ("Measurement, in 3 days 9am", "Removal, in 10 days 8am", "Installation, in 17 days 9am")
PLAN = "25% before measurement, 25% after removal, 50% after installation"
SEND = "Send to customer"
STEPS = 7  # /start, /newjob, three /event, /plan, the tap on Send
REF = re.compile(r"\bJ-[A-Z0-9]{4,6}\b")
ANSWER_TIMEOUT = 20  # seconds the bot has to answer a step


class StoryFailed(Exception):
    """The bot did not answer a step as the story needs (no answer, no job reference, no Send button)."""


@dataclass
class Progress:
    step: int = 0  # steps done
    running: bool = False
    error: str = ""


class CountertopStory:
    """Plays the story once at a time, on a thread of its own; `progress` says how far it got."""

    def __init__(self, world: Sandbox):
        self.world = world
        self.progress = Progress()
        self._lock = threading.Lock()

    def start(self) -> bool:
        """Start playing; False when it is playing already."""
        with self._lock:
            if self.progress.running:
                return False
            self.progress = Progress(running=True)
        threading.Thread(target=self._play, name="sandbox-story", daemon=True).start()
        return True

    def _play(self) -> None:
        try:
            self.play()
        except StoryFailed as error:
            log.warning("the countertop story stopped: %s", error)
            self.progress.error = str(error)
        except Exception:
            log.exception("the countertop story failed")
            self.progress.error = "Something went wrong while playing the story; see the log."
        finally:
            self.progress.running = False

    def play(self) -> str:
        """Every step, each after the bot's answer to the last; the job's reference."""
        self._say("/start")
        created = self._say(NEW_JOB)
        found = REF.search(created["text"])
        if not found:
            raise StoryFailed(f"/newjob was answered without a job reference: {created['text'][:120]!r}")
        ref = found.group()
        for event in EVENTS:
            self._say(f"/event {ref} {event}")
        preview = self._say(f"/plan {ref} {PLAN}")
        buttons = {b["text"]: b["callback_data"] for row in (preview.get("reply_markup") or {}).get(
            "inline_keyboard", []) for b in row}
        if SEND not in buttons:
            raise StoryFailed(f"the plan came without a {SEND!r} button: {preview['text'][:120]!r}")
        before = len(self.world.bot_api.sent)
        self.world.tap(preview["message_id"], buttons[SEND])
        self.world.bot_api.wait_for_sent(before + 1, timeout=ANSWER_TIMEOUT)
        self.progress.step += 1
        return ref

    def _say(self, text: str) -> dict:
        """Send `text` as the visitor; the bot's first message after it."""
        said = self.world.say(text)["message"]["message_id"]
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while time.monotonic() < deadline:
            bot = self.world.bot_api.bot["id"]
            answer = next((m for m in self.world.chat() if m["message_id"] > said and m["from"]["id"] == bot), None)
            if answer:
                self.progress.step += 1
                return answer
            time.sleep(0.05)
        raise StoryFailed(f"the bot did not answer {text.split()[0]} within {ANSWER_TIMEOUT} s")
