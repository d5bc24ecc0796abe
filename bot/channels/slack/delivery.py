"""Running one Slack turn after the ack, and getting its answers to the right place.

Places: a DM (everything inline), a channel thread (the conversation in the thread, the user's checklist
ephemerally, never to the channel), or a response URL (slash commands and ephemeral buttons: everything
ephemeral). Failures are logged with Slack's error code or the exception type only: message text, tokens
and secrets never reach the log.

A response URL comes from the request body; it is signed by Slack, but the server must still never POST
wherever a payload says (SSRF): only ``https://hooks.slack.com/…`` (and GovSlack's host), or the host of
the configured ``SLACK_API_BASE_URL`` (the tests' local fake), is ever called.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.channels.base import ChannelContext
from bot.channels.delivery import OutputChannel, deliver
from bot.channels.slack.home import publish_home
from bot.channels.slack.render import SlackMessage, answered_blocks, render
from bot.channels.slack.retries import REFUSED, never_reached
from bot.conversation import TurnResult, TurnStatus, UserMessage
from bot.core.messages import Reply, StartInput
from bot.core.session import SessionKey

log = logging.getLogger(__name__)

SLACK_HOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})


def response_url_checker(api_base_url: str) -> Callable[[Any], str | None]:
    """A check that keeps a response URL only when it is Slack's (https, a Slack hooks host, no credentials,
    default port) or on the configured API base URL's scheme and host (a local fake in tests)."""
    base = urlsplit(api_base_url)
    own = (base.scheme, base.netloc.lower()) if base.scheme and base.netloc else None

    def check(url: Any) -> str | None:
        if not isinstance(url, str) or len(url) > 2048:
            return None
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        if parts.username is not None or parts.password is not None:
            return None
        slack = parts.scheme == "https" and (parts.hostname or "") in SLACK_HOOK_HOSTS and port in (None, 443)
        configured = own is not None and (parts.scheme, parts.netloc.lower()) == own
        return url if slack or configured else None

    return check


@dataclass(frozen=True, slots=True)
class Place:
    """Where a turn's answers go. `private`: only the user and the bot can see the conversation (a DM)."""

    channel: str | None
    user: str
    thread_ts: str | None = None
    private: bool = True
    response_url: str | None = None  # answer ephemerally through this URL instead of the Web API


@dataclass(frozen=True, slots=True)
class Posted:
    """How many messages went; `refused`: the first that did not surely never reached Slack (429, 503, no
    connection), so posting it again cannot show it twice."""

    sent: int
    refused: bool


@dataclass(frozen=True, slots=True)
class Tap:
    """The question message a button was pressed on, so its buttons can be replaced by the answer."""

    channel: str | None
    ts: str | None
    blocks: tuple[dict[str, Any], ...]  # as Slack sent them back (empty for some ephemeral messages)
    text: str
    label: str
    response_url: str | None
    ephemeral: bool


class SlackOutput(OutputChannel):
    """One turn's answers to one place. An answered turn first replaces the tapped question's buttons with the
    chosen answer, then posts the replies, then refreshes the user's Home tab.

    What could not be posted goes to the outbox (`later`), when there is one: posted later, to the same
    channel and thread (a response URL's answer to the user's DM), each message once (`sent+later`)."""

    def __init__(
        self,
        delivery: SlackDelivery,
        client: AsyncWebClient,
        key: SessionKey,
        place: Place,
        tap: Tap | None,
        later: bool = True,
    ) -> None:
        self.delivery, self.client, self.key, self.place, self.tap = delivery, client, key, place, tap
        self.later = later

    async def send(self, replies: Sequence[Reply]) -> str:
        messages = render(replies, self.key.user)
        posted = await self.delivery.send(self.client, self.place, messages)
        sent = posted.sent
        if sent == len(messages):
            return "sent"
        outbox = self.delivery.context.outbox
        if not self.later or outbox is None or not posted.refused:
            return "failed"  # a post that may have arrived (a 500, a dropped connection) is not posted again
        kept = await outbox.keep(self.key, later_payload(self.place, messages[sent:]))
        return "failed+later" if kept else "failed+lost"

    async def answer(self, result: TurnResult) -> str:
        if result.session is None:  # 削除 done: nothing that names the user is kept, not even this answer
            self.later = False
        if self.tap is not None and result.trace is not None:
            await self.delivery.mark_answered(self.client, self.tap, applied=result.trace.outcome != "stale")
        sent = await self.send(result.replies)
        await publish_home(self.client, self.key.user, self.delivery.library, result.session)
        return sent


