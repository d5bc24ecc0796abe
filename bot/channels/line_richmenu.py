"""`taikai-bot line richmenu`: create the rich menu (最初から・状況・ヘルプ), upload its image, make it default.

The image is drawn here in pure Python (zlib + struct, no imaging library): three coloured panels
with a distinct white shape each (a ring for 最初から, a list for 状況, a diamond for ヘルプ). Drawing
Japanese text needs a font, so the words are not drawn: the panels' actions carry the labels, and the
tapped word is sent into the chat as the user's message (the lexicon understands all three anywhere).

Re-running is safe: the new menu becomes the default first, then older menus of this bot (same name)
are deleted, so users never see a chat without a menu.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from collections.abc import Callable
from typing import Any, cast

import aiohttp
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    MessageAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)

from bot.channels.line_send import REQUEST_TIMEOUT, api_configuration
from bot.config import Settings

MENU_NAME = "taikai-bot"
CHAT_BAR_TEXT = "メニュー"
WIDTH, HEIGHT = 2500, 843  # LINE's compact full-width size
WORDS = ("最初から", "状況", "ヘルプ")
PANEL_COLOURS = ((0x06, 0xC7, 0x55), (0x1E, 0x88, 0xE5), (0xF5, 0x9E, 0x0B))
WHITE = (0xFF, 0xFF, 0xFF)
DIVIDER = (0xE0, 0xE0, 0xE0)

Spans = Callable[[int], list[tuple[float, float]]]  # row y -> [x_from, x_to) spans to paint


def panels() -> list[tuple[int, int]]:
    """(x, width) of each third, the last one taking the rounding remainder."""
    third = WIDTH // len(WORDS)
    return [(i * third, third if i < len(WORDS) - 1 else WIDTH - i * third) for i in range(len(WORDS))]


def _ring(cx: float, cy: float, outer: float, inner: float) -> Spans:
    def spans(y: int) -> list[tuple[float, float]]:
        dy = abs(y - cy)
        if dy > outer:
            return []
        xo = math.sqrt(outer * outer - dy * dy)
        if dy >= inner:
            return [(cx - xo, cx + xo)]
        xi = math.sqrt(inner * inner - dy * dy)
        return [(cx - xo, cx - xi), (cx + xi, cx + xo)]

    return spans


def _list(cx: float, cy: float, size: float) -> Spans:
    """Three rows of a checkbox square and a bar."""
    row, box = size / 3, size / 5

    def spans(y: int) -> list[tuple[float, float]]:
        for i in range(3):
            top = cy - size / 2 + i * row
            if top <= y < top + box:
                return [(cx - size / 2, cx - size / 2 + box), (cx - size / 2 + box * 1.6, cx + size / 2)]
        return []

    return spans


def _diamond(cx: float, cy: float, radius: float) -> Spans:
    def spans(y: int) -> list[tuple[float, float]]:
        half = radius - abs(y - cy)
        return [(cx - half, cx + half)] if half > 0 else []

    return spans


def menu_image() -> bytes:
    """The rich menu image as a PNG (RGB, 2500×843; flat colours compress to a few kilobytes)."""
    cy = HEIGHT / 2
    (x1, w1), (x2, w2), (x3, w3) = panels()
    shapes = [_ring(x1 + w1 / 2, cy, 250, 170), _list(x2 + w2 / 2, cy, 480), _diamond(x3 + w3 / 2, cy, 260)]
    background = bytearray()
    for (_, width), colour in zip(panels(), PANEL_COLOURS, strict=True):
        background += bytes(colour) * width
    for x, _ in panels()[1:]:
        background[3 * (x - 3) : 3 * (x + 3)] = bytes(DIVIDER) * 6
    raw = bytearray()
    for y in range(HEIGHT):
        row = bytearray(background)
        for shape in shapes:
            for start, end in shape(y):
                a, b = max(0, round(start)), min(WIDTH, round(end))
                if b > a:
                    row[3 * a : 3 * b] = bytes(WHITE) * (b - a)
        raw += b"\x00" + row  # filter type 0 (None) for every scanline
    return _png(WIDTH, HEIGHT, bytes(raw))


def _png(width: int, height: int, scanlines: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(scanlines, 9))
        + chunk(b"IEND", b"")
    )


def menu_request() -> Any:
    areas = [
        RichMenuArea(
            bounds=RichMenuBounds(x=x, y=0, width=width, height=HEIGHT),
            action=MessageAction(label=word, text=word),
        )
        for (x, width), word in zip(panels(), WORDS, strict=True)
    ]
    return RichMenuRequest(
        size=RichMenuSize(width=WIDTH, height=HEIGHT),
        selected=True,  # shown open, so new friends see the three panels at once
        name=MENU_NAME,
        chat_bar_text=CHAT_BAR_TEXT,
        areas=areas,
    )


async def install_rich_menu(settings: Settings) -> str:
    """Create, illustrate and set the default rich menu; delete this bot's older ones. Returns the id."""
    if settings.line_channel_access_token is None:
        raise ValueError("set LINE_CHANNEL_ACCESS_TOKEN first")
    token = settings.line_channel_access_token.get_secret_value()
    base = settings.line_api_base_url
    async with (
        AsyncApiClient(api_configuration(base, token)) as client,
        AsyncApiClient(api_configuration(base, token, data=True)) as data_client,
    ):
        api = AsyncMessagingApi(client)
        blob = AsyncMessagingApiBlob(data_client)
        timeout = {"_request_timeout": REQUEST_TIMEOUT}
        listed = await api.get_rich_menu_list(**timeout)
        older = [menu.rich_menu_id for menu in listed.richmenus if menu.name == MENU_NAME]
        menu_id = cast(str, (await api.create_rich_menu(menu_request(), **timeout)).rich_menu_id)
        try:
            await blob.set_rich_menu_image(menu_id, menu_image(), _headers={"Content-Type": "image/png"}, **timeout)
            await api.set_default_rich_menu(menu_id, **timeout)
        except BaseException:
            await api.delete_rich_menu(menu_id, **timeout)  # do not leave a menu without an image behind
            raise
        for old in older:
            await api.delete_rich_menu(old, **timeout)
    return menu_id


async def richmenu_command(settings: Settings) -> int:
    """The CLI entry: prints the new menu's id, or what went wrong (never the token)."""
    try:
        menu_id = await install_rich_menu(settings)
    except ValueError as exc:
        print(f"rich menu not created: {exc}", file=sys.stderr)
        return 2
    except ApiException as exc:
        print(f"rich menu not created: LINE answered {exc.status} {exc.reason}", file=sys.stderr)
        return 1
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        print(
            f"rich menu not created: cannot reach {settings.line_api_base_url} ({type(exc).__name__})", file=sys.stderr
        )
        return 1
    print(f"rich menu {menu_id} is now the default (最初から / 状況 / ヘルプ)")
    return 0
