"""`taikai-bot line richmenu`: create the rich menu (最初から・状況・ヘルプ), upload its image, make it default.

The image is `richmenu.png` beside this module: three panels with the words drawn in Noto Sans CJK,
rendered once by `tools/render_richmenu.py` (Pillow and Debian's fonts-noto-cjk: not needed at run time)
from the lexicon's words (`texts`: nav_restart, nav_status, nav_help). The PNG records the words it shows
(a tEXt chunk); tests/channels/line/test_richmenu.py fails when the lexicon changes and it was not rendered
again. The panels' actions send the same words into the chat as the user's message (the lexicon
understands all three anywhere).

Re-running is safe: the new menu becomes the default first, then older menus of this bot (same name)
are deleted, so users never see a chat without a menu.
"""

from __future__ import annotations

import sys
from pathlib import Path
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

from bot.channels.line.api import REQUEST_TIMEOUT, api_configuration
from bot.config import Settings
from bot.core.library.model import Library

MENU_NAME = "taikai-bot"
WIDTH, HEIGHT = 2500, 843  # LINE's compact full-width size
PANELS = 3  # 最初から・状況・ヘルプ, left to right (`menu_words`)
PANEL_COLOURS = ((0x06, 0xC7, 0x55), (0x1E, 0x88, 0xE5), (0xF5, 0x9E, 0x0B))
IMAGE = Path(__file__).with_name("richmenu.png")
WORDS_KEY = "taikai-words"  # the PNG tEXt chunk naming the words drawn, joined by "/"


def panels() -> list[tuple[int, int]]:
    """(x, width) of each third, the last one taking the rounding remainder."""
    count = PANELS
    third = WIDTH // count
    return [(i * third, third if i < count - 1 else WIDTH - i * third) for i in range(count)]


def menu_words(library: Library) -> tuple[str, ...]:
    texts = library.texts
    return texts.nav_restart, texts.nav_status, texts.nav_help  # left to right, one per panel


def menu_image() -> bytes:
    """The committed rich menu image (PNG, 2500×843)."""
    return IMAGE.read_bytes()


def menu_request(library: Library) -> Any:
    areas = [
        RichMenuArea(
            bounds=RichMenuBounds(x=x, y=0, width=width, height=HEIGHT),
            action=MessageAction(label=word, text=word),
        )
        for (x, width), word in zip(panels(), menu_words(library), strict=True)
    ]
    return RichMenuRequest(
        size=RichMenuSize(width=WIDTH, height=HEIGHT),
        selected=True,  # shown open, so new friends see the three panels at once
        name=MENU_NAME,
        chat_bar_text=library.texts.menu_bar,
        areas=areas,
    )


async def install_rich_menu(settings: Settings, library: Library) -> str:
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
        menu_id = cast(str, (await api.create_rich_menu(menu_request(library), **timeout)).rich_menu_id)
        try:
            await blob.set_rich_menu_image(menu_id, menu_image(), _headers={"Content-Type": "image/png"}, **timeout)
            await api.set_default_rich_menu(menu_id, **timeout)
        except BaseException:
            await api.delete_rich_menu(menu_id, **timeout)  # do not leave a menu without an image behind
            raise
        for old in older:
            await api.delete_rich_menu(old, **timeout)
    return menu_id


async def richmenu_command(settings: Settings, library: Library) -> int:
    """The CLI entry: prints the new menu's id, or what went wrong (never the token)."""
    try:
        menu_id = await install_rich_menu(settings, library)
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
    print(f"rich menu {menu_id} is now the default ({' / '.join(menu_words(library))})")
    return 0