class SlackDelivery:
    def __init__(self, context: ChannelContext) -> None:
        self.context = context
        self.library = context.library
        self.allowed_response_url = response_url_checker(context.settings.slack_api_base_url)

    async def turn(self, client: AsyncWebClient, message: UserMessage, place: Place, tap: Tap | None = None) -> None:
        """The turn through the one delivery path (`deliver`), answered through a `SlackOutput`."""
        result = await self.context.conversation.handle(message)
        delivery = await deliver(result, SlackOutput(self, client, message.key, place, tap))
        if delivery.status is TurnStatus.DUPLICATE:
            log.info("slack event already processed: ignored")
        else:
            log.debug("slack turn: %s", delivery.describe())

    async def send(self, client: AsyncWebClient, place: Place, messages: Sequence[SlackMessage]) -> Posted:
        """Post in order; stop at the first failure (the rest would be out of context). How many went."""
        for index, message in enumerate(messages):
            try:
                if place.response_url:
                    await self._webhook(place.response_url, message.text, message.blocks, replace=False)
                elif message.personal and not place.private:
                    await client.chat_postEphemeral(
                        channel=place.channel or "",
                        user=place.user,
                        text=message.text,
                        blocks=list(message.blocks),
                        thread_ts=place.thread_ts,
                    )
                else:
                    await client.chat_postMessage(
                        channel=place.channel or "",
                        text=message.text,
                        blocks=list(message.blocks),
                        thread_ts=place.thread_ts,
                    )
            except _SEND_ERRORS as exc:
                log.warning("slack send failed: %s", _error_code(exc))
                self.context.metrics.platform_error("slack", _error_code(exc))
                return Posted(index, _refused(exc))
        return Posted(len(messages), False)

    async def mark_answered(self, client: AsyncWebClient, tap: Tap, applied: bool) -> None:
        """Replace the question's buttons with the chosen answer (or just remove them when the tap was stale)."""
        blocks = answered_blocks(tap.blocks, tap.label if applied else None)
        try:
            if tap.ephemeral and tap.response_url:
                await self._webhook(tap.response_url, tap.text or tap.label, blocks, replace=True)
            elif tap.channel and tap.ts and blocks:
                await client.chat_update(
                    channel=tap.channel, ts=tap.ts, text=tap.text or tap.label, blocks=list(blocks)
                )
        except _SEND_ERRORS as exc:
            log.warning("slack update of the answered question failed: %s", _error_code(exc))
            self.context.metrics.platform_error("slack", _error_code(exc))

    async def greet(self, client: AsyncWebClient, key: SessionKey, event_id: str | None, place: Place) -> None:
        """Start the conversation for someone who opens the DM with no session yet; nothing otherwise (Slack
        sends this event on every visit, and a returning user is welcomed back when they write)."""
        if await self.context.conversation.session(key) is None:
            await self.turn(client, UserMessage(key, StartInput(), event_id), place)

    async def refresh_home(self, client: AsyncWebClient, key: SessionKey) -> None:
        session = await self.context.conversation.session(key)
        await publish_home(client, key.user, self.library, session)

    async def not_yours(self, response_url: str | None) -> None:
        if not response_url:
            return
        text = self.library.texts.slack_not_yours
        try:
            await self._webhook(response_url, text, (), replace=False)
        except _SEND_ERRORS as exc:
            log.warning("slack notice failed: %s", _error_code(exc))

    async def erase_workspace(self, workspace: str) -> int:
        """Every session of the workspace's users (uninstall); returns how many users were erased."""
        count = await self.context.conversation.erase_workspace("slack", workspace)
        log.info("slack workspace removed: %d user(s) erased", count)
        return count

    async def _webhook(self, url: str, text: str, blocks: Sequence[dict[str, Any]], replace: bool) -> None:
        if self.allowed_response_url(url) is None:  # checked by the listeners too: this is the last gate
            raise WebhookFailed("refused")
        response = await AsyncWebhookClient(url).send(
            text=text,
            blocks=list(blocks) or None,
            response_type=None if replace else "ephemeral",
            replace_original=replace,
        )
        if response.status_code != 200:
            raise WebhookFailed(str(response.status_code))


def later_payload(place: Place, messages: Sequence[SlackMessage]) -> dict[str, Any]:
    """What the outbox keeps of messages not posted: JSON, and never a response URL (a credential for 30
    minutes): an ephemeral answer goes to the user's DM instead."""
    channel = place.user if place.response_url else place.channel
    thread = None if place.response_url else place.thread_ts
    private = place.private or bool(place.response_url)
    units = [{"text": m.text, "blocks": list(m.blocks), "personal": m.personal} for m in messages]
    return {"channel": channel, "user": place.user, "thread_ts": thread, "private": private, "units": units}


def later_place(payload: dict[str, Any]) -> tuple[Place, list[SlackMessage]] | None:
    """The place and messages of a kept payload; None when it is not one (another release's, a bad edit)."""
    units, channel, user = payload.get("units"), payload.get("channel"), payload.get("user")
    if not isinstance(units, list) or not isinstance(channel, str) or not isinstance(user, str):
        return None
    thread = payload.get("thread_ts") if isinstance(payload.get("thread_ts"), str) else None
    place = Place(channel, user, thread_ts=thread, private=bool(payload.get("private", True)))
    try:
        messages = [SlackMessage(str(u["text"]), tuple(u["blocks"]), bool(u.get("personal"))) for u in units]
    except (KeyError, TypeError):
        return None
    return place, messages


class WebhookFailed(Exception):
    """A response URL refused the message (expired after 30 minutes, or used more than 5 times)."""


# What a post can fail with: Slack's refusal, a refused response URL, the network, or a timeout.
_SEND_ERRORS = (SlackApiError, WebhookFailed, aiohttp.ClientError, TimeoutError)


def _refused(exc: Exception) -> bool:
    """Slack surely did not post it: the same rule as `retries` retries a post by."""
    if isinstance(exc, SlackApiError):
        return exc.response.status_code in REFUSED
    return never_reached(exc)


def _error_code(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown"))
    if isinstance(exc, WebhookFailed):
        return f"response URL {exc}"
    return type(exc).__name__
