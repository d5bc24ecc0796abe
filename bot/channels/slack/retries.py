"""How the Slack Web API client retries: a dropped connection, Slack's 429 (honouring Retry-After) and 5xx,
a bounded number of times — and a call that posts a message only when it surely did not arrive."""

from __future__ import annotations

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

POSTING = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.meMessage", "files.upload"})
MAX_RETRIES = 2


def retry_handlers() -> list[AsyncRetryHandler]:
    return [
        SafeConnectionErrorRetryHandler(max_retry_count=MAX_RETRIES),
        AsyncRateLimitErrorRetryHandler(max_retry_count=MAX_RETRIES),
        SafeServerErrorRetryHandler(max_retry_count=MAX_RETRIES),
    ]


def posts(request: HttpRequest) -> bool:
    """The call posts a message: repeating it after it arrived shows the user the message twice."""
    return request.url.rstrip("/").rsplit("/", 1)[-1] in POSTING


class SafeServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """slack_sdk's 5xx retries, except that a post is retried after a 503 only: after a 500 (or 502, 504) the
    message may have been posted, and a retry showed the user the same message again."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if posts(request):
            return response is not None and response.status_code == 503
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


class SafeConnectionErrorRetryHandler(AsyncConnectionErrorRetryHandler):
    """slack_sdk's retries of dropped connections, except that a post is retried only when the connection
    could not be made at all: a connection dropped later may have carried the post to Slack."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if posts(request):
            return isinstance(error, aiohttp.ClientConnectorError)
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)
