"""`taikai-bot line richmenu` against the fake LINE API, and the committed PNG."""

from __future__ import annotations

import asyncio
import io
import struct

import pytest

from bot.__main__ import main
from bot.channels.line.api import LINE_API, LINE_DATA_API, api_configuration
from bot.channels.line.richmenu import (
    HEIGHT,
    PANEL_COLOURS,
    WIDTH,
    WORDS_KEY,
    install_rich_menu,
    menu_image,
    menu_words,
    panels,
)
from bot.core.japanese.normalize import normalize
from bot.core.library.model import Library
from tests.channels.line import webhooks
from tests.channels.line.conftest import line_settings
from tests.fakes.line_api import FakeLineApi


def image_words(png: bytes) -> tuple[str, ...]:
    """The words a rendered image says it shows (its tEXt/iTXt chunk), () when it says nothing."""
    position = 8
    while position + 8 <= len(png):
        (length,), kind = struct.unpack(">I", png[position : position + 4]), png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        keyword = WORDS_KEY.encode() + b"\0"
        if kind == b"iTXt" and data.startswith(keyword) and data[len(keyword)] == 0:  # 0: not compressed
            # keyword NUL, compression flag, method, language tag NUL, translated keyword NUL, UTF-8 text
            _, _, text = data[len(keyword) + 2 :].split(b"\0", 2)
            return tuple(text.decode().split("/"))
        position += 12 + length
    return ()


def test_the_image_is_a_png_of_three_panels_that_shows_the_lexicons_words(library: Library) -> None:
    from PIL import Image

    png = menu_image()
    assert len(png) < 1024 * 1024, "LINE accepts images up to 1 MB"
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT) and image.mode == "RGB"
    for (x, panel_width), colour in zip(panels(), PANEL_COLOURS, strict=True):
        assert image.getpixel((x + panel_width // 2, 5)) == colour  # the panel's colour above its word
        word_area = image.crop((x + 20, HEIGHT // 3, x + panel_width - 20, 2 * HEIGHT // 3))
        assert (255, 255, 255) in {rgb for _, rgb in word_area.getcolors(1 << 16) or ()}, "a white word is drawn"
    assert sum(w for _, w in panels()) == WIDTH
    assert image_words(png) == menu_words(library), (
        "the lexicon's menu words changed: run `python tools/render_richmenu.py` and commit the PNG"
    )


def test_every_menu_word_is_a_command(library: Library) -> None:
    """A tap sends the word as the user's message: each must be understood as a command anywhere."""
    for word in (*menu_words(library), library.texts.nav_back):
        assert library.vocabulary.command(normalize(word)), word


async def test_install_creates_uploads_and_sets_default(fake: FakeLineApi, library: Library) -> None:
    settings = line_settings(fake.url)
    first = await install_rich_menu(settings, library)
    menu = fake.menus[first]
    assert [a["action"]["label"] for a in menu["areas"]] == list(menu_words(library))
    assert [a["action"]["text"] for a in menu["areas"]] == list(menu_words(library))
    assert menu["chatBarText"] == library.texts.menu_bar and len(menu["chatBarText"]) <= 14
    assert menu["size"] == {"width": WIDTH, "height": HEIGHT}
    content_type, image = fake.images[first]
    assert content_type == "image/png" and image == menu_image()
    assert fake.default_menu == first
    upload = fake.calls(f"/v2/bot/richmenu/{first}/content")[0]
    assert upload.headers["Authorization"] == f"Bearer {webhooks.TOKEN}"

    second = await install_rich_menu(settings, library)  # re-running replaces the menu
    assert fake.default_menu == second and list(fake.menus) == [second]


async def test_the_command(
    fake: FakeLineApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINE_API_BASE_URL", fake.url)
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "wrong-token")
    assert await asyncio.to_thread(main, ["line", "richmenu"]) == 1  # the CLI runs its own event loop
    err = capsys.readouterr().err
    assert "401" in err and "wrong-token" not in err
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", webhooks.TOKEN)
    assert await asyncio.to_thread(main, ["line", "richmenu"]) == 0
    assert fake.default_menu is not None and fake.default_menu in capsys.readouterr().out
    monkeypatch.setenv("LINE_API_BASE_URL", "http://127.0.0.1:1")  # nothing listens there
    assert await asyncio.to_thread(main, ["line", "richmenu"]) == 1
    assert "cannot reach" in capsys.readouterr().err


def test_data_host_for_lines_own_api() -> None:
    """With LINE's base URL, blob calls (images) must go to api-data.line.me; a fake serves both."""
    assert api_configuration(LINE_API, "t").host == LINE_API
    assert api_configuration(LINE_API + "/", "t", data=True).host == LINE_DATA_API
    assert api_configuration("http://127.0.0.1:9", "t", data=True).host == "http://127.0.0.1:9"
