"""What the load generator sends: conversation journeys made by the real engine, as signed LINE bodies.

A journey is a random walk through the real flows, decided by running the engine offline: at each
question the user taps one of the offered buttons (a postback with the button's data), types its
label or its number, or types a name when a template fill-in is asked. So the server sees
mid-conversation answers that mean something (not stale taps), as long as each user's events arrive
in order — the load generator never has two events of one user in flight.

Each user of a run gets one journey (several users share a journey; their ids, event ids and reply
tokens differ) and its events are built into complete HTTP requests before the clock starts.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bot.core.dialogue.engine import Engine, Turn
from bot.core.library.model import Library
from bot.core.messages import ChoiceInput, Inbound, Question, StartInput, TextInput
from bot.core.session import Session
from tests.channels.line import webhooks

FOLLOW, TEXT, POSTBACK = "follow", "text", "postback"
NAMES = ("山田", "佐藤", "鈴木商事", "ロゴ制作")


@dataclass(frozen=True, slots=True)
class Step:
    kind: str  # follow | text | postback
    value: str  # the text typed, or the postback data

    def inbound(self) -> Inbound:
        if self.kind == FOLLOW:
            return StartInput()
        if self.kind == POSTBACK:
            choice = ChoiceInput.decode(self.value)
            assert choice is not None
            return choice
        return TextInput(self.value)


def _walk(
    engine: Engine,
    length: int,
    candidates: Callable[[Session | None, Question | None], Iterator[Step]],
    accepted: Callable[[Turn], bool],
    restart: str,
) -> list[Step]:
    """`length` steps: a follow, then at each question the first candidate answer the engine accepts (or
    `restart` typed when none is)."""
    now = 1_764_000_000
    steps = [Step(FOLLOW, "")]
    turn = engine.handle(None, StartInput(), now)
    while len(steps) < length:
        now += 20
        last = turn.replies[-1] if turn.replies else None
        question = last if isinstance(last, Question) else None
        for step in candidates(turn.session, question):
            attempt = engine.handle(turn.session, step.inbound(), now)
            if accepted(attempt):
                break
        else:
            step = Step(TEXT, restart)
            attempt = engine.handle(turn.session, step.inbound(), now)
        steps.append(step)
        turn = attempt
    return steps


def journey(engine: Engine, length: int, rng: random.Random) -> list[Step]:
    """Buttons tapped, labels or numbers typed, names at fill-ins; never the erase button."""

    def candidates(session: Session | None, question: Question | None) -> Iterator[Step]:
        options = list(question.options) if question else []
        rng.shuffle(options)
        for option in options[:4]:
            roll = rng.random()
            if session is not None and session.filling and roll < 0.5:
                yield Step(TEXT, rng.choice(NAMES))
            elif roll < 0.55:
                yield Step(POSTBACK, option.value)
            elif roll < 0.85:
                yield Step(TEXT, option.label)
            else:
                assert question is not None
                yield Step(TEXT, str(question.options.index(option) + 1))

    # never erase: the user would start over with a follow
    return _walk(engine, length, candidates, lambda turn: turn.session is not None, "最初から")


def journeys(library: Library, count: int, length: int, seed: int = 6, typed: bool = False) -> list[list[Step]]:
    rng = random.Random(seed)
    if typed:
        from bot.language import analyze_text

        engine = Engine(library, analyzer=analyze_text)
        replies = typed_replies()
        return [typed_journey(engine, length, rng, replies) for _ in range(count)]
    engine = Engine(library)
    return [journey(engine, length, rng) for _ in range(count)]


def typed_replies() -> dict[str, list[str]]:
    """Replies people type, by question, from the understanding corpus (tests/understanding/corpus.yaml)."""
    from pathlib import Path

    from bot.evaluation import load_corpus

    found: dict[str, list[str]] = {}
    for case in load_corpus(Path(__file__).resolve().parents[1] / "understanding" / "corpus.yaml"):
        found.setdefault(case.at, []).append(case.text)
    return found


def typed_journey(engine: Engine, length: int, rng: random.Random, replies: dict[str, list[str]]) -> list[Step]:
    """A journey in which every answer is typed the way people write, never tapped and never a label:
    the corpus's replies at that question, else 「〇〇でお願いします」 for one of its buttons."""

    def candidates(session: Session | None, question: Question | None) -> Iterator[Step]:
        if session is not None and session.filling:
            yield Step(TEXT, rng.choice(NAMES))
            return
        texts = list(replies.get(f"{session.flow}:{session.state}" if session else "", ()))
        rng.shuffle(texts)
        texts += [f"{o.label}でお願いします" for o in (question.options if question else ())]
        yield from (Step(TEXT, text) for text in texts[:8])

    def moved_on(turn: Turn) -> bool:
        return turn.session is not None and turn.trace.outcome == "answered"

    return _walk(engine, length, candidates, moved_on, "最初からやり直したい")


def event_for(user: str, step: Step) -> dict[str, object]:
    if step.kind == FOLLOW:
        return webhooks.follow(user)
    if step.kind == POSTBACK:
        return webhooks.postback(user, step.value)
    return webhooks.text(user, step.value)


def http_request(raw: bytes, path: str = "/line/webhook") -> bytes:
    """A complete HTTP/1.1 request carrying the signed webhook body (keep-alive)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"X-Line-Signature: {webhooks.sign(raw)}\r\nContent-Length: {len(raw)}\r\n\r\n"
    )
    return head.encode() + raw


@dataclass(slots=True)
class User:
    """One LINE user of a run: its prebuilt requests, their reply tokens, and how far it got."""

    requests: list[bytes]
    tokens: list[str]
    kinds: list[str]
    pos: int = 0
    stop: int = 0  # the generator takes this user while pos < stop

    @property
    def has_next(self) -> bool:
        return self.pos < self.stop


@dataclass
class Users:
    users: list[User] = field(default_factory=list)

    def kinds_between(self, start: list[int]) -> Counter[str]:
        """Event kinds sent since the positions in `start`."""
        found: Counter[str] = Counter()
        for user, first in zip(self.users, start, strict=True):
            found.update(user.kinds[first : user.pos])
        return found

    def positions(self) -> list[int]:
        return [u.pos for u in self.users]

    def allow(self, steps: int) -> None:
        """Let every user go `steps` further (bounded by its script)."""
        for user in self.users:
            user.stop = min(len(user.requests), user.pos + steps)


def build_users(paths: list[list[Step]], count: int, steps: int) -> Users:
    """`count` fresh users, each with the first `steps` events of a journey, prebuilt as requests."""
    built = Users()
    for index in range(count):
        path = paths[index % len(paths)][:steps]
        user = webhooks.user_id()
        requests, tokens, kinds = [], [], []
        for step in path:
            event = event_for(user, step)
            requests.append(http_request(webhooks.body(event)))
            tokens.append(str(event["replyToken"]))
            kinds.append(step.kind)
        built.users.append(User(requests, tokens, kinds))
    return built
