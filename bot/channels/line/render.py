"""Neutral replies as LINE messages (SDK v3 models), within LINE's limits.

LINE rejects a whole reply when one limit is broken, so every limit is enforced here rather than hoped
for: at most 5 messages per call, text at most 5,000 characters, at most 13 quick-reply items with
labels of at most 20 characters, postback data of at most 300 and a Flex `altText` of at most 400.
Lengths are counted in UTF-16 code units, which is never less than what LINE counts, so an emoji can
never push a label over.

- Consecutive plain texts are merged (blank line between) until the reply fits in 5 messages.
- A `Template` is always its own text message, so a long-press copies exactly the template.
- A `Checklist` is a Flex bubble whose `altText` is its plain-text form (notifications, old clients).
- The last `Question` is the last message and carries the options as quick replies: postback data is
  the option's opaque value, the display text is the full label. Navigation items (戻る・状況・ヘルプ)
  follow when there is room; a question with more than 13 options is paginated with a 「その他」 item.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from linebot.v3.messaging import (
    FlexBox,
    FlexBubble,
    FlexMessage,
    FlexText,
    MessageAction,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
)

from bot.core.library.model import Library
from bot.core.messages import Checklist, ChoiceInput, ItemStatus, Option, Question, Reply, Template, Text

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_ITEMS = 13
MAX_LABEL = 20
MAX_DATA = 300
MAX_ALT_TEXT = 400
MAX_CHECKLIST_ROWS = 40  # a Flex bubble is limited in size; the altText still lists everything
ELLIPSIS = "…"
MORE_PREFIX = "p1"  # postback data of a 「その他」 item: p1|<page>|<flow>|<state>
EMPTY_QUESTION = "？"  # LINE rejects empty text; the engine never sends one, but a flow typo must not 400

Message = Any  # an SDK v3 message model (TextMessage | FlexMessage); the SDK ships no type information


@dataclass(frozen=True, slots=True)
class LineWords:
    """The words LINE's buttons carry, from the lexicon (flows/lexicon.yaml `texts`): the 「その他」 item of a
    paginated question, and the navigation items, which the lexicon understands as commands anywhere."""

    more: str
    navigation: tuple[str, ...]

    @classmethod
    def of(cls, library: Library) -> LineWords:
        texts = library.texts
        return cls(more=texts.more_label, navigation=(texts.nav_back, texts.nav_status, texts.nav_help))


def units(text: str) -> int:
    """Length as UTF-16 code units: what LINE's limits are safely measured in."""
    return len(text.encode("utf-16-le")) // 2


def _extends(char: str) -> bool:
    """True for a code point that belongs to the character before it (marks, joiners, modifiers)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char == "\u200d"
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def safe_prefix(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` units that does not cut a character in two.

    A cut never separates a character from its combining marks, variation selectors or joiners, so
    a shortened label never shows half an emoji or a kana without its dakuten. Empty when not even
    the first character fits.
    """
    used, cut = 0, 0
    for char in text:
        used += units(char)
        if used > limit:
            break
        cut += 1
    if cut == len(text):
        return text
    safe = cut
    while safe > 0 and (_extends(text[safe]) or text[safe - 1] == "\u200d"):
        safe -= 1
    return text[:safe]


