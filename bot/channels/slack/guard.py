"""Checks on every Slack HTTP request before Bolt sees it: signature first, then the body's shape.

Bolt's Starlette adapter decodes and parses the body, and reads the timestamp header, *before* it checks the
signature, and it raises (a 500 with a traceback) on invalid UTF-8, a BOM, malformed or deeply nested JSON,
a huge integer or a non-integer timestamp; on a failed check it logs the whole body. So the signature is
verified here, on the exact bytes received (Slack's v0 HMAC scheme, 5-minute window), and only a
signed body that Bolt can read without raising, with the types our listeners rely on, is handed over.

Unsigned or forged requests get 401, signed but malformed ones 400; each refusal is one short log line
with the reason only (never the body, a header value or an id).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncBoltRequest

MAX_SKEW_SECONDS = 5 * 60  # Slack's documented replay window (Bolt uses the same)
MAX_DEPTH = 48  # Slack's deepest payloads (rich text in blocks) nest about 12 levels
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")

# Keys whose value, wherever they appear in a payload, must be a string (or null): Bolt and our listeners
# use them as ids, Redis key parts, event ids or URLs.
STRING_KEYS = frozenset(
    {
        "type", "subtype", "team_id", "enterprise_id", "user_id", "channel_id", "api_app_id", "event_id",
        "ts", "thread_ts", "event_ts", "message_ts", "channel_type", "bot_id", "tab", "command",
        "response_url", "trigger_id", "callback_id", "action_id", "block_id", "value", "function_execution_id",
        "bot_access_token",
    }
)  # fmt: skip
# Keys that may be an id string or an object with a string "id".
ID_OR_OBJECT_KEYS = frozenset({"team", "enterprise", "user", "channel", "app"})
# Keys that must be objects, and keys that must be lists of objects.
OBJECT_KEYS = frozenset({"event", "message", "container", "view", "state", "tokens", "previous_message"})
OBJECT_LIST_KEYS = frozenset({"authorizations", "actions", "blocks", "elements"})
BOOL_KEYS = frozenset({"is_ext_shared_channel", "is_enterprise_install", "is_ephemeral"})


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    reason: str


def verify(
    body: bytes, headers: Mapping[str, str], secret: bytes, now: Callable[[], float] = time.time
) -> Refusal | None:
    """None when the request is signed by Slack within the replay window, else why not (401/400)."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        return Refusal(401, "unsigned")
    if not _TIMESTAMP.fullmatch(timestamp):
        return Refusal(400, "malformed timestamp")
    if abs(now() - int(timestamp)) > MAX_SKEW_SECONDS:
        return Refusal(401, "stale timestamp")
    if not _SIGNATURE.fullmatch(signature):
        return Refusal(401, "bad signature")
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(("v0=" + digest).encode(), signature.encode()):
        return Refusal(401, "bad signature")
    return None


def bolt_request(body: bytes, query: str, headers: Mapping[str, str]) -> AsyncBoltRequest | Refusal:
    """The request as Bolt would build it, or a 400 when a signed body is not one Bolt and the listeners
    can read (text, JSON, types): checked here so that no malformed body ever raises inside Bolt."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "body is not UTF-8")
    if text.startswith("\ufeff"):
        return Refusal(400, "byte order mark")
    try:  # Bolt parses the body as it builds the request (JSON, or a form with a JSON `payload`)
        request = AsyncBoltRequest(body=text, query=query, headers=dict(headers))
    except (ValueError, RecursionError):  # JSON errors, 4,300-digit integers, deep nesting
        return Refusal(400, "malformed body")
    except Exception:  # a body that is not an object, or anything Bolt's context extraction trips over
        return Refusal(400, "unreadable payload")
    if not isinstance(request.body, dict):
        return Refusal(400, "body is not an object")
    problem = shape_problem(request.body)
    if problem is not None:
        return Refusal(400, problem)
    context = request.context
    for value in (context.team_id, context.enterprise_id, context.user_id, context.channel_id):
        if value is not None and not isinstance(value, str):
            return Refusal(400, "malformed ids")
    return request


def shape_problem(payload: dict[str, Any]) -> str | None:
    """The first reason `payload` does not have the types Slack documents, or None (iterative walk)."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return "nested too deeply"
        if isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if value is None:
                continue
            if key in STRING_KEYS and not isinstance(value, str):
                return f"{key} is not a string"
            if key in BOOL_KEYS and not isinstance(value, bool | str):
                return f"{key} is not a boolean"
            if key in ID_OR_OBJECT_KEYS and not (
                isinstance(value, str) or (isinstance(value, dict) and isinstance(value.get("id"), str | None))
            ):
                return f"{key} is not an id"
            if key in OBJECT_KEYS and not isinstance(value, dict):
                return f"{key} is not an object"
            if key in OBJECT_LIST_KEYS and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
                return f"{key} is not a list of objects"
            if isinstance(value, dict | list):
                stack.append((value, depth + 1))
    return None
