"""Slack events, the slash command and button taps, turned into conversation turns.

Every listener only reads the payload, acknowledges, and hands the turn to `context.tasks`; the HTTP
answer (or the Socket Mode ack) therefore leaves within milliseconds, far inside Slack's 3 seconds. The app
runs with ``process_before_response=True`` so Bolt itself starts no untracked futures: its default mode and
its lazy listeners run work in ``asyncio.ensure_future`` tasks that nobody holds (they can be
garbage-collected mid-turn) and that the server's shutdown cannot wait for. `TaskTracker` holds each turn
and drains them on SIGTERM.

Exactly-once: every turn carries an event id (Slack's ``event_id``; for a tap, the question message's
channel + ts; for a slash command its trigger id) and `Conversation.turn` records it atomically with the
session. A retry (``X-Slack-Retry-Num``) or a second tap on the same question is then a duplicate: no
second reply and no state change. Retries are not dropped by their header, since the first delivery may
never have reached us.

Every request Slack may send is acknowledged: events, actions, shortcuts, views and commands without a
listener of their own get a catch-all that acks and does nothing (a 404 would count as a failed delivery,
and Slack disables event subscriptions that keep failing). Payload fields are read with their types checked
(`slack.guard` has refused bodies with wrong types already; this keeps the listeners safe on their own), and
a response URL is used only when it points at Slack (`slack.delivery.allowed_response_url`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.base import ChannelContext
from bot.channels.sanitize import valid_text
from bot.channels.slack.delivery import Place, SlackDelivery, Tap
from bot.channels.slack.render import ACTION_PREFIX, question_owner
from bot.conversation import UserMessage
from bot.core.japanese.normalize import normalize
from bot.core.library.vocabulary import Vocabulary
from bot.core.messages import ChoiceInput, CommandInput, Inbound, StartInput, TextInput
from bot.core.session import SessionKey

CHANNEL = "slack"
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def clean_text(text: str, bot_user_id: str | None = None) -> str:
    """The text as typed: the bot's own mentions removed and Slack's three HTML escapes undone."""
    if bot_user_id:
        text = _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else m.group(0), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def command_input(text: str, vocabulary: Vocabulary) -> Inbound:
    """`/taikai [arg]`: nothing or start → start; a command word (状況, 最初から, ヘルプ, 削除, 戻る) → that
    command; anything else is answered like typed text (so `/taikai 1` picks the first option)."""
    arg = clean_text(text)
    if not arg or normalize(arg) == "start":
        return CommandInput("start")
    name = vocabulary.command(normalize(arg))
    return CommandInput(name) if name else TextInput(arg)


def _str(value: Any) -> str | None:
    """`value` when it is a non-empty string, else None: ids and texts from a payload, type-checked and
    made valid Unicode (`sanitize.valid_text`)."""
    return valid_text(value) if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _event_key(value: str | None) -> str | None:
    """An exactly-once key of bounded length (a digest of a long one): it is stored in Redis per turn."""
    if not value:
        return None
    return value if len(value) <= 200 else "h:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _event_time(body: dict[str, Any], event: dict[str, Any] | None = None) -> int | None:
    """The event's own time (unix ms) from an Events API body: Slack's retries keep it, so a retry of an
    event older than the dedupe window, or than the ids the dedupe set let go, is refused.

    `event_time` is in whole seconds; a message's own `ts` (signed with it) has microseconds, so it is used
    when it agrees: two messages of one person in the same second must not look equally old to the dedupe set.
    """
    value = body.get("event_time")
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    sent = value * 1000
    try:
        ts = int(float(str((event or {}).get("ts", ""))) * 1000)
    except ValueError:
        return sent
    return ts if abs(ts - sent) <= 60_000 else sent


def _is_user_dm(event: dict[str, Any]) -> bool:
    """A message a person typed in the bot's DM: no bot, no edit or deletion, no other subtype."""
    return (
        event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and _str(event.get("user")) is not None
        and _str(event.get("channel")) is not None
        and "edited" not in event
    )


