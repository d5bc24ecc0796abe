"""Both webhooks in one real server (uvicorn on loopback, local fake LINE and Slack APIs), and a seeded
generator of hostile request bodies for them: the tools of the fuzz and log-privacy tests (issue 11).

Every body the generator makes is one a real attacker or a broken proxy could send: garbage, near-valid
payloads with wrong types, deep nesting, huge integers, bad encodings, bad or missing signatures. Signed
bodies use the test secrets, so they also reach the checks that come after the signature.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import io
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette

from bot.config import Settings
from bot.core.library.model import Library
from bot.store.base import SessionStore
from bot.telemetry.logs import configure_logging
from bot.wiring import create_app
from tests.channels.line import webhooks
from tests.fakes.line_api import FakeLineApi
from tests.fakes.server import serve
from tests.fakes.slack_api import FakeSlackApi

SLACK_SECRET = "test-signing-secret-0123456789"
LINE_PATH, SLACK_PATH = "/line/webhook", "/slack/events"


def both_settings(line: FakeLineApi, slack: FakeSlackApi, slack_token: str, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "line_channel_secret": webhooks.SECRET,
        "line_channel_access_token": webhooks.TOKEN,
        "line_api_base_url": line.url,
        "slack_signing_secret": SLACK_SECRET,
        "slack_bot_token": slack_token,
        "slack_api_base_url": slack.api_url,
        "slack_client_id": None,
        "slack_client_secret": None,
        "slack_app_token": None,
        "redis_url": None,
        "log_message_text": False,
        "rate_limit_burst": 1000,
        "rate_limit_per_minute": 6000,
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


@dataclass
class Server:
    app: Starlette
    url: str
    http: httpx.AsyncClient

    async def settle(self, within: float = 10.0) -> None:
        tasks = self.app.state.services.tasks
        deadline = time.monotonic() + within
        while tasks.pending and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def running(
    settings: Settings, library: Library, store: SessionStore | None = None, access_log: bool = False
) -> AsyncIterator[Server]:
    app = create_app(settings, library, store)
    # logging as `taikai-bot serve` does: log_config=None leaves our handler the only one
    async with (
        serve(app, log_config=None, access_log=access_log) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
    ):
        yield Server(app, url, http)


@contextlib.contextmanager
def captured_logs(level: str = "DEBUG") -> Iterator[io.StringIO]:
    """Every log line of the block, as `serve` writes them (JSON, through the safety filter), at `level`."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging(level, json_lines=True, stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


# --- signing ------------------------------------------------------------------------------------------


def slack_headers(body: bytes, content_type: str = "application/json", ts: str | None = None) -> dict[str, str]:
    stamp = ts if ts is not None else str(int(time.time()))
    digest = hmac.new(SLACK_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest}


def line_headers(body: bytes) -> dict[str, str]:
    signature = base64.b64encode(hmac.new(webhooks.SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return {"Content-Type": "application/json", "X-Line-Signature": signature}


# --- valid payloads, the seeds of the mutations -----------------------------------------------------------


def slack_dm(user: str, text: str, team: str = "T1") -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": team,
        "api_app_id": "A0TAIKAI",
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
        "event": {
            "type": "message",
            "channel_type": "im",
            "channel": f"D{user}",
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
            "team": team,
        },
    }


def slack_command(user: str, text: str, response_url: str, team: str = "T1") -> dict[str, str]:
    return {
        "token": "legacy",
        "team_id": team,
        "team_domain": "example",
        "channel_id": "C1",
        "channel_name": "general",
        "user_id": user,
        "user_name": "someone",
        "command": "/taikai",
        "text": text,
        "api_app_id": "A0TAIKAI",
        "response_url": response_url,
        "trigger_id": f"trigger-{uuid.uuid4().hex[:8]}",
    }


def slack_action(user: str, value: str, response_url: str, team: str = "T1") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": team},
        "api_app_id": "A0TAIKAI",
        "team": {"id": team, "domain": "example"},
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": f"D{user}", "is_ephemeral": False},
        "trigger_id": f"trigger-{uuid.uuid4().hex[:8]}",
        "channel": {"id": f"D{user}"},
        "message": {"type": "message", "ts": "1.000001", "text": "q", "blocks": []},
        "response_url": response_url,
        "actions": [{"action_id": "taikai:0", "block_id": "q", "value": value, "type": "button", "text": {}}],
    }


def line_body(user: str, text: str) -> dict[str, Any]:
    return json.loads(webhooks.body(webhooks.text(user, text)))  # type: ignore[no-any-return]


# --- the generator ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    path: str
    body: bytes
    headers: dict[str, str]
    label: str


