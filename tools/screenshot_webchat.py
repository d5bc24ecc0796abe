"""Draw docs/webchat.png: the browser test's journey (tests/channels/web/test_browser.py) in headless
Chromium at phone size (390×844), on the memory store. Needs chromium, chromium-driver, fonts-noto-cjk and
fonts-noto-color-emoji (the checklist's marks).

    .venv/bin/python -m tools.screenshot_webchat
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.core.library.load import load_library
from bot.wiring import create_app
from tests.channels.web.conftest import web_settings
from tests.channels.web.test_browser import CHROMEDRIVER, CHROMIUM, _journey, phone
from tests.fakes.server import serve

OUT = Path(__file__).resolve().parent.parent / "docs" / "webchat.png"


async def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--window-size=390,844", "--lang=ja-JP"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    phone(driver)
    try:
        app = create_app(web_settings(), load_library(Path("flows")))
        async with serve(app) as url:
            await asyncio.to_thread(_journey, driver, url, OUT)
    finally:
        driver.quit()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
