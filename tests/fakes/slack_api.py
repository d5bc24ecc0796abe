"""A local fake of the Slack Web API (and response URLs, and Socket Mode), over real HTTP on 127.0.0.1.

Every call is recorded with its method, parameters and bearer token, so tests can assert what the bot sent
and with which workspace's token. Only what the bot uses is answered faithfully (auth.test, chat.*,
views.publish, oauth.v2.access, apps.connections.open); any other method answers ``{"ok": true}``.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tests.fakes.server import eventually


@dataclass(frozen=True)
class Workspace:
    team_id: str
    token: str
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"
    team_name: str = "Workspace"


@dataclass
class Call:
    method: str  # Web API method, or "response_url"
    params: dict[str, Any]
    token: str | None = None
    path: str = ""

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """The message's blocks, or the published view's."""
        view = self.params.get("view")
        blocks = view.get("blocks") if isinstance(view, dict) else self.params.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else list(blocks)

    @property
    def ts(self) -> str | None:
        return self.params.get("_ts")

    def texts(self) -> list[str]:
        """Every text in the blocks (sections, headers, context, buttons), in order."""
        found: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                    found.append(node["text"])
                    return
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.blocks)
        return found

    def text(self) -> str:
        return "\n".join(self.texts())

    def buttons(self) -> list[dict[str, Any]]:
        return [e for b in self.blocks if b.get("type") == "actions" for e in b.get("elements", [])]


@dataclass
class FakeSlackApi:
    workspaces: dict[str, Workspace] = field(default_factory=dict)  # by token
    install_codes: dict[str, Workspace] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # method -> error to answer with
    http_failures: dict[str, list[int]] = field(default_factory=dict)  # method -> HTTP statuses to answer first
    calls: list[Call] = field(default_factory=list)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    url: str = ""

    # --- set-up ---------------------------------------------------------------------------------

    def add_workspace(self, team_id: str, token: str | None = None, bot_user_id: str = "UBOT") -> Workspace:
        workspace = Workspace(team_id, token or f"xoxb-{team_id}-{uuid.uuid4().hex[:8]}", bot_user_id)
        self.workspaces[workspace.token] = workspace
        return workspace

    def add_install_code(self, code: str, team_id: str, bot_user_id: str = "UBOT") -> Workspace:
        """oauth.v2.access with `code` installs into `team_id` (its bot token works from then on)."""
        workspace = self.add_workspace(team_id, bot_user_id=bot_user_id)
        self.install_codes[code] = workspace
        return workspace

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self) -> str:
        return f"{self.url}/response/{uuid.uuid4().hex}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- looking at what happened ---------------------------------------------------------------

    def of(self, *methods: str) -> list[Call]:
        return [c for c in self.calls if c.method in methods]

    def posts(self, channel: str | None = None) -> list[Call]:
        return [c for c in self.of("chat.postMessage") if channel is None or c.params.get("channel") == channel]

    def last_question(self, channel: str | None = None) -> Call:
        """The latest posted message with buttons."""
        return next(c for c in reversed(self.posts(channel)) if c.buttons())

    async def wait_for(self, method: str, count: int = 1) -> list[Call]:
        """The calls of `method` once there are `count` of them."""
        await eventually(lambda: len(self.of(method)) >= count)
        return self.of(method)

    # --- Socket Mode ----------------------------------------------------------------------------

    async def send_envelope(self, payload: dict[str, Any], kind: str = "events_api") -> str:
        """Push a Socket Mode envelope to every connected client; returns its envelope id."""
        envelope_id = uuid.uuid4().hex
        message = {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": False}
        for ws in self._sockets:
            await ws.send_str(json.dumps(message))
        return envelope_id

    # --- handlers -------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        call = Call(method, params, token)
        self.calls.append(call)
        if self.http_failures.get(method):
            status = self.http_failures[method].pop(0)
            return web.json_response({"ok": False, "error": "ratelimited"}, status=status, headers={"Retry-After": "0"})
        if method in self.failures:
            return web.json_response({"ok": False, "error": self.failures[method]})
        workspace = self.workspaces.get(token or "")
        body = self._answer(method, call, workspace)
        headers = {"x-oauth-scopes": "app_mentions:read,chat:write,commands,im:history"}
        return web.json_response(body, headers=headers)

    def _answer(self, method: str, call: Call, workspace: Workspace | None) -> dict[str, Any]:
        params = call.params
        if method == "oauth.v2.access":
            installed = self.install_codes.pop(str(params.get("code")), None)
            if installed is None:
                return {"ok": False, "error": "invalid_code"}
            return {
                "ok": True,
                "app_id": "A0TAIKAI",
                "access_token": installed.token,
                "token_type": "bot",
                "scope": "app_mentions:read,chat:write,commands,im:history",
                "bot_user_id": installed.bot_user_id,
                "team": {"id": installed.team_id, "name": installed.team_name},
                "enterprise": None,
                "is_enterprise_install": False,
                "authed_user": {"id": "UINSTALLER"},
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}
        if workspace is None:
            return {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": workspace.team_name,
                "team_id": workspace.team_id,
                "user": "taikai",
                "user_id": workspace.bot_user_id,
                "bot_id": workspace.bot_id,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = f"{1_764_000_000 + next(self._ts)}.000100"
            params["_ts"] = ts
            message = {"ts": ts, "text": params.get("text"), "blocks": call.blocks}
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1_764_000_000 + next(self._ts)}.000200"}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V1", **(params.get("view") or {})}}
        return {"ok": True}

    async def _response(self, request: web.Request) -> web.Response:
        params = await _params(request)
        self.calls.append(Call("response_url", params, path=request.path))
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(message.data))
        finally:
            self._sockets.remove(ws)
        return ws


async def _params(request: web.Request) -> dict[str, Any]:
    raw = await request.text()
    if request.content_type == "application/json":
        loaded = json.loads(raw or "{}")
        return dict(loaded) if isinstance(loaded, dict) else {}
    params: dict[str, Any] = dict(parse_qsl(raw))
    for name in ("view", "blocks"):
        if isinstance(params.get(name), str):
            params[name] = json.loads(params[name])
    return params
