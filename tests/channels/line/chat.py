"""A scripted LINE user: sends signed events to the running app and reads what the fake LINE received."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.channels.line import webhooks
from tests.channels.line.conftest import Running


@dataclass
class LineUser:
    run: Running
    id: str = field(default_factory=webhooks.user_id)
    last: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    received: list[list[dict[str, Any]]] = field(default_factory=list)

    async def deliver(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Send one event and return the messages replied to it (waiting for the background turn)."""
        self.events.append(event)
        await self.run.send(event)
        self.last = self.run.fake.sent_to(event["replyToken"]) if "replyToken" in event else []
        self.received.append(self.last)
        return self.last

    async def follow(self) -> list[dict[str, Any]]:
        return await self.deliver(webhooks.follow(self.id))

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.deliver(webhooks.text(self.id, text))

    async def tap(self, label_part: str) -> list[dict[str, Any]]:
        """Tap the quick-reply button whose full label (displayText) contains `label_part`."""
        found = [a for a in self.actions if a["type"] == "postback" and label_part in a["displayText"]]
        assert len(found) == 1, f"{label_part!r} not exactly one of {[a['label'] for a in self.actions]}"
        return await self.deliver(webhooks.postback(self.id, found[0]["data"]))

    @property
    def actions(self) -> list[dict[str, Any]]:
        assert self.last, "nothing was received"
        quick = self.last[-1].get("quickReply") or {"items": []}
        return [item["action"] for item in quick["items"]]

    @property
    def labels(self) -> list[str]:
        return [a["label"] for a in self.actions]

    @property
    def texts(self) -> list[str]:
        return [m.get("text") or m.get("altText", "") for m in self.last]
