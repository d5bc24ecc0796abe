"""Sending to LINE: reply first, push only when the reply token cannot be used, loading animation.

A reply is free but its token is single-use and expires about a minute after the event; a push costs
quota. So a push is sent only when LINE answers that the token is invalid (expired or used), or the
event had none, and only when the operator allows it (`LINE_PUSH_FALLBACK`).

429, 5xx and timeouts are retried a bounded number of times with backoff (honouring Retry-After, well
inside the reply token's minute). A reply retried after a 5xx or timeout that then meets "invalid reply
token" most likely arrived the first time: it is counted as delivered and NOT pushed, since a second
copy of a question is worse than a lost one the user can ask for again. What still fails is logged and
counted (`taikai_platform_api_errors_total`); pushes are counted as reply fallbacks.

Pushes carry an `X-Line-Retry-Key` derived from the event id, so LINE itself drops a second push for
the same event (it answers 409), whichever replica sends it.

How a call is made: the SDK's models build and validate every request (as `line_render` builds the
messages), but the request is sent by `LineApi` — the JSON of the model, POSTed on our own aiohttp
session (its own connection pool, closed by `LineSender.close`). The SDK's own async call cost ~1 ms of
CPU per reply in the benchmark (docs/benchmark.md): it serialises a request by calling `to_dict()`
on every level of the model tree again at each level above (~330 µs for one question with its quick
replies), and its aiohttp session, created with `trust_env=True`, looks up proxy variables and
`~/.netrc` in a worker thread on every call. Here a request is serialised in one pass (`to_json`,
~30 µs; pydantic.v1's public `.dict(by_alias=True, exclude_none=True)` takes ~80 µs) and the proxy
(the SDK configuration's, else the environment's) is looked up once.

What this relies on in the SDK, each pinned by a test (tests/channels/line/test_send_json.py): its models
are pydantic.v1 models whose `__fields__` carry the JSON aliases (the SDK's own serialisation is the
reference, compared on every reply of the golden journeys), and its public `Configuration` (host, token,
proxy, TLS, pool size). Nothing private: no SDK client internals, no hand-made SDK exceptions.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import ssl
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from linebot.v3.messaging import (
    Configuration,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)
from pydantic.v1 import BaseModel as SdkModel  # the SDK's models are pydantic v1 models
from yarl import URL

from bot.channels.line_render import MAX_MESSAGES, Message

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0  # seconds per LINE API call (the SDK's own default is five minutes)
CONNECTIONS = 100  # open connections to the LINE API per process, at most
LOADING_SECONDS = 20  # how long LINE shows the animation at most; a message ends it sooner
_RETRY_NAMESPACE = uuid.UUID("6f1c1d43-3a0e-4a53-9a5e-7d4c2b8e1a10")
_TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)
ATTEMPTS = 3  # one try and two retries
BACKOFF = 0.25  # seconds before the first retry, doubled after
MAX_RETRY_AFTER = 3.0  # seconds we are willing to honour from a Retry-After header


class LineApiError(Exception):
    """LINE answered with a status other than 2xx. `uncertain`: an earlier attempt may have reached LINE."""

    def __init__(self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"LINE API status {status}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.uncertain = False


def retryable(exc: BaseException) -> bool:
    """Worth trying again: LINE's rate limit, a server error, the network or a timeout."""
    if isinstance(exc, LineApiError):
        return exc.status == 429 or exc.status >= 500
    return isinstance(exc, _TRANSPORT_ERRORS)


def _retry_after(exc: BaseException) -> float | None:
    headers = exc.headers if isinstance(exc, LineApiError) else {}
    try:
        return min(float(headers.get("Retry-After", "")), MAX_RETRY_AFTER)
    except ValueError:
        return None


def reply_token_invalid(exc: LineApiError) -> bool:
    """LINE's answer to an expired or already used reply token: 400 "Invalid reply token"."""
    return exc.status == 400 and "reply token" in exc.body.decode("utf-8", "replace").lower()


