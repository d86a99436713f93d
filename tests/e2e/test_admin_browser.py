"""The operator page in headless Chromium against real gunicorn: log in, find, replay, see it replayed."""

import os
import shutil
import uuid

import pytest

from tests.conftest import ADMIN
from tests.support.dead_letters import insert_dead_letter

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
    marker = uuid.uuid4().hex[:10]
    entry_id = insert_dead_letter(
        engine,
        queue="browser-tests",
        actor="tests.browser",
        args=[marker],
        attempts=6,
        exception_message=f"provider timed out {marker}",
        fingerprint=marker,
        traceback=f"Traceback\nTimeoutError: {marker}",
        origin="jobs/email.py:send",
    )
    page = browser.new_page()
    page.goto(f"{web}/admin")
    assert page.url.endswith("/admin/login")

    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    assert "not valid" in page.inner_text("[role=alert]")
    assert page.context.cookies() == []

    page.fill("#token", ADMIN)
    page.fill("#operator", "grace")
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
    history = page.inner_text("table")
    assert "browser test" in history and "web:grace" in history
    page.screenshot(path=str(tmp_path / "admin-entry.png"), full_page=True)