class SlackListeners:
    """Bolt listeners for the app: each reads its payload, picks the session key and the place to answer,
    and schedules the turn; none of them waits for Redis or the Web API."""

    def __init__(self, context: ChannelContext, installations: AsyncInstallationStore | None) -> None:
        self.context = context
        self.library = context.library
        self.installations = installations
        self.delivery = SlackDelivery(context)

    def register(self, app: AsyncApp) -> None:
        app.event("message")(self.on_message)
        app.event("app_mention")(self.on_mention)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("app_uninstalled")(self.on_uninstalled)
        app.event("tokens_revoked")(self.on_tokens_revoked)
        app.command("/taikai")(self.on_command)
        app.action(re.compile(f"^{re.escape(ACTION_PREFIX)}"))(self.on_action)
        # last, so they match only what nothing above took: acknowledge, do nothing
        anything = re.compile(".*")
        app.event(anything)(self.ignore)
        app.command(anything)(self.ack_only)
        app.action(anything)(self.ack_only)
        app.shortcut(anything)(self.ack_only)
        app.view(anything)(self.ack_only)
        app.view_closed(anything)(self.ack_only)
        app.options(anything)(self.ack_only)

    @staticmethod
    def key(context: AsyncBoltContext, user: str) -> SessionKey:
        """Sessions are per workspace and user, so workspaces never see each other's data."""
        return SessionKey(CHANNEL, _str(context.team_id) or _str(context.enterprise_id) or "-", valid_text(user))

    async def ignore(self) -> None:
        """An event type the bot does not use (Bolt acks it when this returns)."""

    async def ack_only(self, ack: AsyncAck) -> None:
        await ack()

    # --- listeners (each returns at once; Bolt acks when it returns) ----------------------------

    async def on_message(self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        if not _is_user_dm(event):
            return
        text = clean_text(_str(event.get("text")) or "")
        if text:
            user, channel = str(event["user"]), str(event["channel"])
            place = Place(channel, user, thread_ts=_str(event.get("thread_ts")), private=True)
            # the message's own id (channel + ts), not the event's: one message delivered under two event ids
            # (Slack does that) is one turn, and a retry of the same event is a duplicate too
            ts = _str(event.get("ts"))
            message_id = f"msg:{channel}:{ts}" if ts else _str(body.get("event_id"))
            key, event_id = self.key(context, user), _event_key(message_id)
            self._spawn(context.client, UserMessage(key, TextInput(text), event_id, _event_time(body, event)), place)

    async def on_mention(self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        """A mention in a channel is answered in a thread; checklists there go ephemerally to the asker."""
        channel, user = _str(event.get("channel")), _str(event.get("user"))
        if not user or not channel or event.get("bot_id") or "edited" in event or channel.startswith("D"):
            return  # in a DM the message event already carries it
        text = clean_text(_str(event.get("text")) or "", context.bot_user_id)
        inbound: Inbound = TextInput(text) if text else StartInput()
        thread = _str(event.get("thread_ts")) or _str(event.get("ts"))
        place = Place(channel, user, thread_ts=thread, private=False)
        key, event_id = self.key(context, user), _event_key(_str(body.get("event_id")))
        self._spawn(context.client, UserMessage(key, inbound, event_id, _event_time(body, event)), place)

    async def on_command(self, ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
        """Answers go ephemerally through the response URL: that works in any channel, member or not."""
        await ack()
        user = _str(command.get("user_id"))
        if user is None:
            return
        inbound = command_input(_str(command.get("text")) or "", self.library.vocabulary)
        response_url = self.delivery.allowed_response_url(command.get("response_url"))
        place = Place(_str(command.get("channel_id")), user, private=True, response_url=response_url)
        trigger = _str(command.get("trigger_id"))
        event_id = _event_key(f"command:{trigger}" if trigger else None)
        self._spawn(context.client, UserMessage(self.key(context, user), inbound, event_id), place)

    async def on_action(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        choice = ChoiceInput.decode(_str(action.get("value")) or "")
        user = _str(_dict(body.get("user")).get("id"))
        if choice is None or not user:
            return
        container = _dict(body.get("container"))
        message = _dict(body.get("message"))
        channel = _str(container.get("channel_id")) or _str(_dict(body.get("channel")).get("id"))
        ephemeral = container.get("is_ephemeral") is True
        response_url = self.delivery.allowed_response_url(body.get("response_url"))
        owner = question_owner(_str(action.get("block_id")))
        if owner is not None and owner != user:  # someone else's question in a channel thread
            self.context.tasks.spawn(self.delivery.not_yours(response_url), name="slack-not-yours")
            return
        tap = Tap(
            channel=channel,
            ts=_str(container.get("message_ts")),
            blocks=tuple(b for b in message.get("blocks") or () if isinstance(b, dict)),
            text=_str(message.get("text")) or "",
            label=_str(_dict(action.get("text")).get("text")) or "",
            response_url=response_url,
            ephemeral=ephemeral,
        )
        private = ephemeral or str(channel or "").startswith("D")
        place = Place(
            channel,
            user,
            thread_ts=_str(message.get("thread_ts")),
            private=private,
            response_url=response_url if ephemeral else None,
        )
        # One answer per question message: a second tap on it (double click, another button) is a duplicate.
        event_id = _event_key(f"action:{channel}:{tap.ts}" if tap.ts else None)
        self._spawn(context.client, UserMessage(self.key(context, user), choice, event_id), place, tap)

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        """The Home tab: publish the checklist. The Messages tab, first time: greet (the DM was opened)."""
        user, tab, channel = _str(event.get("user")), event.get("tab"), _str(event.get("channel"))
        if not user:
            return
        key = self.key(context, user)
        if tab == "home":
            self.context.tasks.spawn(self.delivery.refresh_home(context.client, key), name="slack-home")
        elif tab == "messages" and channel:
            place = Place(channel, user, private=True)
            greeting = self.delivery.greet(context.client, key, _event_key(_str(body.get("event_id"))), place)
            self.context.tasks.spawn(greeting, name="slack-greet")

    async def on_uninstalled(self, context: AsyncBoltContext) -> None:
        self.context.tasks.spawn(
            self._forget(_str(context.enterprise_id), _str(context.team_id)), name="slack-uninstall"
        )

    async def on_tokens_revoked(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """Revoked user tokens drop those installers; a revoked bot token ends the workspace like an uninstall."""
        tokens = _dict(event.get("tokens"))
        oauth = tokens.get("oauth")
        users = [u for u in oauth if isinstance(u, str)] if isinstance(oauth, list) else []
        bots = bool(tokens.get("bot"))
        self.context.tasks.spawn(
            self._revoke(_str(context.enterprise_id), _str(context.team_id), users, bots), name="slack-revoke"
        )

    # --- background work ----------------------------------------------------------------------

    def _spawn(self, client: AsyncWebClient, message: UserMessage, place: Place, tap: Tap | None = None) -> None:
        turn = self.delivery.turn(client, message, place, tap)
        self.context.tasks.spawn(turn, name="slack-turn")

    async def _forget(self, enterprise_id: str | None, team_id: str | None) -> None:
        """Uninstall: the workspace's installation and every session of its users."""
        if self.installations is not None:
            await self.installations.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
        workspace = team_id or enterprise_id
        if workspace:
            await self.delivery.erase_workspace(workspace)

    async def _revoke(self, enterprise_id: str | None, team_id: str | None, users: list[str], bots: bool) -> None:
        if bots:
            await self._forget(enterprise_id, team_id)
            return
        if self.installations is not None:
            for user in users:
                await self.installations.async_delete_installation(
                    enterprise_id=enterprise_id, team_id=team_id, user_id=user
                )
