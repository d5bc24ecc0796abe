"""Neutral replies as Slack messages (Block Kit), always within Slack's limits.

Slack rejects a whole message (`invalid_blocks`) when a single limit is broken, and the user then gets no
answer at all. So every limit is enforced here, in one place, before anything is sent: long texts are split
over several sections, long labels are clipped, options are spread over several actions blocks, and a turn
with too many blocks becomes several messages. The blocks are built with slack_sdk's models, whose
`to_dict()` validates them once more.

All bot text is `plain_text`: flow content and the user's own fill-ins (client names in templates, 「…のまま」
labels) must never be read as mrkdwn, links or mentions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)

from bot.core.messages import Checklist, Question, Reply, Template, Text

MAX_BLOCKS = 50  # per message (a Home tab view allows 100)
MAX_ACTIONS = 25  # elements per actions block
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FALLBACK_TEXT = 3000  # the notification text; Slack truncates at 40 000, nobody reads that far

ACTION_PREFIX = "taikai:choice:"  # action_id of every answer button (the listener matches this prefix)
QUESTION_BLOCK = "taikai:q:"  # block_id of a question's actions block: taikai:q:<owner>:<n>
ANSWERED_MARK = "✔"

Blocks = tuple[dict[str, Any], ...]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One message to post. `personal`: the user's own status (checklist), never shown to a channel."""

    text: str  # fallback for notifications and clients without Block Kit
    blocks: Blocks
    personal: bool = False


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Non-empty parts of at most `limit` characters, cut at line breaks where possible."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single line longer than a section: cut it hard
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            candidate = line
        current = candidate
    if current:
        parts.append(current)
    return [part for part in parts if part.strip()]


def plain(text: str, emoji: bool = True) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=emoji)


def text_blocks(text: str, emoji: bool = True) -> list[Block]:
    """Sections for a text of any length (an empty text gives no block: Slack rejects empty text)."""
    return [SectionBlock(text=plain(part, emoji)) for part in split_text(text)]


def question_blocks(question: Question, owner: str) -> list[Block]:
    """The question's text and its buttons, in at most `MAX_BLOCKS` blocks (extra options are dropped).

    The actions blocks carry the owner's user id, so that in a channel only the person who was asked can
    answer (see `question_owner`).
    """
    blocks = text_blocks(question.text)[: MAX_BLOCKS - 1]
    room = (MAX_BLOCKS - len(blocks)) * MAX_ACTIONS
    options = [o for o in question.options if 0 < len(o.value) <= MAX_BUTTON_VALUE and o.label.strip()][:room]
    for n, chunk in enumerate(_chunks(options, MAX_ACTIONS)):
        buttons = [
            ButtonElement(
                text=plain(clip(option.label, MAX_BUTTON_TEXT), emoji=False),
                action_id=f"{ACTION_PREFIX}{n * MAX_ACTIONS + i}",
                value=option.value,
            )
            for i, option in enumerate(chunk)
        ]
        blocks.append(ActionsBlock(block_id=clip(f"{QUESTION_BLOCK}{owner}:{n}", 255), elements=buttons))
    return blocks


def question_owner(block_id: str | None) -> str | None:
    """The user a question was asked to, from its actions block id; None for blocks that are not ours."""
    if not block_id or not block_id.startswith(QUESTION_BLOCK):
        return None
    owner, _, _ = block_id[len(QUESTION_BLOCK) :].rpartition(":")
    return owner or None


def checklist_blocks(checklist: Checklist) -> list[Block]:
    """Title, one section per group of items, and the summary line."""
    blocks: list[Block] = [HeaderBlock(text=plain(clip(checklist.title, MAX_HEADER_TEXT)))]
    groups: dict[str, list[str]] = {}
    for item in checklist.items:
        groups.setdefault(item.group, []).append(f"{item.mark} {item.word}：{item.label}")
    for group, lines in groups.items():
        blocks.extend(text_blocks("\n".join([f"【{group}】", *lines]), emoji=False))
    blocks.extend(text_blocks(checklist.summary))
    return blocks


def template_blocks(template: Template) -> list[Block]:
    """The body alone, as plain text without emoji codes, so a copy gives exactly the text to send."""
    return text_blocks(template.body, emoji=False)


def render(replies: Iterable[Reply], owner: str) -> list[SlackMessage]:
    """The messages for one turn, in order.

    Texts gather into one message that ends with the question and its buttons; a template is a message of
    its own (clean to copy); a checklist is a message of its own marked `personal`.
    """
    messages: list[SlackMessage] = []
    pending: list[Block] = []
    fallback: list[str] = []

    def flush() -> None:
        for chunk in _chunks(pending, MAX_BLOCKS):
            messages.append(_message(chunk, "\n".join(fallback)))
        pending.clear()
        fallback.clear()

    def add(blocks: list[Block], text: str) -> None:
        if len(pending) + len(blocks) > MAX_BLOCKS:
            flush()
        pending.extend(blocks)
        fallback.append(text)

    for reply in replies:
        if isinstance(reply, Text):
            add(text_blocks(reply.text), reply.text)
        elif isinstance(reply, Question):
            add(question_blocks(reply, owner), reply.text)
            flush()
        elif isinstance(reply, Template):
            flush()
            messages.extend(_message(c, reply.body) for c in _chunks(template_blocks(reply), MAX_BLOCKS))
        elif isinstance(reply, Checklist):
            flush()
            for chunk in _chunks(checklist_blocks(reply), MAX_BLOCKS):
                messages.append(_message(chunk, reply.as_text(), personal=True))
        else:  # pragma: no cover - Reply is a closed union
            raise TypeError(f"unknown reply {reply!r}")
    flush()
    return messages


def answered_blocks(blocks: Sequence[dict[str, Any]], label: str | None) -> Blocks:
    """A question message as Slack sent it back, with our buttons replaced by the chosen answer.

    `label` None removes the buttons without naming an answer (the tap did not apply: the question was over).
    """
    kept = [b for b in blocks if not (b.get("type") == "actions" and question_owner(b.get("block_id")))]
    if label:
        kept = kept[: MAX_BLOCKS - 1]
        mark = f"{ANSWERED_MARK} {clip(label, MAX_BUTTON_TEXT)}"
        kept.append(ContextBlock(elements=[plain(mark, emoji=False)]).to_dict())
    return tuple(kept)


def _message(blocks: Sequence[Block], text: str, personal: bool = False) -> SlackMessage:
    return SlackMessage(clip(text, MAX_FALLBACK_TEXT), tuple(b.to_dict() for b in blocks), personal)


def _chunks(items: Sequence[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
