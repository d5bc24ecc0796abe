"""Sending to LINE: reply first, push only when the reply token cannot be used, loading animation.

A reply is free but its token is single-use and expires about a minute after the event; a push costs
quota. So a push is sent only when LINE answers that the token is invalid (expired or used), or the
event had none, and only when the operator allows it (`LINE_PUSH_FALLBACK`). Any other failure (a
timeout, a 5xx) is logged and not retried with a push: the reply may have arrived, and a second copy
of a question is worse than a lost one the user can ask for again.

Pushes carry an `X-Line-Retry-Key` derived from the event id, so LINE itself drops a second push for
the same event (it answers 409), whichever replica sends it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import aiohttp
from linebot.v3.messaging import (
    ApiException,
    AsyncMessagingApi,
    Configuration,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)

from bot.channels.line_render import MAX_MESSAGES, Message

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0  # seconds per LINE API call (the SDK's own default is five minutes)
LOADING_SECONDS = 20  # how long LINE shows the animation at most; a message ends it sooner
_RETRY_NAMESPACE = uuid.UUID("6f1c1d43-3a0e-4a53-9a5e-7d4c2b8e1a10")
_TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


def reply_token_invalid(exc: Any) -> bool:
    """LINE's answer to an expired or already used reply token: 400 "Invalid reply token"."""
    body = exc.body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else str(body or "")
    return exc.status == 400 and "reply token" in text.lower()


class LineSender:
    def __init__(self, api: Any, push_fallback: bool, timeout: float = REQUEST_TIMEOUT) -> None:
        self.api: AsyncMessagingApi = api
        self.push_fallback = push_fallback
        self.timeout = timeout

    async def show_loading(self, chat_id: str) -> bool:
        """Start the typing animation in a one-on-one chat; False (logged) when LINE refused."""
        request = ShowLoadingAnimationRequest(chat_id=chat_id, loading_seconds=LOADING_SECONDS)
        try:
            await self.api.show_loading_animation(request, _request_timeout=self.timeout)
            return True
        except ApiException as exc:
            log.warning("line loading animation refused: status=%s", exc.status)
        except _TRANSPORT_ERRORS as exc:
            log.warning("line loading animation failed: %s", type(exc).__name__)
        return False

    async def deliver(self, to: str | None, reply_token: str | None, messages: Sequence[Message], key: str) -> str:
        """Send `messages`: the first 5 as a reply (or push), the rest, if any, by push.

        `to` is the user, group or room id (for a push); `key` makes the push retry keys. Returns the
        outcome for the log: replied | pushed | not_sent | failed (with `+pushed`/`+dropped` for extras).
        """
        if not messages:
            return "nothing"
        batches = [list(messages[i : i + MAX_MESSAGES]) for i in range(0, len(messages), MAX_MESSAGES)]
        outcome = await self._first(to, reply_token, batches[0], key)
        for index, batch in enumerate(batches[1:], 1):
            pushed = outcome != "failed" and await self._push(to, batch, f"{key}:{index}")
            outcome += "+pushed" if pushed else "+dropped"
        return outcome

    async def _first(self, to: str | None, reply_token: str | None, batch: list[Message], key: str) -> str:
        if reply_token is not None:
            try:
                request = ReplyMessageRequest(reply_token=reply_token, messages=batch)
                await self.api.reply_message(request, _request_timeout=self.timeout)
                return "replied"
            except ApiException as exc:
                if not reply_token_invalid(exc):
                    log.error("line reply failed: status=%s", exc.status)
                    return "failed"
            except _TRANSPORT_ERRORS as exc:
                log.error("line reply failed: %s", type(exc).__name__)
                return "failed"
        if not self.push_fallback:
            return "not_sent"
        return "pushed" if await self._push(to, batch, key) else "failed"

    async def _push(self, to: str | None, batch: list[Message], key: str) -> bool:
        if not self.push_fallback or to is None:
            return False
        retry_key = str(uuid.uuid5(_RETRY_NAMESPACE, key))
        try:
            request = PushMessageRequest(to=to, messages=batch)
            await self.api.push_message(request, x_line_retry_key=retry_key, _request_timeout=self.timeout)
            return True
        except ApiException as exc:
            if exc.status == 409:  # this retry key was already accepted: the user has the messages
                return True
            log.error("line push failed: status=%s", exc.status)
        except _TRANSPORT_ERRORS as exc:
            log.error("line push failed: %s", type(exc).__name__)
        return False


LINE_API = "https://api.line.me"
LINE_DATA_API = "https://api-data.line.me"


def api_configuration(base_url: str, access_token: str, *, data: bool = False) -> Any:
    """The SDK configuration for `base_url` (LINE's, or a local fake in tests).

    A `Configuration(host=…)` overrides the host of *every* operation, including the blob ones that
    LINE serves from api-data.line.me (rich menu images). So with LINE's own base URL the data client
    is pointed at api-data.line.me; any other base URL (a fake, a proxy) must serve both.
    """
    base = base_url.rstrip("/")
    if data and base == LINE_API:
        base = LINE_DATA_API
    return Configuration(host=base, access_token=access_token)
