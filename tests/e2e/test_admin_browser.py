"""The operator page in headless Chromium against real gunicorn: log in, find, replay, see it replayed."""

import os
import shutil
import uuid
from datetime import UTC, datetime

import pytest

from db.engine import transaction
from db.queries import dead_letters
from tests.conftest import ADMIN

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("NOTICE: no Chromium on this machine (apt-get install chromium); browser tier skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


def test_log_in_find_a_dead_letter_replay_it_and_see_it_replayed(browser, web, engine, tmp_path):
    now = datetime.now(UTC)
    marker = uuid.uuid4().hex[:10]
    with transaction(engine) as s:
        entry_id = dead_letters.record(
            s,
            {
                "message_id": str(uuid.uuid4()),
                "queue": "browser-tests",
                "actor": "tests.browser",
                "args": [marker],
                "kwargs": {},
                "options": {},
                "attempts": 6,
                "exception_type": "TimeoutError",
                "exception_message": f"provider timed out {marker}",
                "traceback": f"Traceback\nTimeoutError: {marker}",
                "fingerprint": marker,
                "origin": "jobs/email.py:send",
                "first_failed_at": now,
                "last_failed_at": now,
                "replay_of": None,
            },
        )
    page = browser.new_page()
    page.goto(f"{web}/admin")
    assert page.url.endswith("/admin/login")

    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    assert "not valid" in page.inner_text("[role=alert]")
    assert page.context.cookies() == []

    page.fill("#token", ADMIN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{web}/admin")
    cookie = next(c for c in page.context.cookies() if c["name"] == "backroom_admin")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.is_visible(f"text=provider timed out {marker}")

    page.click(f"a[href='/admin/dead-letters/{entry_id}']")
    assert page.inner_text("#state") == "dead"
    assert marker in page.inner_text("pre.traceback")
    page.click("text=Replay")
    assert page.is_visible("text=Yes, replay")
    page.fill("#reason", "browser test")
    page.click("text=Yes, replay")
    page.wait_for_url(f"**/admin/dead-letters/{entry_id}?notice=*")
    assert page.inner_text("#state") == "replayed"
    assert "browser test" in page.inner_text("table")
    page.screenshot(path=str(tmp_path / "admin-entry.png"), full_page=True)
