"""A real browser for the page tests: Debian's Chromium driven by the playwright wheel, against the real app.

A test module loads these fixtures with `pytest_plugins = ["tests.browser"]`.

- `browser`: one headless Chromium for the whole run, launched from /usr/bin/chromium. Never
  `playwright install`: it downloads a browser of its own, which this network refuses.
- `live_server`: the Flask app of the test's `ctx`, served by `paystage.app.web_server` (the waitress server
  of `paystage run`, with its limits) on an ephemeral 127.0.0.1 port: tests/shop.py's `Shop`. A test that also
  asks for `stripe_api` gets the app taking payments through that fake Stripe, whose checkout page the browser
  goes to and comes back from.
- `phone`: a fresh 390x844 page (an iPhone 12-15's viewport) on that server, which records every console
  message and page error, and saves full-page screenshots to docs/screens/.

Without Chromium or the playwright wheel the browser tests are deselected, and the run's summary says so in
one line (tests/conftest.py); `.ci/run` installs Chromium where it can.
"""

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.shop import Shop

CHROMIUM = Path("/usr/bin/chromium")
SCREENS = Path(__file__).resolve().parents[1] / "docs" / "screens"
PHONE_VIEWPORT = {"width": 390, "height": 844}
# Headless as root; and no calls home: this machine's closed network refuses them, many at a time, at start-up.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]

deselected: list[str] = []  # the browser tests this run could not run (read by tests/conftest.py's summary)


def missing() -> str:
    """Why the browser tests cannot run here, or "" when they can."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does it as root)"
    if importlib.util.find_spec("playwright") is None:
        return "no playwright wheel (pip install -e '.[test]')"
    return ""


def pytest_collection_modifyitems(config, items):
    """Deselect the tests that need the browser when there is none: one summary line, not one per test."""
    if not missing():
        return
    keep, drop = [], []
    for item in items:
        (drop if "browser" in item.fixturenames else keep).append(item)
    if drop:
        deselected.extend(item.nodeid for item in drop)
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="module")
def browser():
    """Per module, not per session: playwright's sync API keeps an event loop running on this thread while it is
    open, and a later test module's asyncio.run() would then refuse to start."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(request, ctx):
    """The app on http://127.0.0.1:<port>, served the way `paystage run` serves it (tests/shop.py's Shop); with
    payments through the fake Stripe when the test asks for `stripe_api` too."""
    stripe_api = request.getfixturevalue("stripe_api") if "stripe_api" in request.fixturenames else None
    shop = Shop(ctx, stripe_api)
    yield shop
    shop.close()  # after `phone` closed the browser's connections


@dataclass
class Phone:
    """A phone-sized page on the live server, and what the browser complained about while showing it."""

    page: object  # playwright.sync_api.Page
    base_url: str
    problems: list[str] = field(default_factory=list)

    def heard(self, message) -> None:
        """A console message is a problem, except the browser's note of the status of the page itself (a 404
        for a bad link is the answer the test asked for, and checks)."""
        own_status = message.text.startswith("Failed to load resource") and message.location.get("url") == self.page.url
        if not own_status:
            self.problems.append(f"console {message.type}: {message.text} ({message.location.get('url')})")

    def open(self, path: str):
        """Load `path` and return the response."""
        return self.page.goto(self.base_url + path)

    def scrolls_sideways(self) -> bool:
        """Wider than the phone. Not window.innerWidth: a mobile browser widens its layout to fit what overflows."""
        return self.page.evaluate("document.documentElement.scrollWidth") > PHONE_VIEWPORT["width"]

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        """The whole page as a phone shows it, scrolled through (or only its first screen), in
        docs/screens/<name>.png."""
        SCREENS.mkdir(parents=True, exist_ok=True)
        path = SCREENS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def phone(browser, live_server):
    """A 390x844 page with its own cookies and cache, recording console messages and page errors."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    phone = Phone(page, live_server.base)
    page.on("console", lambda message: phone.heard(message))
    page.on("pageerror", lambda error: phone.problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: phone.problems.append(f"request failed: {request.url}"))
    yield phone
    context.close()
