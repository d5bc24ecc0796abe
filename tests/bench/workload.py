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
from dataclasses import dataclass, field

from bot.core.engine import Engine
from bot.core.messages import ChoiceInput, Inbound, Question, StartInput, TextInput
from bot.core.model import Library
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


def journey(engine: Engine, length: int, rng: random.Random) -> list[Step]:
    """`length` steps: a follow, then answers to whatever the bot asked (never the erase button)."""
    now = 1_764_000_000
    steps = [Step(FOLLOW, "")]
    turn = engine.handle(None, StartInput(), now)
    session: Session | None = turn.session
    replies = turn.replies
    while len(steps) < length:
        now += 20
        question = replies[-1] if replies and isinstance(replies[-1], Question) else None
        options = list(question.options) if question else []
        rng.shuffle(options)
        step: Step | None = None
        attempt = None
        for option in options[:4]:
            roll = rng.random()
            if session is not None and session.filling and roll < 0.5:
                candidate = Step(TEXT, rng.choice(NAMES))
            elif roll < 0.55:
                candidate = Step(POSTBACK, option.value)
            elif roll < 0.85:
                candidate = Step(TEXT, option.label)
            else:
                assert question is not None
                candidate = Step(TEXT, str(question.options.index(option) + 1))
            attempt = engine.handle(session, candidate.inbound(), now)
            if attempt.session is not None:  # never erase: the user would start over with a follow
                step = candidate
                break
        if step is None or attempt is None:  # nothing safe to answer: start over by typing 最初から
            step = Step(TEXT, "最初から")
            attempt = engine.handle(session, step.inbound(), now)
        steps.append(step)
        session, replies = attempt.session, attempt.replies
    return steps


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
    now = 1_764_000_000
    steps = [Step(FOLLOW, "")]
    turn = engine.handle(None, StartInput(), now)
    session: Session | None = turn.session
    replies_now = turn.replies
    while len(steps) < length:
        now += 20
        question = replies_now[-1] if replies_now and isinstance(replies_now[-1], Question) else None
        where = f"{session.flow}:{session.state}" if session is not None else ""
        if session is not None and session.filling:
            texts = [rng.choice(NAMES)]
        else:
            texts = list(replies.get(where, ()))
            rng.shuffle(texts)
            texts += [f"{o.label}でお願いします" for o in (question.options if question else ())]
        step, attempt = None, None
        for text in texts[:8]:
            candidate = Step(TEXT, text)
            attempt = engine.handle(session, candidate.inbound(), now)
            if attempt.session is not None and attempt.trace.outcome == "answered":
                step = candidate
                break
        if step is None or attempt is None:  # nothing understood moves on here: start over, typed
            step = Step(TEXT, "最初からやり直したい")
            attempt = engine.handle(session, step.inbound(), now)
        steps.append(step)
        session, replies_now = attempt.session, attempt.replies
    return steps


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
