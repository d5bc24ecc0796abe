"""`taikai-bot line richmenu` against the fake LINE API, and the generated PNG."""

from __future__ import annotations

import asyncio
import struct
import zlib

import pytest

from bot.__main__ import main
from bot.channels.line_richmenu import HEIGHT, PANEL_COLOURS, WIDTH, WORDS, install_rich_menu, menu_image, panels
from bot.channels.line_send import LINE_API, LINE_DATA_API, api_configuration
from tests.channels.line import webhooks
from tests.channels.line.conftest import line_settings
from tests.fakes.line_api import FakeLineApi


def _pixels(png: bytes) -> tuple[int, int, bytes]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        chunks[kind] = data
        pos += 12 + length
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 2)
    return width, height, zlib.decompress(chunks[b"IDAT"])


def test_the_image_is_a_valid_png_with_three_panels() -> None:
    png = menu_image()
    assert len(png) < 1024 * 1024, "LINE accepts images up to 1 MB"
    width, height, raw = _pixels(png)
    assert (width, height) == (WIDTH, HEIGHT) and len(raw) == HEIGHT * (1 + 3 * WIDTH)
    top = raw[1 : 1 + 3 * WIDTH]  # the first row: no shapes, only the panels' colours
    for (x, panel_width), colour in zip(panels(), PANEL_COLOURS, strict=True):
        middle = x + panel_width // 2
        assert top[3 * middle : 3 * middle + 3] == bytes(colour)
    assert sum(w for _, w in panels()) == WIDTH


async def test_install_creates_uploads_and_sets_default(fake: FakeLineApi) -> None:
    settings = line_settings(fake.url)
    first = await install_rich_menu(settings)
    menu = fake.menus[first]
    assert [a["action"]["label"] for a in menu["areas"]] == list(WORDS)
    assert [a["action"]["text"] for a in menu["areas"]] == list(WORDS)
    assert menu["size"] == {"width": WIDTH, "height": HEIGHT} and len(menu["chatBarText"]) <= 14
    content_type, image = fake.images[first]
    assert content_type == "image/png" and image == menu_image()
    assert fake.default_menu == first
    upload = fake.calls(f"/v2/bot/richmenu/{first}/content")[0]
    assert upload.headers["Authorization"] == f"Bearer {webhooks.TOKEN}"

    second = await install_rich_menu(settings)  # re-running replaces the menu
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