def to_json(value: Any) -> Any:
    """An SDK model as the JSON LINE expects: field aliases as keys, None fields left out, enums as values.

    The same as the SDK's own `model.to_dict()` (tests/channels/line/test_send_json.py checks that), in one
    pass over the model tree.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is list or kind is tuple:
        return [to_json(item) for item in value]
    if issubclass(kind, SdkModel):
        aliases = _aliases(kind)
        return {aliases[name]: to_json(item) for name, item in value.__dict__.items() if item is not None}
    if issubclass(kind, Enum):
        return value.value
    return value


@functools.cache
def _aliases(kind: type[SdkModel]) -> dict[str, str]:
    return {name: field.alias for name, field in kind.__fields__.items()}


class LineApi:
    """The Messaging API calls the bot makes, as JSON POSTs on one aiohttp session of its own.

    Configured from the SDK's public `Configuration` (`api_configuration`): base URL, access token, proxy,
    TLS settings and pool size. Without an explicit proxy, the environment's (HTTPS_PROXY, NO_PROXY, with
    its credentials) is used, as the SDK's session would, but looked up once here rather than per call.
    The session is created on first use, inside the running event loop, and closed by `close`.
    """

    def __init__(self, configuration: Configuration, timeout: float = REQUEST_TIMEOUT) -> None:
        self.configuration = configuration
        self.base_url = configuration.host.rstrip("/")
        self.headers = {
            "Authorization": f"Bearer {configuration.access_token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "taikai-bot (line-bot-sdk models)",
        }
        self.proxy: str | URL | None = configuration.proxy
        self.proxy_auth: aiohttp.BasicAuth | None = None
        if not self.proxy:
            self.proxy, self.proxy_auth = _env_proxy(self.base_url)
        self.proxy_headers = configuration.proxy_headers
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            limit = self.configuration.connection_pool_maxsize
            connector = aiohttp.TCPConnector(limit=limit, ssl=_tls(self.configuration))
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, path: str, request: Any, headers: Mapping[str, str] | None = None) -> None:
        """POST `request` (an SDK model); raises `LineApiError` (status, body, headers) unless LINE says 2xx."""
        body = json.dumps(to_json(request)).encode()
        async with self.session.post(
            self.base_url + path,
            data=body,
            headers={**self.headers, **headers} if headers else self.headers,
            proxy=self.proxy,
            proxy_auth=self.proxy_auth,
            proxy_headers=self.proxy_headers,
            timeout=self.timeout,
        ) as response:
            answer = await response.read()
            if not 200 <= response.status <= 299:
                raise LineApiError(response.status, answer, response.headers)


def _env_proxy(base_url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """The proxy the environment (HTTPS_PROXY, NO_PROXY, …) sets for `base_url`, read once at start-up, and
    its credentials (aiohttp wants them apart from the URL)."""
    parts = urlsplit(base_url)
    found = urllib.request.getproxies_environment().get(parts.scheme)
    if not found or urllib.request.proxy_bypass(parts.hostname or ""):
        return None, None
    proxy = URL(found)
    return proxy.with_user(None), aiohttp.BasicAuth.from_url(proxy)


def _tls(configuration: Configuration) -> ssl.SSLContext | bool:
    """The TLS settings of the configuration, as the SDK's own client applies them."""
    if not configuration.verify_ssl:
        return False
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert)
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, keyfile=configuration.key_file)
    return context


