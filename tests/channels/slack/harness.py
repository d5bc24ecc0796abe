"""Drive the real server like Slack does: signed HTTP requests to the app running in uvicorn on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette

from bot.config import Settings
from bot.core.library.model import Library
from bot.store.base import SessionStore
from bot.web.services import Services
from bot.wiring import create_app
from tests.fakes.server import eventually, serve
from tests.fakes.slack_api import Call, FakeSlackApi

SIGNING_SECRET = "test-signing-secret-0123456789"
_seq = itertools.count(1)


def signature(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def settings_for(api: FakeSlackApi, **values: Any) -> Settings:
    """Settings that never read the environment's Slack or Redis values by accident."""
    base: dict[str, Any] = {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_base_url": api.api_url,
        "slack_bot_token": None,
        "slack_client_id": None,
        "slack_client_secret": None,
        "slack_app_token": None,
        "redis_url": None,
        "line_channel_secret": None,
        "line_channel_access_token": None,
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


class SlackHarness:
    def __init__(self, app: Starlette, url: str, api: FakeSlackApi, http: httpx.AsyncClient) -> None:
        self.app = app
        self.url = url
        self.api = api
        self.http = http

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    async def settle(self) -> None:
        """Wait until every acknowledged turn has finished (they run after the HTTP answer)."""
        await asyncio.sleep(0)
        await eventually(lambda: not self.services.tasks.pending)

    # --- raw requests ---------------------------------------------------------------------------

    async def signed(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        headers: dict[str, str] | None = None,
        path: str = "/slack/events",
    ) -> httpx.Response:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature(body, ts, secret),
            **(headers or {}),
        }
        return await self.http.post(f"{self.url}{path}", content=body, headers=sent)

    async def event(
        self, event: dict[str, Any], team: str = "T1", event_id: str | None = None, retry: int | None = None, **kw: Any
    ) -> httpx.Response:
        payload = {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A0TAIKAI",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
        }
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.signed(json.dumps(payload).encode(), "application/json", headers=headers, **kw)

    # --- what users do --------------------------------------------------------------------------

    async def dm(self, user: str, text: str, team: str = "T1", channel: str | None = None, **kw: Any) -> httpx.Response:
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": channel or f"D{user}",
            "user": user,
            "text": text,
            "ts": _ts(),
            "team": team,
        }
        return await self.event(event, team=team, **kw)

    async def mention(
        self, user: str, text: str, channel: str = "C1", team: str = "T1", thread_ts: str | None = None
    ) -> httpx.Response:
        event: dict[str, Any] = {"type": "app_mention", "channel": channel, "user": user, "text": text, "ts": _ts()}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return await self.event(event, team=team)

    async def click(self, message: Call, label: str, user: str, team: str = "T1") -> httpx.Response:
        """Press the button labelled `label` on a posted message, as `user`."""
        block, button = next(
            (b, e)
            for b in message.blocks
            if b.get("type") == "actions"
            for e in b["elements"]
            if e["text"]["text"] == label
        )
        channel = str(message.params["channel"])
        posted = {"type": "message", "ts": message.ts, "text": message.params.get("text"), "blocks": message.blocks}
        if message.params.get("thread_ts"):
            posted["thread_ts"] = message.params["thread_ts"]
        payload = {
            "type": "block_actions",
            "user": {"id": user, "team_id": team},
            "api_app_id": "A0TAIKAI",
            "token": "legacy",
            "team": {"id": team, "domain": "example"},
            "container": {"type": "message", "message_ts": message.ts, "channel_id": channel, "is_ephemeral": False},
            "trigger_id": f"trigger-{next(_seq)}",
            "channel": {"id": channel},
            "message": posted,
            "response_url": self.api.response_url(),
            "actions": [{**button, "block_id": block["block_id"], "action_ts": _ts()}],
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.signed(body, "application/x-www-form-urlencoded")

    async def command(self, user: str, text: str, team: str = "T1", channel: str = "C1") -> httpx.Response:
        form = {
            "token": "legacy",
            "team_id": team,
            "team_domain": "example",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/taikai",
            "text": text,
            "api_app_id": "A0TAIKAI",
            "response_url": self.api.response_url(),
            "trigger_id": f"trigger-{next(_seq)}",
        }
        return await self.signed(urlencode(form).encode(), "application/x-www-form-urlencoded")


def _ts() -> str:
    return f"{time.time():.6f}"


@contextlib.asynccontextmanager
async def running(
    settings: Settings, library: Library, api: FakeSlackApi, store: SessionStore | None = None
) -> AsyncIterator[SlackHarness]:
    """The app from `create_app` under uvicorn on a random loopback port, lifespan included."""
    app = create_app(settings, library, store)
    async with serve(app) as url, httpx.AsyncClient(timeout=10) as http:
        yield SlackHarness(app, url, api, http)
