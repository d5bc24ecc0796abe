"""Neutral replies → LINE messages: limits, quick replies, pages, templates kept whole, the checklist."""

from __future__ import annotations

import unicodedata
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.line import render as line_render
from bot.channels.line.render import (
    MAX_TEXT,
    Message,
    MorePage,
    shorten,
    split_text,
    units,
)
from bot.core.library.model import Library
from bot.core.messages import (
    Checklist,
    ChecklistItem,
    ChoiceInput,
    ItemStatus,
    Option,
    Question,
    Reply,
    Template,
    Text,
)
from tests.channels.lexicon import WORDS
from tests.fakes.line_api import check_messages

NAVIGATION, MORE_LABEL = WORDS.navigation, WORDS.more


def render(replies: list[Reply] | tuple[Reply, ...], page: int = 0) -> list[Message]:
    return line_render.render(replies, WORDS, page)


def as_dicts(messages: list[Any]) -> list[dict[str, Any]]:
    return [m.to_dict() for m in messages]


def options(count: int, flow: str = "lancers", state: str = "reason") -> tuple[Option, ...]:
    return tuple(Option(f"選択肢{i}", ChoiceInput(flow, state, f"c{i}").encode()) for i in range(1, count + 1))


def items_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [item["action"] for item in message["quickReply"]["items"]]


def test_every_question_of_the_real_flows_fits(library: Library) -> None:
    for flow in library.flows.values():
        for state in flow.states.values():
            if not state.choices:
                continue
            opts = tuple(Option(c.label, ChoiceInput(flow.name, state.name, c.id).encode()) for c in state.choices)
            [message] = as_dicts(render([Question(state.ask or "次へ", opts)]))
            assert check_messages([message]) is None, state.key
            postbacks = [a for a in items_of(message) if a["type"] == "postback"]
            assert [a["data"] for a in postbacks] == [o.value for o in opts]
            assert [a["displayText"] for a in postbacks] == [o.label for o in opts]
            assert all(units(a["label"]) <= 20 for a in items_of(message))


def test_navigation_fills_the_room_left() -> None:
    labels = {n: [a["label"] for a in items_of(as_dicts(render([Question("q", options(n))]))[0])] for n in (2, 11, 13)}
    assert labels[2][2:] == list(NAVIGATION)
    assert labels[11][11:] == list(NAVIGATION[:2])
    assert len(labels[13]) == 13 and not set(NAVIGATION) & set(labels[13])
    nav = [a for a in items_of(as_dicts(render([Question("q", options(1))]))[0]) if a["type"] == "message"]
    assert [(a["label"], a["text"]) for a in nav] == [(w, w) for w in NAVIGATION]


def test_many_options_are_paginated_with_sono_hoka() -> None:
    question = Question("どれですか？", options(30))
    seen: list[str] = []
    page = 0
    for _ in range(3):
        [message] = as_dicts(render([question], page))
        actions = items_of(message)
        [more_item] = [a for a in actions if a["label"] == MORE_LABEL]
        assert len(actions) <= 13 and more_item["displayText"] == MORE_LABEL
        more = MorePage.decode(more_item["data"])
        assert more is not None and (more.flow, more.state) == ("lancers", "reason")
        seen += [a["data"] for a in actions if a["type"] == "postback" and a is not more_item]
        assert "30. 選択肢30" in message["text"], "typed numbers must stay possible: all options are listed"
        page = more.page
    assert page == 0, "the pages cycle"
    assert seen == [o.value for o in question.options]


def test_long_labels_are_shortened_but_shown_whole() -> None:
    label = "とても長い選択肢のラベルで二十文字を超えてしまうもの"
    opts = (Option(label, "c1|f|s|a"), Option("👨‍👩‍👧‍👦" * 8, "c1|f|s|b"), Option("x", "c1|f|s|" + "d" * 300))
    [message] = as_dicts(render([Question("q", opts)]))
    first, second = items_of(message)[:2]
    assert units(first["label"]) <= 20 and first["label"].endswith("…") and first["displayText"] == label
    assert units(second["label"]) <= 20 and "\u200d…" not in second["label"]
    assert all(a.get("data", "").endswith("d" * 300) is False for a in items_of(message)), "data over 300 dropped"


