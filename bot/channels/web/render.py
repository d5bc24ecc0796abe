"""Neutral replies as the JSON the chat page draws (static/chat.js): one object per reply, with a `type`.

The page inserts every string as text (never as HTML), so flow content and the user's own fill-ins cannot
become markup there; nothing here needs escaping.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.core.messages import Checklist, Question, Reply, Template, Text


def render(reply: Reply) -> dict[str, Any]:
    if isinstance(reply, Text):
        return {"type": "text", "text": reply.text}
    if isinstance(reply, Question):
        options = [{"label": option.label, "value": option.value} for option in reply.options]
        return {"type": "question", "text": reply.text, "options": options}
    if isinstance(reply, Template):
        return {"type": "template", "name": reply.name, "title": reply.title, "body": reply.body}
    if isinstance(reply, Checklist):
        groups: list[dict[str, Any]] = []
        for item in reply.items:
            if not groups or groups[-1]["name"] != item.group:
                groups.append({"name": item.group, "items": []})
            groups[-1]["items"].append(
                {"label": item.label, "status": item.status.value, "mark": item.mark, "word": item.word}
            )
        return {"type": "checklist", "title": reply.title, "groups": groups, "summary": reply.summary}
    raise TypeError(f"unknown reply {reply!r}")


def render_all(replies: Iterable[Reply]) -> list[dict[str, Any]]:
    return [render(reply) for reply in replies]
