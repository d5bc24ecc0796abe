"""LINE webhook events as neutral decisions: what the channel should do with each one.

Pure (no I/O): the SDK's models are read once here and turned into small frozen values (`Action`), so the
channel's dispatch (`LineChannel._handle`) is a `match` over them and every event type can be tested
without a server.
An event the SDK cannot parse, an event type it does not know and an event in standby mode all become
`Ignore` (logged by the channel, never an error: LINE would only redeliver what it cannot fix).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    GroupSource,
    JoinEvent,
    MessageEvent,
    PostbackEvent,
    RoomSource,
    TextMessageContent,
    UnfollowEvent,
    UserMentionee,
    UserSource,
)

from bot.channels.line.render import MorePage
from bot.channels.sanitize import valid_text
from bot.core.library.spec_words import TextsSpec
from bot.core.messages import ChoiceInput, Inbound, StartInput, TextInput

# LINE ids are "U" + 32 hex digits (users, bots), "C…" (groups), "R…" (rooms). The body is signed, so
# these are LINE's; the bound only keeps a malformed id out of Redis keys and logs.
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
NO_WORKSPACE = "-"


@dataclass(frozen=True, slots=True)
class Chat:
    """Where an event happened. `id` is where a push goes; `user` is the person, when LINE says."""

    kind: str  # user | group | room | unknown
    id: str | None
    user: str | None


@dataclass(frozen=True, slots=True)
class Turn:
    """Run a conversation turn with `inbound`."""

    inbound: Inbound


class Preface(Enum):
    """The lexicon line said before the question is shown again."""

    UNSUPPORTED = "unsupported"  # a sticker, image, video, audio, file or location
    STALE = "stale_choice"  # a button from an older version, or forged data

    def line(self, texts: TextsSpec) -> str:
        return texts.unsupported if self is Preface.UNSUPPORTED else texts.stale_choice


@dataclass(frozen=True, slots=True)
class Repeat:
    """Show the current question again, after the lexicon line `preface` (or one page of it)."""

    preface: Preface | None = None
    page: MorePage | None = None


@dataclass(frozen=True, slots=True)
class Erase:
    """Forget the user (unfollow): nothing is kept about someone who blocked the bot."""


@dataclass(frozen=True, slots=True)
class GroupNotice:
    """Say that the bot works in one-on-one chats; keep nothing about the group."""


@dataclass(frozen=True, slots=True)
class Ignore:
    reason: str


Action = Turn | Repeat | Erase | GroupNotice | Ignore


@dataclass(frozen=True, slots=True)
class Incoming:
    type: str  # the LINE event type (for logs)
    event_id: str  # webhookEventId, or a digest of the event when LINE sends none: the exactly-once key
    redelivery: bool
    chat: Chat
    reply_token: str | None
    action: Action
    timestamp: int | None = None  # when the event happened (unix ms, LINE's clock): replays are refused by it


def fallback_event_id(raw: Mapping[str, Any]) -> str:
    """An exactly-once key for an event without a webhookEventId: a digest of the event as LINE sent it, minus
    the delivery context (the only part a redelivery changes), so a redelivery gets the same key."""
    stable = {k: v for k, v in raw.items() if k != "deliveryContext"}
    try:
        text = json.dumps(stable, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        text = repr(sorted(stable))
    return "h:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def destination(payload: Mapping[str, Any]) -> str:
    """The bot's own user id (the workspace of every session of this channel), or "-"."""
    value = payload.get("destination")
    return value if isinstance(value, str) and _ID.fullmatch(value) else NO_WORKSPACE


def parse_events(raw_events: Sequence[Any]) -> list[Incoming]:
    """Every event of a verified body, in order; one that cannot be read is an `Ignore`, not an error."""
    found: list[Incoming] = []
    for raw in raw_events:
        if not isinstance(raw, dict):
            found.append(_unreadable({}, "not an object"))
            continue
        try:
            event = Event.from_dict(raw)
        except Exception:  # the SDK raises ValueError, KeyError, TypeError, RecursionError or pydantic errors
            found.append(_unreadable(raw, "unparsed"))
            continue
        incoming = classify(event)
        if not incoming.event_id:
            incoming = replace(incoming, event_id=fallback_event_id(raw))
        found.append(incoming)
    return found


def _unreadable(raw: Mapping[str, Any], reason: str) -> Incoming:
    kind = raw.get("type")
    event_id = raw.get("webhookEventId")
    return Incoming(
        type=kind[:32] if isinstance(kind, str) else "?",
        event_id=valid_text(event_id[:128]) if isinstance(event_id, str) else "",
        redelivery=False,
        chat=Chat("unknown", None, None),
        reply_token=None,
        action=Ignore(reason),
    )


def classify(event: Any) -> Incoming:
    """What to do with one parsed SDK event."""
    chat = _chat(event.source)
    context = getattr(event, "delivery_context", None)
    mode = getattr(event, "mode", None)
    token = getattr(event, "reply_token", None)
    timestamp = getattr(event, "timestamp", None)
    webhook_event_id = getattr(event, "webhook_event_id", None)
    return Incoming(
        type=str(event.type)[:32],
        event_id=valid_text(webhook_event_id[:128]) if isinstance(webhook_event_id, str) else "",
        timestamp=timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else None,
        redelivery=bool(context is not None and context.is_redelivery),
        chat=chat,
        reply_token=token if isinstance(token, str) and token else None,
        action=Ignore("standby") if str(getattr(mode, "value", mode)) == "standby" else _action(event, chat),
    )


def _chat(source: Any) -> Chat:
    user = _id(getattr(source, "user_id", None))
    if isinstance(source, UserSource):
        return Chat("user", user, user)
    if isinstance(source, GroupSource):
        return Chat("group", _id(source.group_id), user)
    if isinstance(source, RoomSource):
        return Chat("room", _id(source.room_id), user)
    return Chat("unknown", None, None)


def _id(value: Any) -> str | None:
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def _action(event: Any, chat: Chat) -> Action:
    if chat.kind in ("group", "room"):
        return _group_action(event, chat)
    if chat.kind != "user" or chat.user is None:
        return Ignore("no user")
    if isinstance(event, FollowEvent):
        return Turn(StartInput())
    if isinstance(event, UnfollowEvent):
        return Erase()
    if isinstance(event, MessageEvent):
        if isinstance(event.message, TextMessageContent):
            return Turn(TextInput(valid_text(event.message.text)))
        return Repeat(preface=Preface.UNSUPPORTED)  # sticker, image, video, audio, file, location
    if isinstance(event, PostbackEvent):
        return _postback(valid_text(event.postback.data))
    return Ignore("not handled")


def _postback(data: str) -> Action:
    choice = ChoiceInput.decode(data)
    if choice is not None:
        return Turn(choice)
    page = MorePage.decode(data)
    if page is not None:
        return Repeat(page=page)
    return Repeat(preface=Preface.STALE)  # a button from an older version, or forged data


def _group_action(event: Any, chat: Chat) -> Action:
    """Groups get one explanation when the bot joins, or when someone mentions it; nothing else."""
    if chat.id is None:
        return Ignore("no group id")
    if isinstance(event, JoinEvent):
        return GroupNotice()
    if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
        mention = event.message.mention
        mentionees = mention.mentionees if mention is not None else []
        if any(isinstance(m, UserMentionee) and m.is_self for m in mentionees):
            return GroupNotice()
    return Ignore("group")