def test_templates_stay_whole_and_alone() -> None:
    template = Template("cancel", "キャンセル", "山田様\n\nいつもお世話になっております。")
    replies: list[Reply] = [Text(f"説明{i}") for i in range(4)]
    replies += [template, Text("あと1"), Text("あと2"), Question("次へ進みますか？", options(2))]
    messages = as_dicts(render(replies))
    assert len(messages) == 5 and check_messages(messages) is None
    assert template.body in [m["text"] for m in messages]
    assert "quickReply" in messages[-1] and messages[-1]["text"].endswith("次へ進みますか？")
    assert "説明0\n\n説明1" in messages[0]["text"], "texts merge with a blank line"


def test_more_fixed_messages_than_five_overflow_instead_of_merging_templates() -> None:
    replies: list[Reply] = []
    for i in range(6):
        replies += [Text(f"説明{i}"), Template(f"t{i}", "t", f"本文{i}")]
    messages = as_dicts(render([*replies, Question("q", options(2))]))
    assert [m["text"] for m in messages if m["text"].startswith("本文")] == [f"本文{i}" for i in range(6)]
    assert len(messages) > 5  # the sender replies with 5 and pushes the rest


def test_checklist_is_flex_with_alt_text() -> None:
    items = tuple(ChecklistItem("ランサーズ", f"項目{i}", ItemStatus.PENDING, "⬜", "要対応") for i in range(3))
    checklist = Checklist("いまの状況", items, "残りの作業：3件")
    [flex, question] = as_dicts(render([checklist, Question("q", options(2))]))
    assert flex["type"] == "flex" and flex["altText"] == checklist.as_text()
    assert flex["contents"]["type"] == "bubble" and "quickReply" in question
    many = Checklist("いまの状況", items * 60, "残りの作業：180件")
    [big] = as_dicts(render([many]))
    assert units(big["altText"]) <= 400 and big["altText"].endswith("…")
    assert check_messages([big]) is None
    empty = as_dicts(render([Checklist("いまの状況", (), "まだ確認した項目はありません。")]))
    assert empty[0]["contents"]["body"]["contents"], "a box must not be empty"


def test_long_text_is_split_at_line_ends() -> None:
    text = "\n".join(f"{i:04d}" + "あ" * 95 for i in range(120))  # 12,000 characters
    messages = as_dicts(render([Text(text)]))
    assert all(units(m["text"]) <= MAX_TEXT for m in messages)
    assert "\n".join(m["text"] for m in messages) == text


def test_empty_texts_are_not_sent() -> None:
    assert render([Text(""), Text("  ")]) == []
    [message] = as_dicts(render([Question("", options(1))]))
    assert message["text"]


# --- properties --------------------------------------------------------------------------------

_characters = st.sampled_from(
    ["あ", "が", "か\u3099", "A", "😀", "👍🏽", "👨\u200d👩\u200d👧", "❤\ufe0f", "e\u0301", " ", "\n"]
)
_texts = st.lists(_characters, max_size=40).map("".join)


@given(_texts, st.integers(min_value=2, max_value=30))
def test_shorten_never_breaks_a_character(text: str, limit: int) -> None:
    short = shorten(text, limit)
    assert units(short) <= limit
    if short != text:
        assert short.endswith("…")
        kept = short[:-1]
        assert text.startswith(kept)
        rest = text[len(kept.rstrip()) :].lstrip(" ")
        assert not kept.endswith("\u200d")
        assert not (rest and unicodedata.category(rest[0]) in ("Mn", "Me")), "a mark was cut from its base"


@given(st.text(max_size=300), st.integers(min_value=2, max_value=50))
def test_split_text_keeps_everything_within_limits(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(units(p) <= limit for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


_reply = st.one_of(
    _texts.map(Text),
    st.builds(Template, st.just("t"), st.just("t"), _texts.filter(str.strip)),
    st.integers(min_value=0, max_value=20).map(lambda n: Question("q", options(n))),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_reply, max_size=12))
def test_any_turn_renders_within_limits(replies: list[Reply]) -> None:
    messages = as_dicts(render(replies))
    for start in range(0, len(messages), 5):
        assert check_messages(messages[start : start + 5]) in (None, "messages: must be 1 to 5")
    # the fewest messages possible: each template, plus one per run of mergeable texts between them
    kinds = "".join(
        "F" if isinstance(r, Template) else "M" for r in replies if not isinstance(r, Text) or r.text.strip()
    )
    fewest = kinds.count("F") + len([run for run in kinds.split("F") if run])
    assert len(messages) <= max(5, fewest)
    assert sum("quickReply" in m for m in messages) <= 1
