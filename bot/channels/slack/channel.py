"""The Slack channel: a Bolt `AsyncApp` mounted in the bot's ASGI server, and optionally Socket Mode.

Two ways to install (docs/slack.md):

- single workspace: ``SLACK_BOT_TOKEN`` + ``SLACK_SIGNING_SECRET``;
- multi-workspace OAuth: ``SLACK_CLIENT_ID`` + ``SLACK_CLIENT_SECRET`` + ``SLACK_SIGNING_SECRET``, with
  ``GET /slack/install`` and ``GET /slack/oauth_redirect``; installations and OAuth states live in Redis
  (`bot.store.slack_installations`), or in memory when REDIS_URL is unset. OAuth wins when both are set.

Every Web API client Bolt uses is built here on one `AsyncWebClient` whose ``base_url`` is
``SLACK_API_BASE_URL``: the app's client (and so each request's client), the OAuth flow's client
(oauth.v2.access, auth.test) and the authorize step's (auth.test, token rotation). Nothing is left to
Bolt's defaults, which would call slack.com and read ``SLACK_*`` variables from the environment behind the
settings' back. Every POST is verified by `slack.guard` on the raw bytes (signature and 5-minute timestamp:
401) and its body checked (UTF-8, JSON, depth, types: 400) before Bolt sees it, so no request can make Bolt
raise or log a body; Bolt verifies again (harmless). Socket Mode (``SLACK_APP_TOKEN``) feeds the same app.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from slack_bolt import BoltResponse
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler, to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.base import ChannelContext
from bot.channels.delivery import OutputChannel
from bot.channels.slack.delivery import Place, SlackDelivery, SlackOutput, later_place
from bot.channels.slack.guard import Refusal, bolt_request, verify
from bot.channels.slack.listeners import SlackListeners
from bot.channels.slack.retries import retry_handlers
from bot.config import Settings
from bot.core.session import SessionKey
from bot.store.slack_installations import InstallationStore, OAuthStores
from bot.telemetry.logs import Throttle

log = logging.getLogger(__name__)
# Bolt's and slack_sdk's own lines: a third-party namespace, so the log filter (bot.telemetry.logs) keeps only
# their warnings and errors, bounded — their INFO/DEBUG lines carry request bodies and API payloads.
bolt_log = logging.getLogger("slack_bolt.taikai")


class _TokenInClient(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and, since our client (base URL, retries)
    already carries that token, warns at every start that the token "will be unused": it is in use, so the
    line only misleads operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


bolt_log.addFilter(_TokenInClient())

APP_NAME = "taikai-bot"
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def api_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """The Web API client every other client is copied from (base URL from SLACK_API_BASE_URL)."""
    base = settings.slack_api_base_url
    return AsyncWebClient(
        token=token,
        base_url=base if base.endswith("/") else base + "/",
        logger=bolt_log,
        timeout=10,
        # Bounded retries with backoff: a dropped connection, Slack's 429 (honouring Retry-After) and 5xx —
        # but a post is retried only when it surely did not arrive (`SafeServerErrorRetryHandler`). Anything
        # still failing is logged and counted by the caller, never raised into a crash.
        retry_handlers=retry_handlers(),
    )


def oauth_enabled(settings: Settings) -> bool:
    return bool(settings.slack_client_id and settings.slack_client_secret)


def build_bolt_app(
    settings: Settings, installations: InstallationStore | None, states: AsyncOAuthStateStore | None
) -> AsyncApp:
    """Single workspace when `installations` is None, else OAuth with these stores."""
    signing_secret = _secret(settings.slack_signing_secret) or ""
    if installations is None or states is None:
        client = api_client(settings, _secret(settings.slack_bot_token))
        return AsyncApp(
            name=APP_NAME, logger=bolt_log, signing_secret=signing_secret, client=client, process_before_response=True
        )
    client = api_client(settings)
    oauth = _oauth_settings(settings, installations, states, client)
    flow = AsyncOAuthFlow(client=client, logger=bolt_log, settings=oauth)
    return AsyncApp(
        name=APP_NAME,
        logger=bolt_log,
        signing_secret=signing_secret,
        client=client,
        oauth_settings=oauth,  # unused next to oauth_flow, but stops Bolt building defaults from SLACK_* env
        oauth_flow=flow,
        installation_store_bot_only=True,
        process_before_response=True,
    )


def _oauth_settings(
    settings: Settings, installations: InstallationStore, states: AsyncOAuthStateStore, client: AsyncWebClient
) -> AsyncOAuthSettings:
    client_id, client_secret = settings.slack_client_id or "", _secret(settings.slack_client_secret) or ""
    scopes = [s.strip() for s in settings.slack_scopes.split(",") if s.strip()]
    oauth = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=scopes,
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=states,
        state_expiration_seconds=settings.slack_state_expiration_seconds,
        logger=bolt_log,
    )
    # Replaces the authorize step AsyncOAuthSettings built without a client (it would call slack.com), and
    # caches auth.test per token so that an event costs one Redis read before its ack, not an API call.
    oauth.authorize = AsyncInstallationStoreAuthorize(
        logger=bolt_log,
        installation_store=installations,
        client_id=client_id,
        client_secret=client_secret,
        bot_only=True,
        cache_enabled=True,
        client=client,
    )
    return oauth


class SlackChannel:
    """The `WebChannel` for Slack: routes into Bolt, and the Socket Mode connection's lifetime."""

    name = "slack"

    def __init__(
        self,
        context: ChannelContext,
        app: AsyncApp,
        installations: InstallationStore | None,
        delivery: SlackDelivery | None = None,
    ) -> None:
        self.context = context
        self.delivery = delivery or SlackDelivery(context)
        self.app = app
        self.installations = installations
        self.handler = AsyncSlackRequestHandler(app)
        self.socket_mode: AsyncSocketModeHandler | None = None
        self.signing_secret = (_secret(context.settings.slack_signing_secret) or "").encode()
        self._refusals = Throttle()

    def _refuse(self, refusal: Refusal) -> Response:
        """One short line (reason only, throttled: a flood writes a few lines a minute) and a counter."""
        self.context.metrics.refused("slack", refusal.status)
        if (skipped := self._refusals.allow()) is not None:
            log.warning("slack request refused: %d %s (%d not logged before)", refusal.status, refusal.reason, skipped)
        return PlainTextResponse(refusal.reason, status_code=refusal.status)

    async def events(self, request: Request) -> Response:
        """`POST /slack/events`: verified and checked here (`slack.guard`), then dispatched by Bolt."""
        try:
            body = await request.body()
        except ClientDisconnect:
            return self._refuse(Refusal(400, "client went away"))
        headers = {k.lower(): v for k, v in request.headers.items()}
        refusal = verify(body, headers, self.signing_secret) if self.signing_secret else Refusal(401, "no secret")
        if refusal is not None:
            return self._refuse(refusal)
        checked = bolt_request(body, request.url.query, headers)
        if isinstance(checked, Refusal):
            return self._refuse(checked)
        if checked.body.get("type") == "app_rate_limited":  # no Bolt listener exists for it: ack, and say so
            log.warning("slack: the app's event deliveries are being rate limited by Slack")
            return PlainTextResponse("")
        try:
            answer = await self.app.async_dispatch(checked)
        except _MALFORMED as error:  # raised by Bolt while preparing its own error handler's arguments
            return self._refuse(Refusal(400, f"not understood: {_raised(error)}"))
        return to_starlette_response(answer)

    async def endpoint(self, request: Request) -> Response:
        """The OAuth pages (GET): unsigned by nature, handled by Bolt's OAuth flow."""
        return await self.handler.handle(request)

    def routes(self) -> Sequence[BaseRoute]:
        routes: list[BaseRoute] = [Route(EVENTS_PATH, self.events, methods=["POST"])]
        if self.app.oauth_flow is not None:
            routes.append(Route(INSTALL_PATH, self.endpoint, methods=["GET"]))
            routes.append(Route(REDIRECT_PATH, self.endpoint, methods=["GET"]))
        return routes

    async def startup(self) -> None:
        """Connect Socket Mode when SLACK_APP_TOKEN is set (the HTTP route stays mounted either way)."""
        app_token = _secret(self.context.settings.slack_app_token)
        if app_token:
            self.socket_mode = AsyncSocketModeHandler(self.app, app_token=app_token, logger=bolt_log)
            await self.socket_mode.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack Socket Mode connected")

    async def reminder_output(self, key: SessionKey, retry_key: str) -> OutputChannel | None:
        """A reminder to one user: the app's DM with them, with the workspace's token (none when the app
        was uninstalled there: the reminder is dropped). A failed post is the reminder job's to retry."""
        client = await self._client_for(key.workspace)
        if client is None:
            return None
        return SlackOutput(self.delivery, client, key, Place(channel=key.user, user=key.user), None, later=False)

    async def send_later(self, key: SessionKey, payload: dict[str, Any], done: int) -> int:
        """Post what a failed answer left in the outbox (`SlackOutput`), from message `done` on."""
        found = later_place(payload)
        client = await self._client_for(key.workspace)
        if found is None or client is None or found[0].user != key.user:
            return -1
        place, messages = found
        posted = await self.delivery.send(client, place, messages[done:])
        # a post that may have arrived counts as sent: posting it again could show it twice
        return done + posted.sent + (0 if posted.refused or done + posted.sent == len(messages) else 1)

    async def _client_for(self, workspace: str) -> AsyncWebClient | None:
        """A Web API client with the workspace's bot token; None when the app is not installed there."""
        token = _secret(self.context.settings.slack_bot_token)
        if self.installations is not None:
            found = await self.installations.async_find_installation(enterprise_id=None, team_id=workspace)
            token = found.bot_token if found is not None else None
        return api_client(self.context.settings, token) if token else None

    async def shutdown(self) -> None:
        if self.socket_mode is not None:
            await self.socket_mode.close_async()  # type: ignore[no-untyped-call]
            self.socket_mode = None
        if self.installations is not None:
            await self.installations.close()


