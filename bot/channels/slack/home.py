"""The App Home tab: the user's own checklist, published after each turn and when the tab is opened.

The Home tab is private to the user, which makes it the one place besides the DM where the status of a
withdrawal may be shown without thought about who else is reading. The checklist is derived from the
session each time (as for 「状況」), so the tab can never disagree with the conversation.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.render import MAX_HEADER_TEXT, checklist_blocks, clip, plain, text_blocks
from bot.core.dialogue.checklist import build_checklist
from bot.core.library.model import Library
from bot.core.session import Session

log = logging.getLogger(__name__)

MAX_HOME_BLOCKS = 100


def home_view(library: Library, session: Session | None) -> dict[str, Any]:
    """The Home tab for a user; `session` None (new or erased user) shows the empty status and the help."""
    blocks: list[Block]
    if session is None:
        blocks = [HeaderBlock(text=plain(clip(library.texts.status_title, MAX_HEADER_TEXT)))]
        blocks.extend(text_blocks(library.texts.status_empty))
    else:
        blocks = checklist_blocks(build_checklist(library, session))
    help_blocks: list[Block] = [DividerBlock(), *text_blocks(library.texts.help)]
    if len(blocks) + len(help_blocks) > MAX_HOME_BLOCKS:  # the checklist matters more than the help
        help_blocks = []
    view = View(type="home", blocks=[*blocks[:MAX_HOME_BLOCKS], *help_blocks])
    return view.to_dict()


async def publish_home(client: AsyncWebClient, user: str, library: Library, session: Session | None) -> bool:
    """Publish the tab; False (logged, never raised) when Slack refuses, since the turn itself succeeded."""
    try:
        await client.views_publish(user_id=user, view=home_view(library, session))
    except SlackApiError as exc:
        log.warning("slack views.publish failed: %s", exc.response.get("error"))
        return False
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("slack views.publish failed: %s", type(exc).__name__)
        return False
    return True
