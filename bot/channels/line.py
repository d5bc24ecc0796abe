"""The LINE channel: `POST /line/webhook`, verified, answered at once, turns run in tracked tasks.

Order of checks, each before anything is processed or stored: the body size (413), the signature
(400 without one, 401 when wrong: the SDK's `SignatureValidator` over the exact bytes received), the
content type (415), then the JSON shape (400: malformed, nested too deeply, a huge integer — never a 500).
A verified body is answered 200 straight away: LINE waits only a few seconds and retries slow answers. Its
events run afterwards in `TaskTracker` tasks, one per chat so that two messages of one user keep their order
(and `Conversation` runs one user's turns one at a time).

Replays: an event older than the dedupe window (by LINE's signed `timestamp`) is refused, and the store
refuses one not newer than the ids its dedupe set had to forget. An event without a `webhookEventId` gets a
digest of itself as its id, so its redeliveries are deduplicated too.

Exactly once: every turn passes the event's `webhookEventId` to `Conversation.turn`, which records it
in the same atomic store write as the new session. A redelivered or duplicated event comes back as
`duplicate` and nothing is sent. Groups and rooms get an explanation and no state at all.

Logs carry the event type, a keyed hash of the user id and the outcome; never a token, a secret, or
the message text (unless the operator sets `LOG_MESSAGE_TEXT`). Events that are ignored (unreadable,
unhandled types, stale) are summarised in one line per request, and refusals are throttled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from linebot.v3 import SignatureValidator
from linebot.v3.messaging import AsyncApiClient, AsyncMessagingApi
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.line_events import (
    Erase,
    GroupNotice,
    Ignore,
    Incoming,
    Repeat,
    Turn,
    destination,
    parse_events,
)
from bot.channels.line_render import question_place, render
from bot.channels.line_send import LineSender, api_configuration
from bot.conversation import TurnResult
from bot.core.messages import CommandInput, Inbound, Question, Reply, StartInput, Text, TextInput
from bot.core.session import SessionKey
from bot.telemetry.context import user_hash
from bot.telemetry.logs import Throttle
from bot.web.limits import too_deep
from bot.web.services import Services, WebChannel

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # LINE sends small bodies (a few events); anything bigger is not LINE
LOADING_AFTER = 1.0  # seconds a turn may take before the loading animation is shown
REPEAT = "repeat"  # a command name the engine does not know: it shows the current question again
T = TypeVar("T")


class LineChannel:
    name = "line"

    def __init__(
        self, services: Services, max_body_bytes: int = MAX_BODY_BYTES, loading_after: float = LOADING_AFTER
    ) -> None:
        settings = services.settings
        if settings.line_channel_secret is None or settings.line_channel_access_token is None:
            raise ValueError("the LINE channel needs LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN")
        secret = settings.line_channel_secret.get_secret_value()
        self.services = services
        self.max_body_bytes = max_body_bytes
        self.loading_after = loading_after
        self._validator = SignatureValidator(secret)
        self._client: AsyncApiClient | None = None
        self._sender: LineSender | None = None
        self._refusals = Throttle()

    # --- WebChannel --------------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        return [Route("/line/webhook", self.webhook, methods=["POST"])]

    async def startup(self) -> None:
        """Open the API client here: its aiohttp session belongs to the running event loop."""
        settings = self.services.settings
        assert settings.line_channel_access_token is not None
        token = settings.line_channel_access_token.get_secret_value()
        self._client = AsyncApiClient(api_configuration(settings.line_api_base_url, token))
        metrics = self.services.metrics
        self._sender = LineSender(
            AsyncMessagingApi(self._client),
            settings.line_push_fallback,
            on_failure=lambda status: metrics.platform_error("line", status),
            on_push=lambda: metrics.reply_fallback("line", "push"),
        )

    async def shutdown(self) -> None:
        """Called after the task tracker drained, so no turn is still sending."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def sender(self) -> LineSender:
        if self._sender is None:
            raise RuntimeError("the LINE channel is not started")
        return self._sender

    # --- the webhook -------------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        body = await self._read_body(request)
        if isinstance(body, Response):
            return body
        signature = request.headers.get("x-line-signature")
        if not signature:
            return self._refuse(400, "missing signature")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self._refuse(400, "body is not UTF-8")
        if not self._validator.validate(text, signature):
            return self._refuse(401, "bad signature")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return self._refuse(415, "not JSON")
        try:
            payload = json.loads(text)
        except (ValueError, RecursionError):  # malformed, 4,300-digit integers, ~1,000-deep nesting
            return self._refuse(400, "malformed JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
            return self._refuse(400, "not a webhook body")
        if too_deep(payload):
            return self._refuse(400, "nested too deeply")
        self._dispatch(destination(payload), parse_events(payload["events"]))
        return PlainTextResponse("OK")

    def _refuse(self, status: int, reason: str) -> Response:
        """One short line (reason only, throttled: a flood writes a few lines a minute) and a counter."""
        self.services.metrics.refused("line", status)
        if (skipped := self._refusals.allow()) is not None:
            log.warning("line webhook refused: %d %s (%d not logged before)", status, reason, skipped)
        return PlainTextResponse(reason, status_code=status)

    async def _read_body(self, request: Request) -> bytes | Response:
        """The body, read no further than the limit (a declared length over it is refused unread)."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return self._refuse(413, "body too large")
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.max_body_bytes:
                    return self._refuse(413, "body too large")
                chunks.append(chunk)
        except ClientDisconnect:
            return self._refuse(400, "client went away")
        return b"".join(chunks)

    def _dispatch(self, workspace: str, events: list[Incoming]) -> None:
        """One tracked task per chat, handling that chat's events in order; ignored events in one line."""
        by_chat: dict[str, list[Incoming]] = {}
        ignored: Counter[str] = Counter()
        oldest = (time.time() - self.services.settings.dedupe_seconds) * 1000
        for event in events:
            if isinstance(event.action, Ignore):
                ignored[event.action.reason] += 1
            elif event.timestamp is not None and event.timestamp <= oldest:
                ignored["stale"] += 1  # older than the dedupe window: a replay, or far too late to answer
            else:
                by_chat.setdefault(event.chat.id or "-", []).append(event)
        if ignored:
            summary = " ".join(f"{reason}={count}" for reason, count in sorted(ignored.items()))
            log.info("line webhook: %d event(s), %d ignored: %s", len(events), ignored.total(), summary)
        for chat_events in by_chat.values():
            self.services.tasks.spawn(self._run(workspace, chat_events), name="line-events")

    async def _run(self, workspace: str, events: list[Incoming]) -> None:
        for event in events:
            try:
                await self._handle(workspace, event)
            except Exception:
                log.exception("line event failed: type=%s user=%s", event.type, self._who(event))
                if event.reply_token is not None:  # someone is waiting for an answer (not an unfollow)
                    await self._send(event, [Text(self.services.engine.library.text("busy"))])

    async def _handle(self, workspace: str, event: Incoming) -> None:
        action = event.action
        if isinstance(action, GroupNotice):
            if event.redelivery:  # no state is kept for groups, so the redelivered notice is just skipped
                self._log(event, "skipped_redelivery")
                return
            outcome = await self._send(event, [Text(self.services.engine.library.text("group_only_dm"))])
            self._log(event, f"group_notice:{outcome}")
            return
        assert event.chat.user is not None  # classify() turns user-less events into Ignore
        key = SessionKey("line", workspace, event.chat.user)
        if isinstance(action, Erase):
            await self.services.conversation.erase(key)
            self._log(event, "erased")
        elif isinstance(action, Turn):
            result = await self._with_loading(event.chat.user, self._turn(key, action.inbound, event))
            await self._answer(event, result, (), 0)
        elif isinstance(action, Repeat):
            result = await self._with_loading(event.chat.user, self._repeat(key, event))
            preface = () if action.preface is None else (Text(self.services.engine.library.text(action.preface)),)
            page = 0
            if action.page is not None and result.replies and isinstance(last := result.replies[-1], Question):
                page = action.page.page if question_place(last) == (action.page.flow, action.page.state) else 0
            await self._answer(event, result, preface, page)

    async def _turn(self, key: SessionKey, inbound: Inbound, event: Incoming) -> TurnResult:
        if self.services.settings.log_message_text and isinstance(inbound, TextInput):
            log.info("line text: user=%s text=%r", self._who(event), inbound.text)
        return await self.services.conversation.turn(key, inbound, event.event_id or None, event.timestamp)

    async def _repeat(self, key: SessionKey, event: Incoming) -> TurnResult:
        """The current question again; a user with no session yet gets the greeting instead."""
        known = await self.services.conversation.session(key) is not None
        return await self._turn(key, CommandInput(REPEAT) if known else StartInput(), event)

    async def _answer(self, event: Incoming, result: TurnResult, preface: tuple[Reply, ...], page: int) -> None:
        if result.duplicate:
            self._log(event, "duplicate")
            return
        if result.limited or result.failed:  # a flood gets one notice then silence; an outage one "busy"
            preface = ()
        if not (preface or result.replies):
            self._log(event, "limited:silent", logging.DEBUG)  # a flood: one line per message would be its echo
            return
        outcome = await self._send(event, [*preface, *result.replies], page)
        trace = result.trace.outcome if result.trace else "-"
        self._log(event, f"{trace}:{outcome}")

    async def _send(self, event: Incoming, replies: Sequence[Reply], page: int = 0) -> str:
        messages = render(replies, page)
        return await self.sender.deliver(event.chat.id, event.reply_token, messages, event.event_id or "-")

    async def _with_loading(self, chat_id: str, work: Awaitable[T]) -> T:
        """Run `work`; if it takes longer than `loading_after`, show the loading animation meanwhile.

        The animation request is awaited before the answer is sent, so it can never arrive after the
        answer (where it would spin under a finished reply). A timer starts it, so the usual quick turn
        costs no extra task and no `asyncio.wait`.
        """
        loop = asyncio.get_running_loop()
        loading: list[asyncio.Task[bool]] = []

        def start_loading() -> None:
            loading.append(loop.create_task(self.sender.show_loading(chat_id)))

        timer = loop.call_later(self.loading_after, start_loading)
        try:
            return await work
        except asyncio.CancelledError:
            for task in loading:
                task.cancel()
            raise
        finally:
            timer.cancel()
            if loading and not loading[0].cancelling():  # also after a failed turn: before the "busy" reply
                await loading[0]

    # --- logs --------------------------------------------------------------------------------------

    def _who(self, event: Incoming) -> str:
        user = event.chat.user or event.chat.id
        if user is None:
            return "-"
        return user_hash("line", user)

    def _log(self, event: Incoming, outcome: str, level: int = logging.INFO) -> None:
        log.log(
            level,
            "line event: type=%s chat=%s user=%s redelivery=%s outcome=%s",
            event.type,
            event.chat.kind,
            self._who(event),
            event.redelivery,
            outcome,
        )


def build_line_channel(services: Services) -> WebChannel:
    return LineChannel(services)
