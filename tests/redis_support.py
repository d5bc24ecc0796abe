"""Finding or starting a real Redis for tests, shared by every test package.

Redis comes from REDIS_URL, else 127.0.0.1:6379, else a throwaway `redis-server` started for the session.
When none can be had, tests that need it fail under CI=true and are skipped (loudly) elsewhere. Keys
live under a prefix unique to the run and are deleted afterwards; the server is never flushed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
import redis
import redis.asyncio as aioredis

PREFIX = f"taikai-test-{uuid.uuid4().hex[:12]}"
DEFAULT_URL = "redis://127.0.0.1:6379/0"
notices: list[str] = []


def answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


def _free_port(cluster_bus: bool = False) -> int:
    """A free loopback port; for a cluster node also port + 10000 (its cluster bus) must be free and valid."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if not cluster_bus:
            return port
        if port + 10000 <= 65535:
            with socket.socket() as bus:
                try:
                    bus.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port pair for a cluster node")


@contextmanager
def redis_server(*options: str, config: str = "", sentinel: bool = False) -> Iterator[int]:
    """Run a throwaway `redis-server` (no persistence) in a temp dir; yields its port once it answers."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server is not installed")
    with tempfile.TemporaryDirectory(prefix="taikai-redis-") as workdir:
        port = _free_port(cluster_bus="cluster-enabled yes" in config)
        conf = Path(workdir, "redis.conf")  # a Sentinel rewrites its config file: it must be writable
        conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {workdir}\n{config}")
        args = [binary, str(conf), *(["--sentinel"] if sentinel else ["--save", "", "--appendonly", "no"])]
        server = subprocess.Popen([*args, *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not answers(f"redis://127.0.0.1:{port}"):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server {' '.join(options)} did not start")
                time.sleep(0.05)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=10)


def no_redis(reason: str, *, required: bool) -> NoReturn:
    if required and os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true requires Redis", pytrace=False)
    notices.insert(0, f"REDIS TESTS SKIPPED: {reason}")  # once: a session fixture's skip is cached
    pytest.skip(reason)


async def delete_prefix(url: str, prefix: str = PREFIX) -> None:
    """Delete this run's keys (SCAN by prefix: never FLUSHDB a server others may use)."""
    client = aioredis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