_ODD_VALUES: list[Any] = [
    None, True, 0, -1, 10**30, 1.5e308, "", "x" * 300, [], [1, 2], {}, {"id": 7}, {"id": ["x"]}, "\u0000", "}:{*",
]  # fmt: skip


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _mutate(payload: Any, rng: random.Random) -> Any:
    """The payload with one value somewhere replaced by a value of another type."""
    copy = json.loads(json.dumps(payload))
    node = copy
    for _ in range(rng.randint(0, 3)):
        if isinstance(node, dict) and node:
            child = node[rng.choice(list(node))]
            if isinstance(child, dict | list) and child:
                node = child
                continue
        break
    if isinstance(node, dict) and node:
        node[rng.choice(list(node))] = rng.choice(_ODD_VALUES)
    elif isinstance(node, list) and node:
        node[rng.randrange(len(node))] = rng.choice(_ODD_VALUES)
    return copy


def _garbage(rng: random.Random) -> bytes:
    choices: list[bytes] = [
        rng.randbytes(rng.randint(0, 300)),
        b"\xef\xbb\xbf{}",  # a BOM
        b"\xff\xfe{",
        b'{"a": ' + b"1" * 4400 + b"}",  # over Python's 4,300-digit limit
        _nested(rng.choice([40, 60, 1000, 5000])).encode(),
        b'{"events": ' + _nested(1200).encode() + b"}",
        b"[]",
        b"null",
        b'"just a string"',
        b"payload=%7Bnot+json",
        b"payload=" + _nested(2000).encode(),
        b"payload=%5B%5D",
        b"ssl_check=1",
        b"{" * 3,
        b'{"type": "url_verification", "challenge": ["x"]}',
        b'{"type": "event_callback", "event": "nope"}',
        b'{"type": "event_callback", "team_id": ["T1"], "event": {"type": "message"}}',
        b'{"type": "event_callback", "event_id": {"x": 1}, "event": {"type": "message", "user": "U1"}}',
        b'{"type": "event_callback", "authorizations": "x", "event": {"type": "app_home_opened"}}',
        b'{"type": "event_callback", "event": {"type": "tokens_revoked", "tokens": {"oauth": 5, "bot": [1]}}}',
        b'{"type": "event_callback", "event": {"type": "reaction_added", "user": "U1"}}',
        b'{"type": "view_submission", "view": {"callback_id": "x"}, "user": {"id": "U1"}}',
        b'{"type": "shortcut", "callback_id": "x", "user": {"id": "U1"}}',
        b'{"destination": 5, "events": [{}, [], 1, null, {"type": "message", "source": []}]}',
        b'{"destination": "U1", "events": [' + b",".join([b"{}"] * 2000) + b"]}",
        b'{"events": [{"type": "message", "timestamp": "x", "webhookEventId": 7, "source": {"type": "user"}}]}',
        b'{"events": [{"type": "postback", "postback": {"data": ' + b"9" * 5000 + b"}}]}",
    ]
    return rng.choice(choices)


def attacks(seed: int, count: int, response_url: str) -> Iterator[Attack]:
    """`count` hostile requests, half signed (reaching the checks after the signature), reproducible by seed."""
    rng = random.Random(seed)
    for index in range(count):
        user = "U" + uuid.UUID(int=rng.getrandbits(128)).hex
        kind = rng.randrange(10)
        signed = rng.random() < 0.6
        if kind < 3:
            body = _garbage(rng)
        elif kind < 5:
            body = json.dumps(_mutate(slack_dm(user, "fuzz"), rng)).encode()
        elif kind < 6:
            form = slack_command(user, "fuzz", response_url)
            form[rng.choice(list(form))] = rng.choice(["", "x" * 500, "\u0000", "http://169.254.169.254/"])
            body = urlencode(form).encode()
        elif kind < 7:
            payload = json.dumps(_mutate(slack_action(user, "c1|x|y|z", response_url), rng))
            body = urlencode({"payload": payload}).encode()
        else:
            body = json.dumps(_mutate(line_body(user, "fuzz"), rng)).encode()
        to_slack = kind < 7 if rng.random() < 0.85 else rng.random() < 0.5
        path = SLACK_PATH if to_slack else LINE_PATH
        content_type = "application/x-www-form-urlencoded" if b"=" in body[:20] else "application/json"
        if not signed:
            headers = _unsigned_headers(rng, content_type)
        elif to_slack:
            headers = slack_headers(body, content_type)
            if rng.random() < 0.1:
                headers["X-Slack-Request-Timestamp"] = rng.choice(["abc", "", "1e9", "-5", "9" * 40, "1.5"])
        else:
            headers = line_headers(body)
        yield Attack(path, body, headers, f"#{index} {path} kind={kind} signed={signed}")


def _unsigned_headers(rng: random.Random, content_type: str) -> dict[str, str]:
    headers = {"Content-Type": content_type}
    pick = rng.randrange(5)
    if pick == 1:
        headers["X-Slack-Request-Timestamp"] = rng.choice(["abc", "9" * 40, str(int(time.time())), "-1"])
        headers["X-Slack-Signature"] = rng.choice(["v0=" + "0" * 64, "garbage", ""])
    elif pick == 2:
        headers["X-Line-Signature"] = rng.choice(["x", "=" * 44, base64.b64encode(b"0" * 32).decode()])
    elif pick == 3:
        headers["X-Slack-Request-Timestamp"] = str(int(time.time()) - 301)
        headers["X-Slack-Signature"] = "v0=" + "a" * 64
    return headers
