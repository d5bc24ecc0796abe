"""The load generator: prebuilt signed webhook requests over raw asyncio HTTP/1.1 keep-alive connections.

Two modes:
- closed loop (`saturate`): `concurrency` users in flight at once; a user's next event is sent only
  after the reply to its previous one reached the fake LINE API (so each user's events stay in order
  and every answer is a real mid-conversation answer). Throughput is replies per second in a window
  after a warm-up.
- open loop (`offered_rate`): events sent on a fixed schedule (e.g. 200/s), whatever the server does;
  latency runs from the scheduled send time to the reply reaching the fake, matched by reply token.

It shares its process and event loop with the sink (`sink.py`), so both timestamps come from one clock.
Its own CPU time (`resource.getrusage`) is reported with each run, to show it is not the bottleneck.
Every loop is bounded in count and in time; a reply that never comes is counted lost after `timeout`.
"""

from __future__ import annotations

import asyncio
import re
import resource
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from tests.bench.workload import User, Users

_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3})")
REAPER_TICKS = 4 * 3600  # the reaper's bound: a generator lives at most an hour
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests written in turn, each answered by the next response."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiters: deque[asyncio.Future[int]] = deque()
        self.buffer = b""
        self.closed = False
        self.port = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(0)  # status 0: the connection went away

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        for _ in range(len(buffer)):  # each pass consumes a response or stops
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            length = _CONTENT_LENGTH.search(head)
            stop = end + 4 + (int(length.group(1)) if length else 0)
            if len(buffer) < stop:
                break
            status = _STATUS.match(head)
            buffer = buffer[stop:]
            if self.waiters:
                waiter = self.waiters.popleft()
                if not waiter.done():
                    waiter.set_result(int(status.group(1)) if status else 0)
        self.buffer = buffer

    def request(self, raw: bytes) -> asyncio.Future[int]:
        assert self.transport is not None
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        self.transport.write(raw)
        return waiter


@dataclass
class RunStats:
    """What one run measured (times are `time.perf_counter()` seconds)."""

    sent: int = 0
    replies: int = 0
    lost: int = 0
    bad_status: int = 0
    unexpected_replies: int = 0
    arrivals: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    max_send_lag: float = 0.0  # open loop: how late the generator sent compared with its schedule
    skipped: int = 0  # open loop: no idle user was left to send for
    window: tuple[float, float] = (0.0, 0.0)
    # CPU seconds used within the window: "generator" (this process: generator + sink) and any others sampled
    cpu: dict[str, float] = field(default_factory=dict)

    def in_window(self) -> int:
        start, stop = self.window
        return sum(1 for t in self.arrivals if start <= t < stop)

    @property
    def window_seconds(self) -> float:
        return self.window[1] - self.window[0]

    @property
    def rate(self) -> float:
        return self.in_window() / self.window_seconds if self.window_seconds > 0 else 0.0

    def percentiles(self, *points: float) -> list[float]:
        ordered = sorted(self.latencies)
        if not ordered:
            return [float("nan") for _ in points]
        return [ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] for p in points]


