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


REFUSED = frozenset({429, 503})  # statuses after which Slack surely did not post (a 500 may have posted)


def never_reached(error: Exception | None) -> bool:
    """The connection could not be made at all: a dropped one may have carried the post to Slack."""
    return isinstance(error, aiohttp.ClientConnectorError)


class _PostGuard(AsyncRetryHandler):
    """slack_sdk's rule for every call but a post, which is retried only when `post_retryable` says it surely
    did not arrive."""

    def post_retryable(self, response: HttpResponse | None, error: Exception | None) -> bool:
        raise NotImplementedError

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if posts(request):
            return self.post_retryable(response, error)
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


class SafeServerErrorRetryHandler(_PostGuard, AsyncServerErrorRetryHandler):
    """5xx retries; a post only after a 503: after a 500 (or 502, 504) it may have been posted, and a retry
    showed the user the same message again."""

    def post_retryable(self, response: HttpResponse | None, error: Exception | None) -> bool:
        return response is not None and response.status_code == 503  # 429 is the rate-limit handler's


class SafeConnectionErrorRetryHandler(_PostGuard, AsyncConnectionErrorRetryHandler):
    """Retries of dropped connections; a post only when the connection could not be made at all: one dropped
    later may have carried the post to Slack."""

    def post_retryable(self, response: HttpResponse | None, error: Exception | None) -> bool:
        return never_reached(error)
