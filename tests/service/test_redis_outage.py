"""Redis stopped, slow, and restarted during a conversation: the bot answers "busy", loses nothing, recovers.

Runs a real throwaway `redis-server` (AOF on, so a restart keeps the data, as in production) and stops
it with SIGTERM mid-conversation.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.conversation import Conversation
from bot.core.dialogue.engine import Engine
from bot.core.messages import StartInput, Text, TextInput
from bot.core.session import SessionKey
from bot.store.redis import RedisSessionStore
from tests.redis_support import _free_port, answers, no_redis

pytestmark = pytest.mark.redis


class Server:
    """A redis-server we can stop and start again on the same port and data directory."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir), "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--enable-debug-command", "local"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not answers(self.url):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    if shutil.which("redis-server") is None:
        no_redis("redis-server is not installed: cannot test an outage", required=True)
    srv = Server(tmp_path)
    srv.start()
    try:
        yield srv
    finally:
        if srv.process and srv.process.poll() is None:
            srv.stop()


def busy(result_replies: tuple[object, ...], engine: Engine) -> bool:
    return result_replies == (Text(engine.library.texts.busy),)


async def test_stop_and_restart_during_a_conversation(engine: Engine, server: Server) -> None:
    store = RedisSessionStore.from_url(server.url, 3600)
    conversation = Conversation(engine, store)
    key = SessionKey("line", "-", uuid.uuid4().hex)
    try:
        await conversation.turn(key, StartInput(), event_id="e0")
        await conversation.turn(key, TextInput("ランサーズ"), event_id="e1")
        before = (await store.load(key)).session
        assert before is not None and before.flow == "lancers"

        server.stop()
        down = await conversation.turn(key, TextInput("もう使わない"), event_id="e2")
        assert down.failed and busy(down.replies, engine), "the user hears 「混み合っています」, nothing raises"
        assert not await store.ping()

        server.start()
        await asyncio.sleep(0.1)
        assert await store.ping(), "the client reconnects on its own"
        after = (await store.load(key)).session
        assert after == before, "nothing was half-written while Redis was down"
        retried = await conversation.turn(key, TextInput("もう使わない"), event_id="e2")
        assert not retried.failed and not retried.duplicate, "the failed event was not marked as processed"
        again = await conversation.turn(key, TextInput("もう使わない"), event_id="e2")
        assert again.duplicate
    finally:
        await store.close()


async def test_a_slow_redis_times_out_into_a_busy_reply(engine: Engine, server: Server) -> None:
    store = RedisSessionStore.from_url(server.url, 3600)
    conversation = Conversation(engine, store)
    key = SessionKey("line", "-", uuid.uuid4().hex)
    admin = redis.Redis.from_url(server.url, socket_timeout=15)
    try:
        await conversation.turn(key, StartInput())
        sleeper = asyncio.create_task(asyncio.to_thread(admin.execute_command, "DEBUG", "SLEEP", "6"))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        slow = await conversation.turn(key, TextInput("ランサーズ"))
        assert slow.failed and busy(slow.replies, engine)
        # 1 s read timeout x 3 attempts (2 retries) ≈ 3.2 s: it gives up well before the server wakes
        assert time.monotonic() - started < 5.5, "the turn gave up on its timeouts, not after the server woke"
        await sleeper
        ok = await conversation.turn(key, TextInput("ランサーズ"))
        assert not ok.failed and ok.session is not None and ok.session.flow == "lancers"
    finally:
        admin.close()
        await store.close()
