"""The LINE HTTP edge: `POST /line/webhook` read, verified and parsed, then handed on; no turn runs here.

Order of checks, each before anything is processed or stored: the body size (413: Starlette's own request
body limit on this route, which refuses a declared length over it unread and cuts a chunked body as it
arrives), the signature (400 without one, 401 when wrong: the SDK's `SignatureValidator` over the exact
bytes received), the content type (415), then the JSON shape (400: malformed, nested too deeply, a huge
integer — never a 500). A verified body is answered 200 straight away: LINE waits only a few seconds and
retries slow answers. Its events go to `on_events` (the channel's dispatcher), which must not await.

Refusals are counted and logged in one short line each (the reason only, never the body, a header value or
an id), throttled so that a flood writes a few lines a minute.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from linebot.v3 import SignatureValidator
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.channels.limits import too_deep
from bot.channels.line.events import Incoming, destination, parse_events
from bot.telemetry.logs import Throttle
from bot.telemetry.metrics import Metrics

log = logging.getLogger("bot.channels.line.channel")

PATH = "/line/webhook"
MAX_BODY_BYTES = 256 * 1024  # LINE sends small bodies (a few events); anything bigger is not LINE

OnEvents = Callable[[str, list[Incoming]], None]  # (destination, events): schedules them, returns at once


class LineWebhook:
    def __init__(self, secret: str, metrics: Metrics, on_events: OnEvents) -> None:
        self._validator = SignatureValidator(secret)
        self._metrics = metrics
        self._on_events = on_events
        self._refusals = Throttle()

    def route(self, max_body_bytes: int = MAX_BODY_BYTES) -> Route:
        return Route(PATH, self.handle, methods=["POST"], max_body_size=max_body_bytes)

    async def handle(self, request: Request) -> Response:
        try:
            body = await request.body()
        except HTTPException as error:  # Starlette's body limit (413): count and log it like any refusal
            return self.refuse(error.status_code, "body too large")
        except ClientDisconnect:
            return self.refuse(400, "client went away")
        signature = request.headers.get("x-line-signature")
        if not signature:
            return self.refuse(400, "missing signature")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self.refuse(400, "body is not UTF-8")
        if not self._validator.validate(text, signature):
            return self.refuse(401, "bad signature")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return self.refuse(415, "not JSON")
        try:
            payload = json.loads(text)
        except (ValueError, RecursionError):  # malformed, 4,300-digit integers, ~1,000-deep nesting
            return self.refuse(400, "malformed JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
            return self.refuse(400, "not a webhook body")
        if too_deep(payload):
            return self.refuse(400, "nested too deeply")
        self._on_events(destination(payload), parse_events(payload["events"]))
        return PlainTextResponse("OK")

    def refuse(self, status: int, reason: str) -> Response:
        """One short line (reason only, throttled: a flood writes a few lines a minute) and a counter."""
        self._metrics.refused("line", status)
        if (skipped := self._refusals.allow()) is not None:
            log.warning("line webhook refused: %d %s (%d not logged before)", status, reason, skipped)
        return PlainTextResponse(reason, status_code=status)
