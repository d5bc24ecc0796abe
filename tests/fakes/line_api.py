"""A local fake of the LINE Messaging API: real HTTP on 127.0.0.1, a random port, every request recorded.

It checks what LINE checks (the bearer token, at most 5 messages, text ≤ 5,000, quick replies ≤ 13
with labels ≤ 20, postback data ≤ 300, altText ≤ 400) and answers 400 like LINE when a limit is
broken, so a rendering bug fails a test instead of passing silently. Reply tokens are single-use, as
on LINE: a second reply with the same token gets 400 "Invalid reply token"; `expire(token)` or
`expire_all_reply_tokens = True` makes the first one fail too. Pushes honour `X-Line-Retry-Key` (409
on a repeat). The rich-menu endpoints (api and api-data paths alike) keep a small in-memory list.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

LIMITS = {"messages": 5, "text": 5000, "items": 13, "label": 20, "data": 300, "alt": 400}


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    accepted: bool = False  # the messages reached the user (even when the answer was an injected error)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeLineApi:
    token: str
    requests: list[Recorded] = field(default_factory=list)
    expired: set[str] = field(default_factory=set)
    expire_all_reply_tokens: bool = False
    used: set[str] = field(default_factory=set)
    retry_keys: set[str] = field(default_factory=set)
    menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_menu: str | None = None
    images: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    # path -> statuses to answer first: N refuses with N; -N processes the call, then answers N (a lost
    # answer: the reply went out but the bot saw a server error)
    faults: dict[str, list[int]] = field(default_factory=dict)
    # path -> (until, status): every call answers `status` until `time.monotonic()` passes `until` (a 429 spell)
    spells: dict[str, tuple[float, int]] = field(default_factory=dict)
    # path -> [(n, status)]: every n-th call answers `status` (negative: processed first, as in `faults`)
    every: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)
    url: str = ""
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests look at ------------------------------------------------------------------------

    def expire(self, reply_token: str) -> None:
        self.expired.add(reply_token)

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    @property
    def replies(self) -> list[Recorded]:
        return self.calls("/v2/bot/message/reply")

    @property
    def pushes(self) -> list[Recorded]:
        return self.calls("/v2/bot/message/push")

    def sent_to(self, reply_token: str) -> list[dict[str, Any]]:
        """The messages accepted for a reply token (empty when none was)."""
        for r in self.replies:
            if r.status == 200 and r.json.get("replyToken") == reply_token:
                return list(r.json["messages"])
        return []

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until `predicate()` holds (checked after each request); fail after `within` seconds."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    # --- the API -----------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        body = await request.read()
        accepted = False
        fault = self.faults[request.path].pop(0) if self.faults.get(request.path) else None
        count = self._counts[request.path] = self._counts.get(request.path, 0) + 1
        spell = self.spells.get(request.path)
        if fault is None and spell is not None and time.monotonic() < spell[0]:
            fault = spell[1]
        for period, status in self.every.get(request.path, ()):
            if fault is None and count % period == 0:
                fault = status
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            status, answer = 401, {"message": "Authentication failed"}
        elif fault is not None and fault > 0:
            status, answer = fault, {"message": "injected fault"}
        else:
            status, answer = self._answer(request, body)
            accepted = status == 200
            if fault is not None:
                status, answer = -fault, {"message": "injected fault after processing"}
        headers = {k: v for k, v in request.headers.items()}
        self.requests.append(Recorded(request.method, request.path, headers, body, status, accepted))
        async with self._changed:
            self._changed.notify_all()
        return web.json_response(answer, status=status, headers={"Retry-After": "0"} if status == 429 else None)

    def _answer(self, request: web.Request, body: bytes) -> tuple[int, Any]:
        path, method = request.path, request.method
        if method == "POST" and path == "/v2/bot/message/reply":
            return self._reply(json.loads(body))
        if method == "POST" and path == "/v2/bot/message/push":
            return self._push(json.loads(body), request.headers.get("X-Line-Retry-Key"))
        if method == "POST" and path == "/v2/bot/chat/loading/start":
            data = json.loads(body)
            seconds = data.get("loadingSeconds", 20)
            ok = isinstance(data.get("chatId"), str) and 5 <= seconds <= 60 and seconds % 5 == 0
            return (202, {}) if ok else (400, {"message": "The request body has 1 error(s)"})
        return self._rich_menu(method, path, request.headers.get("Content-Type", ""), body)

    def _reply(self, data: dict[str, Any]) -> tuple[int, Any]:
        problem = check_messages(data.get("messages"))
        if problem:
            return 400, {"message": problem}
        token = data.get("replyToken")
        if not isinstance(token, str) or token in self.used or token in self.expired or self.expire_all_reply_tokens:
            return 400, {"message": "Invalid reply token"}
        self.used.add(token)
        return 200, {"sentMessages": [{"id": str(next(self._ids))} for _ in data["messages"]]}

    def _push(self, data: dict[str, Any], retry_key: str | None) -> tuple[int, Any]:
        problem = check_messages(data.get("messages"))
        if problem or not isinstance(data.get("to"), str):
            return 400, {"message": problem or "'to' is required"}
        if retry_key is not None:
            if retry_key in self.retry_keys:
                return 409, {"message": "The retry key is already accepted"}
            self.retry_keys.add(retry_key)
        return 200, {"sentMessages": [{"id": str(next(self._ids))} for _ in data["messages"]]}

    def _rich_menu(self, method: str, path: str, content_type: str, body: bytes) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v2/bot/richmenu":
            menu_id = f"richmenu-{next(self._ids):032d}"
            self.menus[menu_id] = {**json.loads(body), "richMenuId": menu_id}
            return 200, {"richMenuId": menu_id}
        if method == "GET" and path == "/v2/bot/richmenu/list":
            return 200, {"richmenus": list(self.menus.values())}
        if method == "POST" and parts[:3] == ["v2", "bot", "richmenu"] and parts[-1] == "content":
            if parts[3] not in self.menus or content_type not in ("image/png", "image/jpeg"):
                return 400, {"message": "bad rich menu image"}
            self.images[parts[3]] = (content_type, body)
            return 200, {}
        if method == "POST" and parts[:5] == ["v2", "bot", "user", "all", "richmenu"] and len(parts) == 6:
            if parts[5] not in self.menus or parts[5] not in self.images:
                return 400, {"message": "must upload richmenu image before applying it to user"}
            self.default_menu = parts[5]
            return 200, {}
        if method == "DELETE" and parts[:3] == ["v2", "bot", "richmenu"] and len(parts) == 4:
            return (200, {}) if self.menus.pop(parts[3], None) else (404, {"message": "Not found"})
        return 404, {"message": "Not found"}


def check_messages(messages: Any) -> str | None:
    """What LINE would refuse in a message list, or None."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= LIMITS["messages"]:
        return "messages: must be 1 to 5"
    for message in messages:
        kind = message.get("type")
        if kind == "text":
            if not message.get("text") or units(message["text"]) > LIMITS["text"]:
                return "text: empty or over 5000"
        elif kind == "flex":
            if not message.get("altText") or units(message["altText"]) > LIMITS["alt"]:
                return "altText: empty or over 400"
        else:
            return f"unexpected message type {kind}"
        problem = _check_quick_reply(message.get("quickReply"))
        if problem:
            return problem
    return None


def _check_quick_reply(quick: Any) -> str | None:
    if quick is None:
        return None
    items = quick.get("items") or []
    if not 1 <= len(items) <= LIMITS["items"]:
        return "quickReply.items: must be 1 to 13"
    for item in items:
        action = item.get("action") or {}
        label = action.get("label") or ""
        if not label or units(label) > LIMITS["label"]:
            return f"quickReply label empty or over 20: {label!r}"
        if action.get("type") == "postback" and units(action.get("data") or "") > LIMITS["data"]:
            return "postback data over 300"
    return None
