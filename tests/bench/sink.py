"""The fake LINE Messaging API for the benchmark: a raw asyncio HTTP/1.1 responder on loopback.

It must cost far less than the server under test, so it does the least that keeps the figures honest:
it frames requests (Content-Length or chunked, keep-alive), checks the bearer token, pulls the reply
token out of a reply body with one regular expression, timestamps it for the load generator (same
process, same clock), and answers what LINE answers (`{"sentMessages": [...]}`, 202 for the loading
animation). It does not check message limits: `tests/fakes/line_api.py` does that in the test suite.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable
from typing import cast

from tests.channels.line import webhooks

_REPLY_TOKEN = re.compile(rb'"replyToken"\s*:\s*"([^"]+)"')
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:\s*chunked", re.IGNORECASE)
_SENT = b'{"sentMessages":[{"id":"1","quoteToken":"q"}]}'


def _response(status: str, body: bytes) -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


_OK = _response("200 OK", _SENT)
_ACCEPTED = _response("202 Accepted", b"{}")
_UNAUTHORIZED = _response("401 Unauthorized", b'{"message":"Authentication failed"}')
_NOT_FOUND = _response("404 Not Found", b'{"message":"Not found"}')


class Sink:
    """Counts requests by path; calls `on_reply(reply_token, perf_counter_time)` for every reply."""

    def __init__(self, on_reply: Callable[[str, float], None], token: str = webhooks.TOKEN) -> None:
        self.on_reply = on_reply
        self.auth = f"\r\nauthorization: bearer {token}\r\n".lower().encode()
        self.connections: set[asyncio.Transport] = set()
        self.counts: Counter[str] = Counter()
        self.server: asyncio.AbstractServer | None = None
        self.url = ""

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _SinkProtocol(self), "127.0.0.1", 0, backlog=1024)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for transport in list(self.connections):
                transport.close()
            await self.server.wait_closed()

    def handle(self, head: bytes, body: bytes) -> bytes:
        line_end = head.find(b"\r\n")
        method, _, rest = head[:line_end].partition(b" ")
        path = rest.partition(b" ")[0]
        if self.auth not in head.lower() + b"\r\n":
            self.counts["unauthorized"] += 1
            return _UNAUTHORIZED
        if path == b"/v2/bot/message/reply":
            self.counts["reply"] += 1
            found = _REPLY_TOKEN.search(body)
            if found is not None:
                self.on_reply(found.group(1).decode(), time.perf_counter())
            return _OK
        if path == b"/v2/bot/message/push":
            self.counts["push"] += 1
            return _OK
        if path == b"/v2/bot/chat/loading/start":
            self.counts["loading"] += 1
            return _ACCEPTED
        self.counts[f"other {method.decode()} {path.decode()}"] += 1
        return _NOT_FOUND


class _SinkProtocol(asyncio.Protocol):
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        self.sink.connections.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.sink.connections.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        out: list[bytes] = []
        for _ in range(len(buffer)):  # each pass consumes a request or stops
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            start = end + 4
            length_match = _CONTENT_LENGTH.search(head)
            if length_match is not None:
                stop = start + int(length_match.group(1))
                if len(buffer) < stop:
                    break
                body = buffer[start:stop]
            elif _CHUNKED.search(head):
                parsed = _dechunk(buffer, start)
                if parsed is None:
                    break
                body, stop = parsed
            else:
                body, stop = b"", start
            buffer = buffer[stop:]
            out.append(self.sink.handle(head, body))
        self.buffer = buffer
        if out and self.transport is not None:
            self.transport.write(b"".join(out))


def _dechunk(buffer: bytes, start: int) -> tuple[bytes, int] | None:
    """(body, end) of a complete chunked body starting at `start`, or None when more is needed."""
    parts: list[bytes] = []
    at = start
    for _ in range(10_000):
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(buffer[at:line_end].split(b";")[0], 16)
        at = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", at)
            return None if trailer_end < 0 else (b"".join(parts), trailer_end + 2)
        if len(buffer) < at + size + 2:
            return None
        parts.append(buffer[at : at + size])
        at += size + 2
    raise ValueError("too many chunks")
