"""Sending to LINE: reply first, push only when the reply token cannot be used, loading animation.

A reply is free but its token is single-use and expires about a minute after the event; a push costs
quota. So a push is sent only when LINE answers that the token is invalid (expired or used), or the
event had none, and only when the operator allows it (`LINE_PUSH_FALLBACK`).

429, 5xx and timeouts are retried a bounded number of times with backoff (honouring Retry-After, well
inside the reply token's minute). A reply retried after a 5xx or timeout that then meets "invalid reply
token" most likely arrived the first time: it is counted as delivered and NOT pushed, since a second
copy of a question is worse than a lost one the user can ask for again. What still fails is logged and
counted (`taikai_platform_api_errors_total`); pushes are counted as reply fallbacks.

Pushes carry an `X-Line-Retry-Key` derived from the event id, so LINE itself drops a second push for
the same event (it answers 409), whichever replica sends it.

The HTTP calls themselves (one-pass JSON, own connection pool, proxy) are `line.api.LineApi`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aiohttp
from linebot.v3.messaging import (
    Configuration,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)

from bot.channels.line.api import REQUEST_TIMEOUT, LineApi, LineApiError
from bot.channels.line.render import MAX_MESSAGES, Message

log = logging.getLogger(__name__)

LOADING_SECONDS = 20  # how long LINE shows the animation at most; a message ends it sooner
_RETRY_NAMESPACE = uuid.UUID("6f1c1d43-3a0e-4a53-9a5e-7d4c2b8e1a10")
_TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)
ATTEMPTS = 3  # one try and two retries
BACKOFF = 0.25  # seconds before the first retry, doubled after
MAX_RETRY_AFTER = 3.0  # seconds we are willing to honour from a Retry-After header


def retryable(exc: BaseException) -> bool:
    """Worth trying again: LINE's rate limit, a server error, the network or a timeout."""
    if isinstance(exc, LineApiError):
        return exc.status == 429 or exc.status >= 500
    return isinstance(exc, _TRANSPORT_ERRORS)


def _retry_after(exc: BaseException) -> float | None:
    headers = exc.headers if isinstance(exc, LineApiError) else {}
    try:
        return min(float(headers.get("Retry-After", "")), MAX_RETRY_AFTER)
    except ValueError:
        return None


def reply_token_invalid(exc: LineApiError) -> bool:
    """LINE's answer to an expired or already used reply token: 400 "Invalid reply token"."""
    return exc.status == 400 and "reply token" in exc.body.decode("utf-8", "replace").lower()