def shorten(text: str, limit: int) -> str:
    """`text` itself when it fits in `limit` units, else a safe prefix plus 「…」 that does."""
    if units(text) <= limit:
        return text
    return safe_prefix(text, limit - units(ELLIPSIS)).rstrip() + ELLIPSIS


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` in pieces of at most `limit` units, cut at line ends when possible."""
    pieces: list[str] = []
    rest = text
    while units(rest) > limit:
        head = safe_prefix(rest, limit) or rest[:1]  # or: a limit below one character must still progress
        line_end = head.rfind("\n")
        if line_end > 0:
            head = head[:line_end]
        pieces.append(head)
        rest = rest[len(head) :].lstrip("\n")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


# --- 「その他」 pages --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MorePage:
    """A tap on 「その他」: show `page` of the question at `flow:state` (`-` when unknown)."""

    page: int
    flow: str
    state: str

    def encode(self) -> str:
        return f"{MORE_PREFIX}|{self.page}|{self.flow}|{self.state}"

    @classmethod
    def decode(cls, data: str) -> MorePage | None:
        parts = data.split("|")
        if len(parts) != 4 or parts[0] != MORE_PREFIX or not parts[1].isdigit() or len(parts[1]) > 3:
            return None
        return cls(int(parts[1]), parts[2] or "-", parts[3] or "-")


def question_place(question: Question) -> tuple[str, str]:
    """The (flow, state) a question belongs to, read from its options' values; ("-", "-") if none."""
    for option in question.options:
        choice = ChoiceInput.decode(option.value)
        if choice is not None:
            return choice.flow, choice.state
    return "-", "-"


# --- rendering ---------------------------------------------------------------------------------


@dataclass
class _Bubble:
    text: str = ""
    mergeable: bool = True
    message: Message = None  # a prebuilt message (Flex) instead of text
    quick_reply: Any = None


def render(replies: Sequence[Reply], words: LineWords, page: int = 0) -> list[Message]:
    """LINE messages for one turn: at most 5 unless the replies cannot be merged that far.

    More than 5 comes back only for a turn of more than 5 templates/checklists with nothing mergeable
    between them; the sender then pushes the rest. `page` picks the page of a paginated question.
    """
    bubbles: list[_Bubble] = []
    # quick replies show only under the last message: a question anywhere else is numbered text
    last_question = len(replies) - 1 if replies and isinstance(replies[-1], Question) else -1
    for index, reply in enumerate(replies):
        if isinstance(reply, Text):
            bubbles.extend(_Bubble(piece) for piece in split_text(reply.text) if piece.strip())
        elif isinstance(reply, Template):
            bubbles.extend(_Bubble(piece, mergeable=False) for piece in split_text(reply.body) if piece.strip())
        elif isinstance(reply, Checklist):
            bubbles.append(_Bubble(mergeable=False, message=checklist_message(reply)))
        elif isinstance(reply, Question):
            bubbles.extend(_question(reply, words, page if index == last_question else None))
    _merge(bubbles)
    return [_message(bubble) for bubble in bubbles]


def _question(question: Question, words: LineWords, page: int | None) -> list[_Bubble]:
    """The question's text; the last question also gets the quick replies (numbered list if paged)."""
    paged = page is not None and len(question.options) > MAX_ITEMS
    text = question.text.strip() or EMPTY_QUESTION
    if page is None or paged:  # without buttons (or with only some of them) the numbers must be visible
        lines = "\n".join(f"{i}. {option.label}" for i, option in enumerate(question.options, 1))
        text = f"{text}\n\n{lines}" if lines else text
    pieces = split_text(text)
    bubbles = [_Bubble(piece) for piece in pieces]
    if page is not None:
        bubbles[-1].quick_reply = quick_reply(question, words, page)
    return bubbles


def quick_reply(question: Question, words: LineWords, page: int = 0) -> Any:
    """≤ 13 items: the options (or one page of them plus 「その他」), then navigation while room remains."""
    return _quick_reply(question.options, words, page)


@functools.lru_cache(maxsize=2048)
def _quick_reply(choices: tuple[Option, ...], words: LineWords, page: int) -> Any:
    """Cached per question and page: the flows have a few hundred questions, and building the ~30 validated
    SDK models of one set of buttons costs more than the rest of the turn's rendering (docs/benchmark.md).
    The models are never modified after they are built, so sharing them is safe."""
    options = [o for o in choices if units(o.value) <= MAX_DATA]  # longer data would 400 the reply
    items = [_postback(o.label, o.value) for o in options]
    if len(items) > MAX_ITEMS:
        per_page = MAX_ITEMS - 1
        pages = math.ceil(len(items) / per_page)
        page %= pages
        flow, state = question_place(Question("", choices))
        more = MorePage((page + 1) % pages, flow, state).encode()
        items = [*items[page * per_page : (page + 1) * per_page], _postback(words.more, more)]
    room = MAX_ITEMS - len(items)
    items.extend(QuickReplyItem(action=MessageAction(label=word, text=word)) for word in words.navigation[:room])
    return QuickReply(items=items)


def _postback(label: str, data: str) -> Any:
    full = label.strip() or EMPTY_QUESTION
    action = PostbackAction(label=shorten(full, MAX_LABEL), data=data, display_text=shorten(full, MAX_DATA))
    return QuickReplyItem(action=action)


def _merge(bubbles: list[_Bubble]) -> None:
    """Merge neighbouring plain texts, smallest pair first, until at most 5 bubbles remain."""
    while len(bubbles) > MAX_MESSAGES:
        best: tuple[int, int] | None = None
        for i in range(len(bubbles) - 1):
            left, right = bubbles[i], bubbles[i + 1]
            if not (left.mergeable and right.mergeable) or left.quick_reply is not None:
                continue
            size = units(left.text) + 2 + units(right.text)
            if size <= MAX_TEXT and (best is None or size < best[0]):
                best = (size, i)
        if best is None:
            return
        i = best[1]
        right = bubbles.pop(i + 1)
        bubbles[i] = _Bubble(f"{bubbles[i].text}\n\n{right.text}", quick_reply=right.quick_reply)


def _message(bubble: _Bubble) -> Message:
    if bubble.message is not None:
        return bubble.message
    if bubble.quick_reply is not None:
        return TextMessage(text=bubble.text, quick_reply=bubble.quick_reply)
    return TextMessage(text=bubble.text)


# --- the checklist -----------------------------------------------------------------------------

_STATUS_COLOURS = {
    ItemStatus.DONE: "#1DB446",
    ItemStatus.NA: "#1DB446",
    ItemStatus.PENDING: "#D93025",
    ItemStatus.WAITING: "#E37400",
    ItemStatus.UNKNOWN: "#888888",
}


def checklist_message(checklist: Checklist) -> Message:
    """A Flex bubble: title, items grouped by service with a coloured status word, and the summary."""
    rows: list[Any] = []
    group: str | None = None
    for item in checklist.items[:MAX_CHECKLIST_ROWS]:
        if item.group != group:
            group = item.group
            rows.append(FlexText(text=group, weight="bold", size="sm", color="#555555", margin="md", wrap=True))
        rows.append(
            FlexBox(
                layout="horizontal",
                spacing="sm",
                contents=[
                    FlexText(text=item.mark or "・", flex=0, size="sm"),
                    FlexText(text=item.label or "-", flex=1, size="sm", wrap=True),
                    FlexText(text=item.word or "-", flex=0, size="sm", color=_STATUS_COLOURS[item.status]),
                ],
            )
        )
    summary = FlexText(text=checklist.summary or "-", size="sm", wrap=True)
    body = FlexBox(layout="vertical", spacing="sm", contents=[*rows, summary] if rows else [summary])
    header = FlexBox(
        layout="vertical", contents=[FlexText(text=checklist.title or "-", weight="bold", size="lg", wrap=True)]
    )
    bubble = FlexBubble(header=header, body=body)
    return cast(Message, FlexMessage(alt_text=shorten(checklist.as_text(), MAX_ALT_TEXT), contents=bubble))