class LineSender:
    def __init__(
        self,
        configuration: Configuration,
        push_fallback: bool,
        timeout: float = REQUEST_TIMEOUT,
        on_failure: Callable[[str], None] = lambda status: None,
        on_push: Callable[[], None] = lambda: None,
        backoff: float = BACKOFF,
    ) -> None:
        """`configuration`: from `api_configuration`. `on_failure(status)` and `on_push()` feed the metrics."""
        self.api = LineApi(configuration, timeout)
        self.push_fallback = push_fallback
        self.on_failure = on_failure
        self.on_push = on_push
        self.backoff = backoff

    async def close(self) -> None:
        await self.api.close()

    async def _post(self, path: str, request: Any, headers: Mapping[str, str] | None = None) -> bool:
        """POST with bounded retries; True when an earlier attempt may have reached LINE (5xx, timeout)."""
        uncertain = False
        for attempt in range(ATTEMPTS):
            try:
                await self.api.post(path, request, headers)
                return uncertain
            except (LineApiError, *_TRANSPORT_ERRORS) as exc:
                if not retryable(exc) or attempt == ATTEMPTS - 1:
                    if uncertain and isinstance(exc, LineApiError):
                        exc.uncertain = True
                    raise
                rate_limited = isinstance(exc, LineApiError) and exc.status == 429
                uncertain = uncertain or not rate_limited  # a 429 was refused; a 5xx or timeout may not be
                delay = _retry_after(exc) if rate_limited else None
                await asyncio.sleep(delay if delay is not None else self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    async def show_loading(self, chat_id: str) -> bool:
        """Start the typing animation in a one-on-one chat; False (logged) when LINE refused."""
        request = ShowLoadingAnimationRequest(chat_id=chat_id, loading_seconds=LOADING_SECONDS)
        try:
            await self.api.post("/v2/bot/chat/loading/start", request)
            return True
        except LineApiError as exc:
            log.warning("line loading animation refused: status=%s", exc.status)
        except _TRANSPORT_ERRORS as exc:
            log.warning("line loading animation failed: %s", type(exc).__name__)
        return False

    async def deliver(self, to: str | None, reply_token: str | None, messages: Sequence[Message], key: str) -> str:
        """Send `messages`: the first 5 as a reply (or push), the rest, if any, by push.

        `to` is the user, group or room id (for a push); `key` makes the push retry keys. Returns the
        outcome for the log: replied | pushed | not_sent | failed (with `+pushed`/`+dropped` for extras).
        """
        if not messages:
            return "nothing"
        batches = [list(messages[i : i + MAX_MESSAGES]) for i in range(0, len(messages), MAX_MESSAGES)]
        outcome = await self._first(to, reply_token, batches[0], key)
        for index, batch in enumerate(batches[1:], 1):
            pushed = outcome != "failed" and await self._push(to, batch, f"{key}:{index}")
            outcome += "+pushed" if pushed else "+dropped"
        return outcome

    async def _first(self, to: str | None, reply_token: str | None, batch: list[Message], key: str) -> str:
        if reply_token is not None:
            try:
                request = ReplyMessageRequest(reply_token=reply_token, messages=batch)
                await self._post("/v2/bot/message/reply", request)
                return "replied"
            except LineApiError as exc:
                if reply_token_invalid(exc) and exc.uncertain:
                    return "replied_probably"  # an earlier attempt most likely used the token: no push
                if not reply_token_invalid(exc):
                    log.error("line reply failed: status=%s", exc.status)
                    self.on_failure(str(exc.status))
                    return "failed"
            except _TRANSPORT_ERRORS as exc:
                log.error("line reply failed: %s", type(exc).__name__)
                self.on_failure(type(exc).__name__)
                return "failed"
        if not self.push_fallback:
            return "not_sent"
        return "pushed" if await self._push(to, batch, key) else "failed"

    async def _push(self, to: str | None, batch: list[Message], key: str) -> bool:
        if not self.push_fallback or to is None:
            return False
        retry_key = str(uuid.uuid5(_RETRY_NAMESPACE, key))
        try:
            request = PushMessageRequest(to=to, messages=batch)
            await self._post("/v2/bot/message/push", request, {"X-Line-Retry-Key": retry_key})
            self.on_push()
            return True
        except LineApiError as exc:
            if exc.status == 409:  # this retry key was already accepted: the user has the messages
                return True
            log.error("line push failed: status=%s", exc.status)
            self.on_failure(str(exc.status))
        except _TRANSPORT_ERRORS as exc:
            log.error("line push failed: %s", type(exc).__name__)
            self.on_failure(type(exc).__name__)
        return False


LINE_API = "https://api.line.me"
LINE_DATA_API = "https://api-data.line.me"


def api_configuration(base_url: str, access_token: str, *, data: bool = False) -> Any:
    """The SDK configuration for `base_url` (LINE's, or a local fake in tests).

    A `Configuration(host=…)` overrides the host of *every* operation, including the blob ones that
    LINE serves from api-data.line.me (rich menu images). So with LINE's own base URL the data client
    is pointed at api-data.line.me; any other base URL (a fake, a proxy) must serve both.
    """
    base = base_url.rstrip("/")
    if data and base == LINE_API:
        base = LINE_DATA_API
    configuration = Configuration(host=base, access_token=access_token)
    # The SDK's default is 5 connections per CPU: with LINE ~100 ms away that caps one process at a few
    # dozen replies a second, and a burst queues for a connection. aiohttp's own default is 100.
    configuration.connection_pool_maxsize = CONNECTIONS
    return configuration
