"""The LINE channel: events from the webhook edge (`webhook.py`) run as turns in tracked tasks.

A verified request's events are grouped by chat, and each chat's events run in order in one `TaskTracker`
task (and `Conversation` runs one user's turns one at a time). Each turn goes through the one delivery path
(`bot.channels.delivery.deliver`); `LineOutput` renders the replies and sends them (reply, else push).

Replays: an event older than the dedupe window (by LINE's signed `timestamp`) is refused, and the store
refuses one not newer than the ids its dedupe set had to forget. An event without a `webhookEventId` gets a
digest of itself as its id, so its redeliveries are deduplicated too.

Exactly once: every turn passes the event's `webhookEventId` to `Conversation.handle`, which records it
in the same atomic store write as the new session. A redelivered or duplicated event comes back as
`duplicate` and nothing is sent. Groups and rooms get an explanation and no state at all.

Logs carry the event type, a keyed hash of the user id and the outcome; never a token, a secret, or
the message text (unless the operator sets `LOG_MESSAGE_TEXT`). Events that are ignored (unreadable,
unhandled types, stale) are summarised in one line per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.routing import BaseRoute

from bot.channels.base import ChannelContext, Outbox, WebChannel
from bot.channels.delivery import OutputChannel, deliver
from bot.channels.line.api import api_configuration, to_json
from bot.channels.line.events import Erase, GroupNotice, Ignore, Incoming, Repeat, Turn
from bot.channels.line.render import LineWords, Message, question_place, render
from bot.channels.line.send import LineSender
from bot.channels.line.webhook import LineWebhook
from bot.conversation import TurnResult, TurnStatus, UserMessage
from bot.core.messages import CommandInput, Inbound, Question, Reply, StartInput, Text, TextInput
from bot.core.session import SessionKey
from bot.telemetry.context import user_hash

log = logging.getLogger(__name__)

LOADING_AFTER = 1.0  # seconds a turn may take before the loading animation is shown
# The engine's command for "show the current question again" (`Repeat`: a tap on an old menu, 「もっと見る」).
REPEAT = "repeat"
T = TypeVar("T")


class LineOutput(OutputChannel):
    """Replies to one LINE event, sent by reply token (else push). For a `Repeat`, an answered turn gets the
    `preface` line first and, when it still shows the question that 「もっと見る」 was tapped on, that page.

    What could not be sent (LINE answered 429 or 5xx to every try) goes to the `outbox`, when there is one and
    pushes are allowed: pushed later with retry keys from the event id, so it arrives once (`+later`)."""

    def __init__(
        self,
        sender: LineSender,
        words: LineWords,
        event: Incoming,
        repeat: Repeat | None = None,
        preface: str = "",
        outbox: Later | None = None,
    ) -> None:
        self.sender, self.words, self.event, self.repeat, self.preface = sender, words, event, repeat, preface
        self.outbox = outbox

    async def send(self, replies: Sequence[Reply], page: int = 0) -> str:
        if not replies:
            return "nothing"
        event = self.event
        messages = render(replies, self.words, page)
        unsent: list[list[Message]] = []
        key = event.event_id or "-"
        outcome = await self.sender.deliver(event.chat.id, event.reply_token, messages, key, unsent)
        if unsent and self.outbox is not None and event.chat.user is not None and event.event_id:
            payload = {"to": event.chat.user, "key": key, "units": [to_json(batch) for batch in unsent]}
            outcome += "+later" if await self.outbox.keep(payload) else "+lost"
        return outcome

    async def answer(self, result: TurnResult) -> str:
        if result.session is None:  # 削除 done: nothing that names the user is kept, not even this answer
            self.outbox = None
        more = self.repeat.page if self.repeat is not None else None
        page = 0
        if more is not None and result.replies and isinstance(last := result.replies[-1], Question):
            page = more.page if question_place(last) == (more.flow, more.state) else 0
        before = (Text(self.preface),) if self.preface else ()
        return await self.send((*before, *result.replies), page)


class LinePush(OutputChannel):
    """A reminder to one LINE user: a push (it counts against the channel's monthly quota) whose retry key
    comes from the user and the reminder, so LINE drops a repeat of a push it already accepted — and only
    that: LINE keeps retry keys per channel, and two users' reminders may share an id (flow, kind, second)."""

    def __init__(self, sender: LineSender, words: LineWords, user: str, retry_key: str) -> None:
        self.sender, self.words, self.user, self.retry_key = sender, words, user, retry_key

    async def send(self, replies: Sequence[Reply]) -> str:
        if not replies:
            return "nothing"
        key = f"reminder:{self.user}:{self.retry_key}"  # hashed into a UUID by the sender: no id goes out in clear
        return await self.sender.push_all(self.user, render(replies, self.words, 0), key)


@dataclass(frozen=True, slots=True)
class Later:
    """The outbox, for one user's chat (a bound `Outbox.keep`)."""

    outbox: Outbox
    key: SessionKey

    async def keep(self, payload: dict[str, Any]) -> bool:
        return await self.outbox.keep(self.key, payload)


class LineChannel:
    name = "line"

    def __init__(self, context: ChannelContext, loading_after: float = LOADING_AFTER) -> None:
        settings = context.settings
        if settings.line_channel_secret is None or settings.line_channel_access_token is None:
            raise ValueError("the LINE channel needs LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN")
        self.context = context
        self.loading_after = loading_after
        self.words = LineWords.of(context.library)
        self.webhook = LineWebhook(settings.line_channel_secret.get_secret_value(), context.metrics, self.dispatch)
        self._sender: LineSender | None = None

    # --- WebChannel --------------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        return [self.webhook.route()]

    async def startup(self) -> None:
        """Open the API client here: its aiohttp session belongs to the running event loop."""
        settings = self.context.settings
        assert settings.line_channel_access_token is not None
        token = settings.line_channel_access_token.get_secret_value()
        metrics = self.context.metrics
        self._sender = LineSender(
            api_configuration(settings.line_api_base_url, token),
            settings.line_push_fallback,
            on_failure=lambda status: metrics.platform_error("line", status),
            on_push=lambda: metrics.reply_fallback("line", "push"),
        )

    async def shutdown(self) -> None:
        """Called after the task tracker drained, so no turn is still sending."""
        if self._sender is not None:
            await self._sender.close()
            self._sender = None

    async def reminder_output(self, key: SessionKey, retry_key: str) -> OutputChannel | None:
        return LinePush(self.sender, self.words, key.user, retry_key) if self._sender is not None else None

    async def send_later(self, key: SessionKey, payload: dict[str, Any], done: int) -> int:
        """Push what a failed reply left in the outbox (`LineOutput`), with its own retry keys."""
        units, to, retry = payload.get("units"), payload.get("to"), payload.get("key")
        if not isinstance(units, list) or not isinstance(to, str) or not isinstance(retry, str) or to != key.user:
            return -1  # not ours (a payload from another release?): dropped, counted
        return await self.sender.push_later(to, units, f"{retry}:{key.user}", done)

    @property
    def sender(self) -> LineSender:
        if self._sender is None:
            raise RuntimeError("the LINE channel is not started")
        return self._sender

    # --- running events ----------------------------------------------------------------------------

    def dispatch(self, workspace: str, events: list[Incoming]) -> None:
        """One tracked task per chat, handling that chat's events in order; ignored events in one line."""
        by_chat: dict[str, list[Incoming]] = {}
        ignored: Counter[str] = Counter()
        oldest = (time.time() - self.context.settings.dedupe_seconds) * 1000
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
            self.context.tasks.spawn(self._run(workspace, chat_events), name="line-events")

    async def _run(self, workspace: str, events: list[Incoming]) -> None:
        for event in events:
            try:
                await self._handle(workspace, event)
            except Exception:  # an erase that failed, a bug: logged; the next event of the chat still runs
                log.exception("line event failed: type=%s user=%s", event.type, self._who(event))

    async def _handle(self, workspace: str, event: Incoming) -> None:
        match event.action:
            case GroupNotice():
                if event.redelivery:  # no state is kept for groups, so the redelivered notice is just skipped
                    self._log(event, "skipped_redelivery")
                    return
                notice = Text(self.context.library.texts.group_only_dm)
                outcome = await LineOutput(self.sender, self.words, event).send([notice])
                self._log(event, f"group_notice:{outcome}")
            case Erase():
                await self.context.conversation.erase(self._key(workspace, event))
                self._log(event, "erased")
            case Turn(inbound=inbound):
                result = await self._with_loading(event, self._turn(self._message(workspace, event, inbound)))
                later = self._later(workspace, event)
                await self._deliver(event, result, LineOutput(self.sender, self.words, event, outbox=later))
            case Repeat(preface=preface) as repeat:
                result = await self._with_loading(event, self._repeat(workspace, event))
                words = preface.line(self.context.library.texts) if preface is not None else ""
                output = LineOutput(self.sender, self.words, event, repeat, words, self._later(workspace, event))
                await self._deliver(event, result, output)

    def _later(self, workspace: str, event: Incoming) -> Later | None:
        """The outbox for this user's failed replies: only when pushes are allowed (it delivers by push)."""
        outbox = self.context.outbox
        if outbox is None or not self.context.settings.line_push_fallback or event.chat.user is None:
            return None
        return Later(outbox, self._key(workspace, event))

    def _key(self, workspace: str, event: Incoming) -> SessionKey:
        assert event.chat.user is not None  # classify() turns user-less events into Ignore
        return SessionKey("line", workspace, event.chat.user)

    def _message(self, workspace: str, event: Incoming, inbound: Inbound) -> UserMessage:
        return UserMessage(self._key(workspace, event), inbound, event.event_id or None, event.timestamp)

    async def _deliver(self, event: Incoming, result: TurnResult, output: LineOutput) -> None:
        delivery = await deliver(result, output)
        # a flood's silence at DEBUG: one line per dropped message would be the flood's echo
        silent = delivery.status is not TurnStatus.DUPLICATE and delivery.quiet
        self._log(event, delivery.describe(), logging.DEBUG if silent else logging.INFO)

    async def _turn(self, message: UserMessage) -> TurnResult:
        if self.context.settings.log_message_text and isinstance(message.inbound, TextInput):
            log.info("line text: user=%s text=%r", user_hash("line", message.key.user), message.inbound.text)
        return await self.context.conversation.handle(message)

    async def _repeat(self, workspace: str, event: Incoming) -> TurnResult:
        """The current question again; a user with no session yet gets the greeting instead."""
        known = await self.context.conversation.session(self._key(workspace, event)) is not None
        return await self._turn(self._message(workspace, event, CommandInput(REPEAT) if known else StartInput()))

    async def _with_loading(self, event: Incoming, work: Awaitable[T]) -> T:
        """Run `work`; if it takes longer than `loading_after`, show the loading animation meanwhile.

        The animation request is awaited before the answer is sent, so it can never arrive after the
        answer (where it would spin under a finished reply). A timer starts it, so the usual quick turn
        costs no extra task and no `asyncio.wait`.
        """
        loop = asyncio.get_running_loop()
        loading: list[asyncio.Task[bool]] = []
        chat_id = event.chat.user or ""

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
        return "-" if user is None else user_hash("line", user)

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


def build_line_channel(context: ChannelContext) -> WebChannel:
    return LineChannel(context)
