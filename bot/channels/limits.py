"""Limits every webhook shares: the request body size (Starlette's own limit) and JSON nesting depth."""

from __future__ import annotations

from typing import Any

MAX_BODY_BYTES = 1024 * 1024  # any route; LINE's route is lower (`line.webhook.MAX_BODY_BYTES`)
MAX_JSON_DEPTH = 48  # LINE's and Slack's deepest payloads nest about 12 levels


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests deeper than `limit` (an iterative walk: no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values() if isinstance(child, dict | list))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, dict | list))
    return False
