"""The LINE Messaging API calls the bot makes, and the SDK configuration they are built from.

How a call is made: the SDK's models build and validate every request (as `line.render` builds the
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

import functools
import json
import ssl
import urllib.request
from collections.abc import Mapping
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from linebot.v3.messaging import Configuration
from pydantic.v1 import BaseModel as SdkModel  # the SDK's models are pydantic v1 models
from yarl import URL

REQUEST_TIMEOUT = 10.0  # seconds per LINE API call (the SDK's own default is five minutes)
CONNECTIONS = 100  # open connections to the LINE API per process, at most


class LineApiError(Exception):
    """LINE answered with a status other than 2xx. `uncertain`: an earlier attempt may have reached LINE."""

    def __init__(self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"LINE API status {status}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.uncertain = False


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
