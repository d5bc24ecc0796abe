"""Slack events, the slash command and button taps, turned into conversation turns.

Every listener only reads the payload, acknowledges, and hands the turn to `services.tasks`; the HTTP
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
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack_delivery import Place, SlackDelivery, Tap
from bot.channels.slack_render import ACTION_PREFIX, question_owner
from bot.core.messages import ChoiceInput, CommandInput, Inbound, StartInput, TextInput
from bot.core.session import SessionKey
from bot.core.understand import Vocabulary, normalize
from bot.web.services import Services

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


def _is_user_dm(event: dict[str, Any]) -> bool:
    """A message a person typed in the bot's DM: no bot, no edit or deletion, no other subtype."""
    return (
        event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
        and "edited" not in event
    )


class SlackListeners:
    """Bolt listeners for the app: each reads its payload, picks the session key and the place to answer,
    and schedules the turn; none of them waits for Redis or the Web API."""

    def __init__(self, services: Services, installations: AsyncInstallationStore | None) -> None:
        self.services = services
        self.library = services.engine.library
        self.installations = installations
        self.delivery = SlackDelivery(services)

    def register(self, app: AsyncApp) -> None:
        app.event("message")(self.on_message)
        app.event("app_mention")(self.on_mention)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("app_uninstalled")(self.on_uninstalled)
        app.event("tokens_revoked")(self.on_tokens_revoked)
        app.command("/taikai")(self.on_command)
        app.action(re.compile(f"^{re.escape(ACTION_PREFIX)}"))(self.on_action)

    @staticmethod
    def key(context: AsyncBoltContext, user: str) -> SessionKey:
        """Sessions are per workspace and user, so workspaces never see each other's data."""
        return SessionKey(CHANNEL, context.team_id or context.enterprise_id or "-", user)

    # --- listeners (each returns at once; Bolt acks when it returns) ----------------------------

    async def on_message(self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        if not _is_user_dm(event):
            return
        text = clean_text(str(event.get("text", "")))
        if text:
            user = str(event["user"])
            place = Place(str(event["channel"]), user, thread_ts=event.get("thread_ts"), private=True)
            self._spawn(context.client, self.key(context, user), TextInput(text), body.get("event_id"), place)

    async def on_mention(self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        """A mention in a channel is answered in a thread; checklists there go ephemerally to the asker."""
        channel, user = str(event.get("channel", "")), event.get("user")
        if not user or event.get("bot_id") or "edited" in event or channel.startswith("D"):
            return  # in a DM the message event already carries it
        text = clean_text(str(event.get("text", "")), context.bot_user_id)
        inbound: Inbound = TextInput(text) if text else StartInput()
        place = Place(channel, str(user), thread_ts=event.get("thread_ts") or event.get("ts"), private=False)
        self._spawn(context.client, self.key(context, str(user)), inbound, body.get("event_id"), place)

    async def on_command(self, ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
        """Answers go ephemerally through the response URL: that works in any channel, member or not."""
        await ack()
        user = str(command["user_id"])
        inbound = command_input(str(command.get("text", "")), self.library.vocabulary)
        place = Place(command.get("channel_id"), user, private=True, response_url=command.get("response_url"))
        trigger = command.get("trigger_id")
        self._spawn(context.client, self.key(context, user), inbound, f"command:{trigger}" if trigger else None, place)

    async def on_action(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        choice = ChoiceInput.decode(str(action.get("value", "")))
        user = str(body.get("user", {}).get("id", ""))
        if choice is None or not user:
            return
        container: dict[str, Any] = body.get("container") or {}
        message: dict[str, Any] = body.get("message") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        ephemeral = bool(container.get("is_ephemeral"))
        response_url = body.get("response_url")
        owner = question_owner(action.get("block_id"))
        if owner is not None and owner != user:  # someone else's question in a channel thread
            self.services.tasks.spawn(self.delivery.not_yours(response_url), name="slack-not-yours")
            return
        tap = Tap(
            channel=channel,
            ts=container.get("message_ts"),
            blocks=tuple(message.get("blocks") or ()),
            text=str(message.get("text", "")),
            label=str((action.get("text") or {}).get("text", "")),
            response_url=response_url,
            ephemeral=ephemeral,
        )
        private = ephemeral or str(channel or "").startswith("D")
        place = Place(
            channel,
            user,
            thread_ts=message.get("thread_ts"),
            private=private,
            response_url=response_url if ephemeral else None,
        )
        # One answer per question message: a second tap on it (double click, another button) is a duplicate.
        event_id = f"action:{channel}:{tap.ts}" if tap.ts else None
        self._spawn(context.client, self.key(context, user), choice, event_id, place, tap)

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        """The Home tab: publish the checklist. The Messages tab, first time: greet (the DM was opened)."""
        user, tab, channel = event.get("user"), event.get("tab"), event.get("channel")
        if not user:
            return
        key = self.key(context, str(user))
        if tab == "home":
            self.services.tasks.spawn(self.delivery.refresh_home(context.client, key), name="slack-home")
        elif tab == "messages" and channel:
            place = Place(str(channel), str(user), private=True)
            greeting = self.delivery.greet(context.client, key, body.get("event_id"), place)
            self.services.tasks.spawn(greeting, name="slack-greet")

    async def on_uninstalled(self, context: AsyncBoltContext) -> None:
        self.services.tasks.spawn(self._forget(context.enterprise_id, context.team_id), name="slack-uninstall")

    async def on_tokens_revoked(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """Revoked user tokens drop those installers; a revoked bot token ends the workspace like an uninstall."""
        tokens: dict[str, Any] = event.get("tokens") or {}
        users = [str(u) for u in tokens.get("oauth") or ()]
        bots = bool(tokens.get("bot"))
        self.services.tasks.spawn(
            self._revoke(context.enterprise_id, context.team_id, users, bots), name="slack-revoke"
        )

    # --- background work ----------------------------------------------------------------------

    def _spawn(
        self,
        client: AsyncWebClient,
        key: SessionKey,
        inbound: Inbound,
        event_id: str | None,
        place: Place,
        tap: Tap | None = None,
    ) -> None:
        self.services.tasks.spawn(self.delivery.turn(client, key, inbound, event_id, place, tap), name="slack-turn")

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
