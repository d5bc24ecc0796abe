"""uvicorn's httptools protocol with the bounds it lacks: header size and count, and read deadlines.

uvicorn with httptools accepts a 16 MiB header block and 100,000 headers, and never times out a client that
sends its headers or its body slowly (a few such connections hold memory and sockets for good). The bundled
nginx bounds all of that in front of the app (deploy/nginx.conf); this protocol bounds it in the app too, so a
replica exposed without the proxy (a port-forward, a misrouted Service) is not the weak point:

- headers (request line included) over `MAX_HEADER_BYTES` or more than `MAX_HEADERS` lines: 431, connection
  closed, before any of it reaches the app;
- a request whose headers are not complete `HEADER_TIMEOUT` seconds after its first byte (or after the
  connection opened): 408, closed;
- a body not complete `BODY_TIMEOUT` seconds after the headers: 408 (or closed, if the app already answered);
  the app sees a disconnect and drops the request.

Everything else is uvicorn's own code path, at httptools' speed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 16 * 1024  # nginx's default large_client_header_buffers (4 × 8k) is in the same range
MAX_HEADERS = 100
HEADER_TIMEOUT = 10.0  # nginx: client_header_timeout
BODY_TIMEOUT = 20.0  # nginx: client_body_timeout (between reads there; for the whole body here)

log = logging.getLogger(__name__)


class _HeadersTooLarge(Exception):
    """Raised inside a parser callback: httptools stops parsing and uvicorn answers (see send_400_response)."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    max_header_bytes = MAX_HEADER_BYTES
    max_headers = MAX_HEADERS
    header_timeout = HEADER_TIMEOUT
    body_timeout = BODY_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_bytes = 0
        self._header_count = 0
        self._too_large = False
        self._deadline: asyncio.TimerHandle | None = None

    # --- deadlines ---------------------------------------------------------------------------------

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport is None or self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self._write_status(b"408 Request Timeout")
        self.transport.close()

    def _write_status(self, status: bytes) -> None:
        self.transport.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")

    # --- protocol callbacks ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout)  # a connection that never sends a request line is dropped too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = self._header_count = 0
        self._arm(self.header_timeout)

    def on_url(self, url: bytes) -> None:
        self._count(len(url), lines=0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value), lines=1)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._arm(self.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _count(self, size: int, lines: int) -> None:
        self._header_bytes += size
        self._header_count += lines
        if self._header_bytes > self.max_header_bytes or self._header_count > self.max_headers:
            self._too_large = True
            raise _HeadersTooLarge

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error; ours (headers too large) is a 431 instead."""
        if self._too_large:
            self._disarm()
            self._write_status(b"431 Request Header Fields Too Large")
            self.transport.close()
            return
        super().send_400_response(msg)