_MALFORMED = (KeyError, TypeError, AttributeError, IndexError, ValueError, RecursionError)


def _raised(error: BaseException) -> str:
    """The exception's type and the function that raised it; never its message (it may quote the payload)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].name}" if frames else "?"
    return f"{type(error).__name__} in {where}"


async def on_bolt_error(error: Exception) -> BoltResponse:
    """Bolt's error handler (middleware and listeners). A signed body that passed `slack.guard` but still
    lacks a field Bolt's matchers assume (e.g. a view without a type) is malformed: 400 and one line naming
    the exception type and where it was raised, with no traceback or message (they may quote the payload).
    Anything else is a failure of ours: 500, so that Slack retries, logged with its (bounded) frames."""
    if isinstance(error, _MALFORMED):
        log.warning("slack request not understood: %s", _raised(error))
        return BoltResponse(status=400, body="malformed payload")
    log.error("slack request failed", exc_info=error)
    return BoltResponse(status=500, body="")


def build_slack_channel(context: ChannelContext, oauth_stores: Callable[[], OAuthStores]) -> SlackChannel:
    """The Slack channel for the server (called by `bot.web.app` when Slack settings are present).
    `oauth_stores` builds the installation and OAuth-state stores, called only in OAuth mode."""
    settings = context.settings
    if settings.slack_client_id and not settings.slack_client_secret:
        raise ValueError("SLACK_CLIENT_ID is set but SLACK_CLIENT_SECRET is not: both are needed for OAuth")
    installations, states = oauth_stores() if oauth_enabled(settings) else (None, None)
    if installations is None and not settings.slack_bot_token:
        raise ValueError("Slack needs SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID/SECRET (OAuth)")
    if installations is not None and settings.slack_bot_token:
        log.warning("SLACK_BOT_TOKEN is ignored: OAuth settings are present, tokens come from installations")
    app = build_bolt_app(settings, installations, states)
    app.error(on_bolt_error)
    listeners = SlackListeners(context, installations)
    listeners.register(app)
    log.info("Slack mode: %s", "OAuth (multi-workspace)" if installations is not None else "single workspace")
    return SlackChannel(context, app, installations, listeners.delivery)
