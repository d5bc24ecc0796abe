"""Webhook bodies as LINE sends them: signed, one sample for every event type the SDK defines."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any

SECRET = "test-channel-secret-0123456789ab"
TOKEN = "test-access-token"
DESTINATION = "U" + "d" * 32

_counter = itertools.count()


def event_id() -> str:
    """A fresh webhookEventId (LINE uses ULIDs: 26 characters)."""
    return (uuid.uuid4().hex.upper() + f"{next(_counter):06d}")[:26]


def reply_token() -> str:
    return uuid.uuid4().hex


def user_id() -> str:
    return "U" + uuid.uuid4().hex


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def body_dict(*events: dict[str, Any], destination: str = DESTINATION) -> dict[str, Any]:
    return {"destination": destination, "events": list(events)}


def body(*events: dict[str, Any], destination: str = DESTINATION) -> bytes:
    return json.dumps(body_dict(*events, destination=destination), ensure_ascii=False).encode()


def headers(raw: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json; charset=utf-8", "X-Line-Signature": sign(raw, secret)}


def user_source(user: str) -> dict[str, Any]:
    return {"type": "user", "userId": user}


def group_source(user: str | None = None, group: str = "C" + "a" * 32) -> dict[str, Any]:
    source: dict[str, Any] = {"type": "group", "groupId": group}
    if user:
        source["userId"] = user
    return source


_last_timestamp = [0]


def timestamp() -> int:
    """Now in ms, and never the same twice: one person's events never share a millisecond (the dedupe set
    refuses an event no newer than one it let go)."""
    _last_timestamp[0] = max(int(time.time() * 1000), _last_timestamp[0] + 1)
    return _last_timestamp[0]


def event(kind: str, source: dict[str, Any], token: bool = True, redelivery: bool = False, **extra: Any) -> dict:
    found: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": timestamp(),
        "source": source,
        "webhookEventId": event_id(),
        "deliveryContext": {"isRedelivery": redelivery},
        **extra,
    }
    if token:
        found["replyToken"] = reply_token()
    return found


def text(user: str, words: str, **extra: Any) -> dict[str, Any]:
    message = {"id": "1", "type": "text", "text": words, "quoteToken": "q" * 20}
    return event("message", user_source(user), message=message, **extra)


def postback(user: str, data: str) -> dict[str, Any]:
    return event("postback", user_source(user), postback={"data": data})


def follow(user: str) -> dict[str, Any]:
    return event("follow", user_source(user), follow={"isUnblocked": False})


def unfollow(user: str) -> dict[str, Any]:
    return event("unfollow", user_source(user), token=False)


_PROVIDER = {"contentProvider": {"type": "line"}, "quoteToken": "q" * 20}
MESSAGE_CONTENTS: dict[str, dict[str, Any]] = {
    "text": {"id": "3", "type": "text", "text": "こんにちは", "quoteToken": "q" * 20},
    "image": {"type": "image", **_PROVIDER},
    "video": {"type": "video", "duration": 1000, **_PROVIDER},
    "audio": {"type": "audio", "duration": 1000, "contentProvider": {"type": "line"}},
    "file": {"type": "file", "fileName": "a.pdf", "fileSize": 10},
    "location": {"type": "location", "title": "東京", "address": "東京都", "latitude": 35.6, "longitude": 139.7},
    "sticker": {
        "type": "sticker",
        "packageId": "446",
        "stickerId": "1988",
        "stickerResourceType": "STATIC",
        "quoteToken": "q" * 20,
    },
}


def message(user: str, kind: str) -> dict[str, Any]:
    return event("message", user_source(user), message={"id": "2", **MESSAGE_CONTENTS[kind]})


def every_event_type(user: str) -> dict[str, dict[str, Any]]:
    """A sample of each event type of the SDK's `Event` discriminator, from a one-on-one chat."""
    src = user_source(user)
    member = {"type": "user", "userId": user}
    return {
        "accountLink": event("accountLink", src, link={"result": "ok", "nonce": "n"}),
        "activated": event("activated", src, token=False, chatControl={"expireAt": 1}),
        "beacon": event("beacon", src, beacon={"hwid": "d41d8cd98f", "type": "enter"}),
        "botResumed": event("botResumed", src, token=False),
        "botSuspended": event("botSuspended", src, token=False),
        "deactivated": event("deactivated", src, token=False),
        "delivery": event("delivery", src, token=False, delivery={"data": "x"}),
        "follow": follow(user),
        "join": event("join", group_source()),
        "leave": event("leave", group_source(), token=False),
        "memberJoined": event("memberJoined", group_source(), joined={"members": [member]}),
        "memberLeft": event("memberLeft", group_source(), token=False, left={"members": [member]}),
        "membership": event("membership", src, membership={"type": "joined", "membershipId": 1}),
        "message": text(user, "こんにちは"),
        "messageEdited": event("messageEdited", src, token=False, message=MESSAGE_CONTENTS["text"]),
        "module": event("module", src, token=False, module={"type": "attached", "botId": "U1", "scopes": ["a"]}),
        "postback": postback(user, "c1|common|menu|lancers"),
        "unfollow": unfollow(user),
        "unsend": event("unsend", src, token=False, unsend={"messageId": "1"}),
        "videoPlayComplete": event("videoPlayComplete", src, videoPlayComplete={"trackingId": "t"}),
    }
