"""The web chat in a real browser: Debian's Chromium, headless, driven by Selenium through Debian's
chromedriver (nothing is downloaded). A phone-sized window goes from the greeting to a client message
(copied with its button) and 「状況」, a reminder appears while the page is open, and the page is usable
by keyboard and screen reader (buttons are buttons, the log is a live region, the input has a label).

Under CI=true a missing Chromium fails the test (.ci/run installs it); elsewhere it is skipped, loudly."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.library.model import Library
from bot.core.messages import Text
from bot.core.session import SessionKey
from tests.channels.web.conftest import StartApp
from tests.flows.journeys import TO_CANCEL_MESSAGE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# What a worker with a job in progress types or taps, to the cancellation message for the client.
JOURNEY = ["ランサーズを退会", *TO_CANCEL_MESSAGE[1:]]  # the menu's button first, as a person taps it
WAIT = 15  # seconds for any one step


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        message = "Debian's chromium and chromium-driver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=390,844"):
        options.add_argument(argument)
    options.add_argument("--lang=ja-JP")
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look for a browser online
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    phone(driver)
    try:
        yield driver
    finally:
        driver.quit()


PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


def phone(driver: object) -> None:
    """A phone's viewport (390×844 CSS px): headless Chromium's --window-size gives a desktop-sized one."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)  # type: ignore[attr-defined]


def _journey(driver: object, url: str, screenshot: Path) -> dict[str, object]:
    """The synchronous browser part (run in a thread: the server runs on the test's event loop)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(driver, WebDriver)
    wait = WebDriverWait(driver, WAIT)
    driver.get(f"{url}/chat")

    def bot_count() -> int:
        return len(driver.find_elements(By.CSS_SELECTOR, "#log .bubble.bot"))

    def enabled_buttons() -> list:
        return [b for b in driver.find_elements(By.CSS_SELECTOR, "#log .choices button") if b.is_enabled()]

    wait.until(lambda _: enabled_buttons())  # the greeting and its question
    seen = {"typed": 0, "tapped": 0}
    for step in JOURNEY:
        before = bot_count()
        button = next((b for b in enabled_buttons() if b.text == step), None)
        if button is not None:
            # the log scrolls smoothly: bring the button into view at once, as a finger would find it
            driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", button)
            button.click()
            seen["tapped"] += 1
        else:  # no such button: typed, as a person would (Enter sends)
            box = driver.find_element(By.ID, "text")
            box.send_keys(step)
            box.send_keys(Keys.ENTER)
            seen["typed"] += 1
        wait.until(lambda _, before=before: bot_count() > before)  # type: ignore[misc]
        if button is not None and "focus_after_tap" not in seen:  # keyboard users go on from the new question
            focused = driver.switch_to.active_element
            seen["focus_after_tap"] = (
                focused.tag_name,
                focused.is_enabled(),
                focused.find_element(By.XPATH, "..").get_attribute("class"),
            )

    template = wait.until(lambda _: driver.find_elements(By.CSS_SELECTOR, "#log figure.template"))[-1]
    seen["template"] = template.find_element(By.TAG_NAME, "pre").text
    copy = template.find_element(By.CSS_SELECTOR, "button.copy")
    label = copy.text
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", copy)
    copy.click()
    wait.until(lambda _: copy.text != label)
    seen["copied"] = copy.text
    driver.save_screenshot(str(screenshot))

    before = bot_count()
    status = next(
        b for b in driver.find_elements(By.CSS_SELECTOR, ".menu button") if b.get_attribute("data-command") == "status"
    )
    status.click()
    wait.until(lambda _: bot_count() > before)
    seen["checklist"] = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#log .checklist li")]

    log = driver.find_element(By.ID, "log")
    seen["log_role"], seen["log_live"] = log.get_attribute("role"), log.get_attribute("aria-live")
    seen["label_for_input"] = driver.find_element(By.CSS_SELECTOR, "label[for=text]").get_attribute("textContent")
    seen["choice_tags"] = {b.tag_name for b in driver.find_elements(By.CSS_SELECTOR, "#log .choices > *")}
    seen["viewport"] = driver.execute_script("return [innerWidth, innerHeight]")
    seen["page_scrolls"] = driver.execute_script(
        "return document.scrollingElement.scrollHeight > innerHeight + 1"
    )  # only the log scrolls: the page itself never slides away
    seen["outside_requests"] = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))"
    )
    seen["errors"] = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    return seen


def _sees(driver: object, text: str) -> bool:
    """Wait for a line of text in the log, asking the page to look in its inbox (as on coming back to it)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(driver, WebDriver)
    driver.execute_script("document.dispatchEvent(new Event('visibilitychange'))")
    WebDriverWait(driver, WAIT).until(
        lambda _: any(text in b.text for b in driver.find_elements(By.CSS_SELECTOR, "#log .bubble.bot"))
    )
    return True


async def test_a_whole_journey_in_headless_chromium(
    chromium: object, start_app: StartApp, library: Library, tmp_path: Path
) -> None:
    screenshot = tmp_path / "webchat.png"
    async with start_app() as running:
        seen = await asyncio.to_thread(_journey, chromium, running.url, screenshot)
        assert seen["tapped"] and seen["typed"]  # both kinds of answer went through
        assert "山田" in str(seen["template"])
        assert seen["copied"] == library.texts.webchat_copied
        assert any("LP制作" in line for line in seen["checklist"])  # type: ignore[union-attr]  # named as told
        assert (seen["log_role"], seen["log_live"]) == ("log", "polite")
        assert seen["label_for_input"] == library.texts.webchat_input_label
        assert seen["choice_tags"] == {"button"}
        assert seen["focus_after_tap"] == ("button", True, "choices")
        assert seen["viewport"] == [PHONE["width"], PHONE["height"]] and seen["page_scrolls"] is False
        assert seen["outside_requests"] == [] and seen["errors"] == []
        assert screenshot.stat().st_size > 10_000

        # a reminder that falls due while the page is open appears in it
        (user,) = [key.user for key in await _web_users(running)]
        output = await running.channel.reminder_output(SessionKey("web", "-", user), "r1")
        assert output is not None and await output.send([Text("お知らせのテストです")]) == "stored"
        assert await asyncio.to_thread(_sees, chromium, "お知らせのテストです")


async def _web_users(running: object) -> list[SessionKey]:
    from bot.store.memory import MemorySessionStore

    store = running.store  # type: ignore[attr-defined]
    assert isinstance(store, MemorySessionStore)
    return [key for key in store._sessions if key.channel == "web"]