class LineSender:
    def __init__(
        self,
        configuration: Configuration,
        push_fallback: bool,
        timeout: float = REQUEST_TIMEOUT,
        on_failure: Callable[[str], None] = lambda status: None,
        on_push: Callable[[], None] = lambda: None,
        backoff: float = BACKOFF,
    ) -> None:
        """`configuration`: from `api_configuration`. `on_failure(status)` and `on_push()` feed the metrics."""
        self.api = LineApi(configuration, timeout)
        self.push_fallback = push_fallback
        self.on_failure = on_failure
        self.on_push = on_push
        self.backoff = backoff

    async def close(self) -> None:
        await self.api.close()

    async def _post(self, path: str, request: Any, headers: Mapping[str, str] | None = None) -> bool:
        """POST with bounded retries; True when an earlier attempt may have reached LINE (5xx, timeout)."""
        uncertain = False
        for attempt in range(ATTEMPTS):
            try:
                await self.api.post(path, request, headers)
                return uncertain
            except (LineApiError, *_TRANSPORT_ERRORS) as exc:
                if not retryable(exc) or attempt == ATTEMPTS - 1:
                    if uncertain and isinstance(exc, LineApiError):
                        exc.uncertain = True
                    raise
                rate_limited = isinstance(exc, LineApiError) and exc.status == 429
                uncertain = uncertain or not rate_limited  # a 429 was refused; a 5xx or timeout may not be
                delay = _retry_after(exc) if rate_limited else None
                await asyncio.sleep(delay if delay is not None else self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    async def show_loading(self, chat_id: str) -> bool:
        """Start the typing animation in a one-on-one chat; False (logged) when LINE refused."""
        request = ShowLoadingAnimationRequest(chat_id=chat_id, loading_seconds=LOADING_SECONDS)
        try:
            await self.api.post("/v2/bot/chat/loading/start", request)
            return True
        except LineApiError as exc:
            log.warning("line loading animation refused: status=%s", exc.status)
        except _TRANSPORT_ERRORS as exc:
            log.warning("line loading animation failed: %s", type(exc).__name__)
        return False

    async def deliver(
        self,
        to: str | None,
        reply_token: str | None,
        messages: Sequence[Message],
        key: str,
        unsent: list[list[Message]] | None = None,
    ) -> str:
        """Send `messages`: the first 5 as a reply (or push), the rest, if any, by push.

        `to` is the user, group or room id (for a push); `key` makes the push retry keys. Returns the
        outcome for the log: replied | pushed | not_sent | failed (with `+pushed`/`+dropped` for extras).
        The batches that failed are added to `unsent`, in order (after a failed first batch, all of them).
        """
        if not messages:
            return "nothing"
        batches = [list(messages[i : i + MAX_MESSAGES]) for i in range(0, len(messages), MAX_MESSAGES)]
        outcome = await self._first(to, reply_token, batches[0], key)
        lost = 0 if outcome == "failed" else None  # the first batch not sent: the rest would be out of context
        for index, batch in enumerate(batches[1:], 1):
            pushed = lost is None and await self._push(to, batch, f"{key}:{index}")
            lost = index if lost is None and not pushed else lost
            outcome += "+pushed" if pushed else "+dropped"
        if unsent is not None and lost is not None:
            unsent.extend(batches[lost:])
        return outcome

    async def push_later(self, to: str, batches: Sequence[list[dict[str, Any]]], key: str, done: int) -> int:
        """Push kept batches (`to_json` of messages) from `done` on, each with its own retry key, stopping at the
        first failure; returns how many are sent. LINE drops a batch it accepted before (409): sent."""
        for index in range(done, len(batches)):
            if not await self._push(to, batches[index], f"{key}:later:{index}", always=True):
                return index
        return len(batches)

    async def push_all(self, to: str, messages: Sequence[Message], key: str) -> str:
        """Push `messages` (a reminder: no reply token), 5 at a time, each batch with its own retry key."""
        batches = [list(messages[i : i + MAX_MESSAGES]) for i in range(0, len(messages), MAX_MESSAGES)]
        for index, batch in enumerate(batches):
            if not await self._push(to, batch, f"{key}:{index}", always=True):
                return "failed"
        return "pushed"

    async def _first(self, to: str | None, reply_token: str | None, batch: list[Message], key: str) -> str:
        if reply_token is not None:
            try:
                request = ReplyMessageRequest(reply_token=reply_token, messages=batch)
                await self._post("/v2/bot/message/reply", request)
                return "replied"
            except LineApiError as exc:
                if reply_token_invalid(exc) and exc.uncertain:
                    return "replied_probably"  # an earlier attempt most likely used the token: no push
                if not reply_token_invalid(exc):
                    log.error("line reply failed: status=%s", exc.status)
                    self.on_failure(str(exc.status))
                    return "failed"
            except _TRANSPORT_ERRORS as exc:
                log.error("line reply failed: %s", type(exc).__name__)
                self.on_failure(type(exc).__name__)
                return "failed"
        if not self.push_fallback:
            return "not_sent"
        return "pushed" if await self._push(to, batch, key) else "failed"

    async def _push(
        self, to: str | None, batch: list[Message] | list[dict[str, Any]], key: str, always: bool = False
    ) -> bool:
        if not (self.push_fallback or always) or to is None:
            return False
        retry_key = str(uuid.uuid5(_RETRY_NAMESPACE, key))
        try:
            # kept batches are JSON already (`LineApi.post` sends a dict as it is)
            kept = bool(batch) and isinstance(batch[0], dict)
            request: Any = {"to": to, "messages": batch} if kept else PushMessageRequest(to=to, messages=batch)
            await self._post("/v2/bot/message/push", request, {"X-Line-Retry-Key": retry_key})
            self.on_push()
            return True
        except LineApiError as exc:
            if exc.status == 409:  # this retry key was already accepted: the user has the messages
                return True
            log.error("line push failed: status=%s", exc.status)
            self.on_failure(str(exc.status))
        except _TRANSPORT_ERRORS as exc:
            log.error("line push failed: %s", type(exc).__name__)
            self.on_failure(type(exc).__name__)
        return False
