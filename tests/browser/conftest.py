"""Browser tests: the system Chromium driven by Playwright against pytest-django's live server.

Playwright's sync API keeps an event loop running in the test thread, which makes Django
refuse ORM calls from test code unless DJANGO_ALLOW_ASYNC_UNSAFE is set; it must be set
before Django first checks it, hence at the very top of this module.

Every browser test needs the live server, so it runs as a transactional test: the tables
are flushed after it, including the drug catalog and content types that migrations create.
Mark browser tests `@pytest.mark.django_db(transaction=True, serialized_rollback=True)`:
Django then snapshots the migrated rows at setup and reloads them before each such test.

Two catches, both handled here:
- Once Playwright runs, `asyncio.get_running_loop()` finds its loop in the test thread, so
  Django's per-thread connection store switches to a per-context one and hands test code new
  connection objects, without the snapshot: the serialized rollback would silently do
  nothing from the second test on. `browser` copies the snapshot onto the new objects.
- The flush after the last browser test would leave the transactional tests that run later
  (tests/test_celery_worker.py) without drugs; `_restore_migration_data` reloads them.
"""

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.conftest import need_service  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def migrated_rows(django_db_setup, django_db_blocker) -> dict[str, str]:
    """Per database alias, the rows as migrated, serialized by Django at setup.

    Django only takes this snapshot when a collected test asks for serialized_rollback.
    Taken here before Playwright starts, while the original connection objects are in use.
    """
    from django.db import connections

    snapshot = {}
    for alias in connections:
        contents = getattr(connections[alias], "_test_serialized_contents", None)
        if contents is not None:
            snapshot[alias] = contents
    return snapshot


def _share_snapshot(snapshot: dict[str, str]) -> None:
    """Give the connection objects test code sees now the snapshot Django restores from."""
    from django.db import connections

    for alias, contents in snapshot.items():
        connections[alias]._test_serialized_contents = contents


@pytest.fixture(scope="session")
def browser(migrated_rows):
    need_service("Chromium", CHROMIUM.exists(), f"{CHROMIUM} is missing")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        _share_snapshot(migrated_rows)
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) and page per test, on the live server."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MS)
    new_page = context.new_page()
    yield new_page
    context.close()


@pytest.fixture
def signed_in(live_server):
    """Sign a user in through the real login form; returns the page, now on the start page."""
    from playwright.sync_api import expect

    def sign_in(page, username: str, password: str):
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name=f"Welcome, {username}")).to_be_visible()
        return page

    return sign_in


@pytest.fixture
def screenshot():
    """Save a full-page PNG to test-artifacts/ when SCREENSHOTS=1; otherwise do nothing."""
    enabled = os.environ.get("SCREENSHOTS") == "1"

    def shoot(page, name: str):
        if not enabled:
            return None
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot


@pytest.fixture(scope="package", autouse=True)
def _restore_migration_data(migrated_rows, django_db_blocker):
    """After the last browser test, reload the migrated rows its flush removed."""
    yield
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    with django_db_blocker.unblock():
        for alias, contents in migrated_rows.items():
            # A serialized-rollback flush skips post_migrate, so no content types means the
            # tables were emptied and nothing would clash with the reloaded rows.
            if not ContentType.objects.using(alias).exists():
                connections[alias].creation.deserialize_db_from_string(contents)
