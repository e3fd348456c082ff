"""Browser journeys: Playwright driving Debian's Chromium against pytest-django's live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e import screens

CHROMIUM = Path("/usr/bin/chromium")
# Without these, Chromium tries Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
# synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: install Debian's chromium package"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context; fails the test on any console error (a CSP refusal included).

    It depends on live_server so that it is torn down first: a page still polling after the
    server and its database are gone would log errors that are not the test's."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    yield page
    page.goto("about:blank")  # stop any polling before the server goes away
    context.close()
    # htmx logs a request that a navigation cut short (sendAbort, with its afterRequest) as an
    # error: nothing failed, the page was left. Every other console error fails the test.
    aborted = {"htmx:sendAbort", "htmx:afterRequest"}
    if any(e.startswith("htmx:sendAbort") for e in errors):
        errors = [e for e in errors if e.split(",", 1)[0] not in aborted]
    assert errors == [], f"console errors: {errors}"


@pytest.fixture
def login(live_server):
    def do_login(page, user, password: str) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

    return do_login


@pytest.fixture
def shot():
    """The screenshot helper (tests/e2e/screens.py), for tests that take it as a fixture."""
    return screens.shot