class LoadGenerator:
    """`connections` keep-alive connections, spread round-robin over `ports` (replicas behind a balancer)."""

    def __init__(self, host: str, ports: Sequence[int], connections: int = 16, timeout: float = 10.0) -> None:
        self.host = host
        self.ports = list(ports)
        self.size = connections
        self.timeout = timeout
        self._free: asyncio.Queue[_Connection] = asyncio.Queue()
        self._all: list[_Connection] = []
        # reply token -> (send time, waiter); insertion order is send order (the reaper relies on it)
        self.pending: dict[str, tuple[float, asyncio.Future[float]]] = {}
        self.stats = RunStats()
        self._reaper: asyncio.Task[None] | None = None

    # --- connections -------------------------------------------------------------------------------

    async def open(self) -> None:
        for index in range(self.size):
            self._free.put_nowait(await self._connect(self.ports[index % len(self.ports)]))
        self._reaper = asyncio.create_task(self._reap())

    async def _connect(self, port: int) -> _Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(_Connection, self.host, port)
        protocol.port = port
        self._all.append(protocol)
        return protocol

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            await asyncio.gather(self._reaper, return_exceptions=True)
        for connection in self._all:
            if connection.transport is not None:
                connection.transport.close()

    async def post(self, raw: bytes) -> int:
        connection = await self._free.get()
        if connection.closed:
            connection = await self._connect(connection.port)
        try:
            return await connection.request(raw)
        finally:
            self._free.put_nowait(connection)

    # --- replies (called by the sink) ----------------------------------------------------------------

    def on_reply(self, token: str, at: float) -> None:
        entry = self.pending.pop(token, None)
        if entry is None:
            self.stats.unexpected_replies += 1
            return
        sent, waiter = entry
        self.stats.replies += 1
        self.stats.arrivals.append(at)
        self.stats.latencies.append(at - sent)
        if not waiter.done():
            waiter.set_result(at)

    async def _reap(self) -> None:
        """Count as lost the replies that did not come within `timeout` (bounded wait for every event)."""
        for _ in range(REAPER_TICKS):
            await asyncio.sleep(0.25)
            limit = time.perf_counter() - self.timeout
            expired = []
            for token, (sent, _) in self.pending.items():
                if sent >= limit:
                    break
                expired.append(token)
            for token in expired:
                _, waiter = self.pending.pop(token)
                self.stats.lost += 1
                if not waiter.done():
                    waiter.set_result(float("nan"))

    def reset(self) -> RunStats:
        self.stats = RunStats()
        return self.stats

    # --- one event ---------------------------------------------------------------------------------

    async def _send(self, user: User, sent: float | None = None) -> None:
        index = user.pos
        user.pos += 1
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.pending[user.tokens[index]] = (time.perf_counter() if sent is None else sent, waiter)
        self.stats.sent += 1
        status = await self.post(user.requests[index])
        if status != 200:
            self.stats.bad_status += 1
            self.pending.pop(user.tokens[index], None)
            return
        await waiter

    # --- closed loop -------------------------------------------------------------------------------

    async def saturate(
        self,
        users: Users,
        concurrency: int,
        warmup: float,
        duration: float,
        samplers: Mapping[str, Callable[[], float]] | None = None,
    ) -> RunStats:
        """Keep `concurrency` users in flight; measure replies/s over `duration` after `warmup`.

        `samplers` (name -> CPU seconds so far) are read when the window opens and closes.
        """
        samplers = {"generator": cpu_seconds, **(samplers or {})}
        stats = self.reset()
        idle = deque(u for u in users.users if u.has_next)
        start = time.perf_counter()
        stats.window = (start + warmup, start + warmup + duration)
        end = stats.window[1]
        busy = 0

        async def worker() -> None:
            nonlocal busy
            while time.perf_counter() < end:
                if not idle:
                    if busy == 0:
                        return  # every user has finished its script
                    await asyncio.sleep(0.001)
                    continue
                user = idle.popleft()
                busy += 1
                try:
                    await self._send(user)
                finally:
                    busy -= 1
                if user.has_next:
                    idle.append(user)

        opened: dict[str, float] = {}

        async def mark_cpu() -> None:
            await asyncio.sleep(max(0.0, stats.window[0] - time.perf_counter()))
            opened.update(_sample(samplers))
            await asyncio.sleep(max(0.0, stats.window[1] - time.perf_counter()))
            stats.cpu = _delta(opened, _sample(samplers))

        marker = asyncio.create_task(mark_cpu())
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        if not marker.done():  # ran out of users before the window closed: the window ends now
            marker.cancel()
            now = time.perf_counter()
            stats.window = (min(stats.window[0], now), min(stats.window[1], now))
            stats.cpu = _delta(opened, _sample(samplers)) if opened else {}
        return stats

    # --- open loop ---------------------------------------------------------------------------------

    async def offered_rate(
        self, users: Users, rate: float, duration: float, samplers: Mapping[str, Callable[[], float]] | None = None
    ) -> RunStats:
        """Send `rate` events/s for `duration` s on a fixed schedule; latency from the scheduled time."""
        samplers = {"generator": cpu_seconds, **(samplers or {})}
        stats = self.reset()
        idle = deque(u for u in users.users if u.has_next)
        count = int(rate * duration)
        start = time.perf_counter() + 0.02
        tasks: set[asyncio.Task[Any]] = set()

        async def one(user: User, at: float) -> None:
            await self._send(user, sent=at)
            if user.has_next:
                idle.append(user)

        opened = _sample(samplers)
        for index in range(count):
            at = start + index / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            stats.max_send_lag = max(stats.max_send_lag, time.perf_counter() - at)
            if not idle:
                stats.skipped += 1
                continue
            task = asyncio.create_task(one(idle.popleft(), at))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        stats.window = (start, start + count / rate)
        if tasks:
            await asyncio.wait(set(tasks), timeout=self.timeout + 1)
        stats.cpu = _delta(opened, _sample(samplers))
        return stats

    async def drain(self, within: float = 10.0) -> None:
        """Wait (bounded) until no reply is outstanding."""
        deadline = time.perf_counter() + within
        while self.pending and time.perf_counter() < deadline:  # noqa: ASYNC110 (a bounded poll)
            await asyncio.sleep(0.01)


def _sample(samplers: Mapping[str, Callable[[], float]]) -> dict[str, float]:
    return {name: read() for name, read in samplers.items()}


def _delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in after if name in before}
