"""The web chat channel: a page at /chat and its JSON API, on the same conversation as LINE and Slack.

    GET  /chat                 the page (its words from flows/lexicon.yaml), and the browser's signed cookie
    GET  /chat/static/<file>   its script and style: everything the page needs is served from here
    POST /chat/api/turn        one message: {"id", "start" | "text" | "choice" | "command"} → the replies
    POST /chat/api/inbox       what waits for this browser (reminders that fell due), handed over once

A browser is a user: `SessionKey("web", "-", <id from the cookie>)`. Every POST must come from the chat's
own origin (or one listed in WEBCHAT_ALLOWED_ORIGINS) with a JSON body, which a cross-site form cannot send;
the message id the page makes is the event id, so a message sent twice (a retry after a lost answer) is
handled once. Rate limit, size limits and dedupe are the conversation's, as on the other channels; a new
browser id is handed out at most so often per address. Logs carry the outcome and a keyed hash of the
browser id, never the text (unless LOG_MESSAGE_TEXT).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.base import ChannelContext, Mailbox, WebChannel
from bot.channels.delivery import OutputChannel, deliver
from bot.channels.limits import MAX_JSON_DEPTH
from bot.channels.sanitize import valid_text
from bot.channels.web.cookie import COOKIE, BrowserIds
from bot.channels.web.page import ChatPage
from bot.channels.web.render import render_all
from bot.conversation import TurnResult, TurnStatus, UserMessage
from bot.core.messages import ChoiceInput, CommandInput, Inbound, Reply, StartInput, TextInput
from bot.core.session import SessionKey
from bot.store.ratelimit import RateLimiter, Verdict
from bot.telemetry.context import user_hash

log = logging.getLogger(__name__)

CHANNEL = "web"
MAX_BODY_BYTES = 16 * 1024  # a message of MAX_TEXT_LENGTH characters, escaped, fits several times over
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
COMMAND = re.compile(r"[a-z_]{1,32}")
HTTP_STATUS = {
    TurnStatus.ANSWERED: 200,
    TurnStatus.DUPLICATE: 200,
    TurnStatus.LIMITED: 429,
    TurnStatus.BUSY: 503,
    TurnStatus.FAILED: 503,
}


class Refused(Exception):
    """A request the API will not take: its HTTP status and a machine-readable reason for the page."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class BrowserOutput(OutputChannel):
    """The replies of one request, collected for its response (the page draws them)."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []

    async def send(self, replies: Sequence[Reply]) -> str:
        self.replies.extend(replies)
        return "replied"


class MailboxOutput(OutputChannel):
    """A reminder for a browser: kept in the mailbox until the page asks for it (it cannot be pushed to)."""

    def __init__(self, mailbox: Mailbox, key: SessionKey) -> None:
        self.mailbox, self.key = mailbox, key

    async def send(self, replies: Sequence[Reply]) -> str:
        if not replies:
            return "nothing"
        return "stored" if await self.mailbox.put(self.key, {"replies": render_all(replies)}) else "failed"


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    secure: bool | None  # None: Secure when the request came over HTTPS
    samesite: str
    max_age: int


class WebChatChannel:
    name = CHANNEL

    def __init__(
        self,
        context: ChannelContext,
        ids: BrowserIds,
        mailbox: Mailbox | None,
        new_browsers: RateLimiter,
    ) -> None:
        settings = context.settings
        self.context, self.ids, self.mailbox, self.new_browsers = context, ids, mailbox, new_browsers
        self.page = ChatPage(
            context.library.texts, frame_ancestors=settings.webchat_frame_ancestors, max_text=settings.max_text_length
        )
        self.cookies = CookiePolicy(
            settings.webchat_cookie_secure, settings.webchat_cookie_samesite, settings.session_ttl_seconds
        )
        listed = (origin.strip().rstrip("/").lower() for origin in settings.webchat_allowed_origins.split(","))
        self.allowed_origins = frozenset(origin for origin in listed if origin)

    # --- WebChannel --------------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/chat", self.show_page, methods=["GET"]),
            Route("/chat/static/{name}", self.page.asset, methods=["GET"]),
            Route("/chat/api/turn", self.turn, methods=["POST"]),
            Route("/chat/api/inbox", self.inbox, methods=["POST"]),
        ]

    async def startup(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def reminder_output(self, key: SessionKey, retry_key: str) -> OutputChannel | None:
        """The mailbox: a reminder that falls due while the page is open shows within seconds, otherwise at
        the next visit. Stored once per reminder run: saq's job key already keeps a run from repeating."""
        return MailboxOutput(self.mailbox, key) if self.mailbox is not None else None

    async def send_later(self, key: SessionKey, payload: dict[str, Any], done: int) -> int:
        return -1  # the page receives its replies in the response: nothing is ever kept for later

    # --- routes ------------------------------------------------------------------------------------

    async def show_page(self, request: Request) -> Response:
        """The page, and a browser id for a browser without one — counted against the limit on new browsers
        like a first message, so that loading the page cannot hand out ids beyond it (over it, the page
        still loads; its first message gets the clear 429)."""
        response = self.page.response()
        browser = self._browser(request)
        if browser is None:
            with contextlib.suppress(Refused):
                browser = await self._new_browser(request)
        if browser is not None:  # also a known one: its cookie lives as long as its session, from now
            self._set_cookie(request, response, browser)
        return response

    async def turn(self, request: Request) -> Response:
        try:
            body = await self._body(request)
            message_id = body.get("id")
            if not isinstance(message_id, str) or not MESSAGE_ID.fullmatch(message_id):
                raise Refused(400, "bad_id")
            inbound = self._inbound(body)
            browser, fresh = self._browser(request), None
            if browser is None:  # first contact, or a cookie from another secret: a new browser id
                fresh = await self._new_browser(request)
                browser = fresh
        except Refused as refused:
            return self._refuse(refused)
        key = SessionKey(CHANNEL, "-", browser)
        result = await self._handle(UserMessage(key, inbound, f"web:{message_id}"))
        output = BrowserOutput()
        delivery = await deliver(result, output)
        self._log(key, delivery.describe())
        erased = result.status is TurnStatus.ANSWERED and result.session is None
        answer: dict[str, Any] = {"status": result.status.value, "replies": render_all(output.replies)}
        if erased:
            answer["reset"] = True  # the page clears what it shows of the erased conversation
        response = JSONResponse(answer, status_code=HTTP_STATUS[result.status])
        if erased:  # 削除: nothing of this browser stays
            if self.mailbox is not None:
                await self._forget(key)
            await self._issue(request, response)
        elif result.status is TurnStatus.ANSWERED or fresh is not None:
            self._set_cookie(request, response, browser)  # the session's TTL restarted: so does the cookie
        return response

    async def inbox(self, request: Request) -> Response:
        try:
            self._check_origin(request)
        except Refused as refused:
            return self._refuse(refused)
        browser = self._browser(request)
        if browser is None or self.mailbox is None:
            return JSONResponse({"messages": []})
        try:
            messages = await self.mailbox.take(SessionKey(CHANNEL, "-", browser))
        except Exception as exc:  # the store is down: the page asks again later, nothing was removed
            log.warning("web inbox not read (%s)", type(exc).__name__)
            return JSONResponse({"messages": []}, status_code=503)
        return JSONResponse({"messages": messages})

    # --- the request -------------------------------------------------------------------------------

    async def _body(self, request: Request) -> dict[str, Any]:
        self._check_origin(request)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise Refused(415, "json_only")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise Refused(413, "too_large")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY_BYTES:
                raise Refused(413, "too_large")
        if _nesting(raw) > MAX_JSON_DEPTH:  # before parsing: json.loads recurses (RecursionError)
            raise Refused(400, "bad_json")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Refused(400, "bad_json") from None
        if not isinstance(body, dict):  # (its depth was bounded before parsing)
            raise Refused(400, "bad_json")
        return body

    def _check_origin(self, request: Request) -> None:
        """The request comes from the page itself (or an allowed embedder): a cross-site page cannot talk
        as this browser. Browsers send Origin on every POST from a script."""
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.url.netloc}"
        said = origin.rstrip("/").lower() if origin is not None else None
        if said is None or (said != own.lower() and said not in self.allowed_origins):
            raise Refused(403, "origin")

    def _inbound(self, body: dict[str, Any]) -> Inbound:
        kinds = [name for name in ("start", "text", "choice", "command") if name in body]
        if len(kinds) != 1:
            raise Refused(400, "one_of_start_text_choice_command")
        value = body[kinds[0]]
        if kinds[0] == "start":
            return StartInput()
        if not isinstance(value, str) or not value.strip():
            raise Refused(400, f"bad_{kinds[0]}")
        if kinds[0] == "text":
            return TextInput(valid_text(value))  # too long for the engine: it says so (texts.too_long)
        if kinds[0] == "choice":  # a value the page was given; anything else shows the current question
            choice = ChoiceInput.decode(value)
            return choice if choice is not None else CommandInput("repeat")
        if not COMMAND.fullmatch(value):  # the page's menu sends back, status, help, restart
            raise Refused(400, "bad_command")
        return CommandInput(value)

    def _browser(self, request: Request) -> str | None:
        return self.ids.read(request.cookies.get(COOKIE))

    async def _new_browser(self, request: Request) -> str:
        """A new browser id, at most so many per client address: each one may start a stored session."""
        address = request.client.host if request.client is not None else "-"
        try:
            verdict = await self.new_browsers.hit(SessionKey("web-new", "-", user_hash("web-new", address)))
        except Exception:  # the store is down: no new conversation can be kept now anyway
            raise Refused(503, "busy") from None
        if verdict is not Verdict.ALLOW:
            raise Refused(429, "too_many_new_chats")
        return self.ids.new()

    async def _issue(self, request: Request, response: Response) -> None:
        self._set_cookie(request, response, self.ids.new())

    def _set_cookie(self, request: Request, response: Response, browser: str) -> None:
        policy = self.cookies
        secure = policy.secure if policy.secure is not None else request.url.scheme == "https"
        response.set_cookie(
            COOKIE,
            self.ids.cookie(browser),
            max_age=policy.max_age,
            path="/chat",
            httponly=True,
            secure=secure or policy.samesite == "none",  # browsers drop SameSite=None without Secure
            samesite=policy.samesite,  # type: ignore[arg-type]  # one of lax/strict/none (Settings)
        )

    async def _handle(self, message: UserMessage) -> TurnResult:
        if self.context.settings.log_message_text and isinstance(message.inbound, TextInput):
            log.info("web text: user=%s text=%r", user_hash(CHANNEL, message.key.user), message.inbound.text)
        return await self.context.conversation.handle(message)

    async def _forget(self, key: SessionKey) -> None:
        assert self.mailbox is not None
        try:
            await self.mailbox.forget(key)
        except Exception as exc:  # erased with the session in Redis anyway (same DEL); memory: best effort
            log.warning("web inbox not emptied after 削除 (%s)", type(exc).__name__)

    def _refuse(self, refused: Refused) -> Response:
        self.context.metrics.refused(CHANNEL, refused.status)
        log.info("web request refused: status=%d reason=%s", refused.status, refused.reason)
        return JSONResponse({"error": refused.reason}, status_code=refused.status)

    def _log(self, key: SessionKey, outcome: str) -> None:
        log.info("web turn: user=%s outcome=%s", user_hash(CHANNEL, key.user), outcome)


def _nesting(raw: bytes) -> int:
    """How deep brackets nest in a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    quoted = escaped = False
    for byte in raw:
        if quoted:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                quoted = False
        elif byte == 0x22:
            quoted = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def build_web_channel(
    context: ChannelContext, ids: BrowserIds, mailbox: Mailbox | None, new_browsers: RateLimiter
) -> WebChannel:
    return WebChatChannel(context, ids, mailbox, new_browsers)
