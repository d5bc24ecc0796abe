"""Property-based: any sequence of inputs never raises and leaves the session in a valid state.

Inputs mix what real users send: button taps (current and stale), typed labels and numbers, yes/no
words, commands, arbitrary Unicode (emoji, control characters, very long text) and secret-looking text.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.dialogue.engine import Engine
from bot.core.dialogue.fillins import asked
from bot.core.library.model import Library
from bot.core.messages import ChoiceInput, CommandInput, Inbound, Question, StartInput, TextInput
from bot.core.session import HISTORY_LIMIT, Session

WORDS = [
    "はい",
    "いいえ",
    "うん",
    "ない",
    "ある",
    "１",
    "2",
    "3",
    "13",
    "戻る",
    "最初から",
    "ヘルプ",
    "状況",
    "削除",
    "スキップ",
    "次へ",
    "ランサーズ",
    "クラウドワークス",
    "両方",
    "受注者",
    "山田",
    "2件です。山田さんのLP記事と佐藤様のロゴ",  # slots: a count, names
    "コンペとタスクが1件ずつあります",
    "2時間前くらいに1件提案しました",
    "発注側のアカウントです",
    "あと2つあります",
    "😀",
    "",
    "   ",
    "abc12345",
]
COMMANDS = ["back", "restart", "help", "status", "erase", "start", "bogus"]

text_inputs = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=40),
    st.text(min_size=2001, max_size=2100),
).map(TextInput)
random_taps = st.builds(
    ChoiceInput,
    st.sampled_from(["common", "lancers", "crowdworks", "nope"]),
    st.text(max_size=12),
    st.text(max_size=12),
)
other_inputs = st.one_of(st.sampled_from(COMMANDS).map(CommandInput), st.just(StartInput()), random_taps)


def assert_valid(library: Library, session: Session) -> None:
    state = library.state(f"{session.flow}:{session.state}")
    assert state is not None, f"invalid state {session.flow}:{session.state}"
    assert state.routes is None, "a session never rests on a route state"
    if session.filling:
        assert state.template is not None
        assert asked(session.filling) in library.templates.fields  # 「~name」: asked again from under the template
    assert len(session.history) <= HISTORY_LIMIT
    assert all(library.state(f"{s.flow}:{s.state}") is not None for s in session.history)
    assert set(session.queue) <= set(library.flows)
    for key, value in session.heard.items():  # what was heard names real questions and item kinds
        mark, _, rest = key.partition(":") if key.startswith("#") else ("", "", key)
        if mark:
            flow, _, kind = rest.partition(":")
            assert kind in library.flows[flow].items, key
            assert mark != "#n" or value.isdigit(), (key, value)
        else:
            state = library.state(rest)
            assert state is not None and all(c in [x.id for x in state.choices] for c in value.split(",")), key
    assert Session.from_dict(json.loads(json.dumps(session.to_dict()))) == session


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_input_sequence_keeps_a_valid_session(library: Library, engine: Engine, data: st.DataObject) -> None:
    session: Session | None = None
    question: Question | None = None
    for step in range(data.draw(st.integers(1, 40), label="length")):
        kinds = ["text", "other"] + (["tap"] * 3 if question and question.options else [])
        kind = data.draw(st.sampled_from(kinds), label="kind")
        inbound: Inbound
        if kind == "tap" and question is not None:
            option = data.draw(st.sampled_from(question.options), label="option")
            decoded = ChoiceInput.decode(option.value)
            assert decoded is not None
            inbound = decoded
        elif kind == "text":
            inbound = data.draw(text_inputs, label="text")
        else:
            inbound = data.draw(other_inputs, label="other")
        turn = engine.handle(session, inbound, 1_764_000_000 + step * 60)
        assert turn.replies, "every turn answers something"
        if turn.session is None:
            assert turn.trace.outcome == "erased"
            question = None
        else:
            assert_valid(library, turn.session)
            last = turn.replies[-1]
            assert isinstance(last, Question) and last.options, "never a dead end: a question with choices"
            question = last
        session = turn.session


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=30))
def test_typed_words_only(library: Library, engine: Engine, words: list[str]) -> None:
    session: Session | None = None
    for word in words:
        turn = engine.handle(session, TextInput(word), 1_764_000_000)
        if turn.session is not None:
            assert_valid(library, turn.session)
        session = turn.session
