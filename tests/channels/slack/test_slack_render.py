"""Block Kit rendering: Slack's limits hold for any content, and slack_sdk's models accept every block."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.channels.slack.render import (
    ANSWERED_MARK,
    MAX_ACTIONS,
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_SECTION_TEXT,
    answered_blocks,
    question_owner,
    render,
    split_text,
)
from bot.core.messages import Checklist, ChecklistItem, ChoiceInput, ItemStatus, Option, Question, Template, Text

labels = st.text(min_size=1, max_size=120).filter(str.strip)
texts = st.text(max_size=7000)
options = st.lists(
    st.builds(
        lambda label, i: Option(label, ChoiceInput("flow", "state", f"c{i}").encode()), labels, st.integers(0, 10**6)
    ),
    max_size=1400,
)


def _check_limits(blocks: tuple[dict[str, Any], ...]) -> None:
    assert 0 < len(blocks) <= MAX_BLOCKS
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    action_ids: list[str] = []
    for block in blocks:
        parsed = Block.parse(block)  # slack_sdk re-validates every limit
        assert parsed is not None
        parsed.to_dict()
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= MAX_SECTION_TEXT
        if block["type"] == "actions":
            assert 0 < len(block["elements"]) <= MAX_ACTIONS
            for button in block["elements"]:
                assert 0 < len(button["text"]["text"]) <= MAX_BUTTON_TEXT
                action_ids.append(button["action_id"])
    assert len(action_ids) == len(set(action_ids))


@settings(max_examples=60, deadline=None)
@given(before=st.lists(texts, max_size=4), question=texts.filter(str.strip), offered=options)
def test_any_question_renders_within_the_limits(before: list[str], question: str, offered: list[Option]) -> None:
    replies = [*(Text(t) for t in before), Question(question, tuple(offered))]
    messages = render(replies, owner="U1")
    for message in messages:
        _check_limits(message.blocks)
        assert message.text and not message.personal
    # the buttons come last, in the same message as the end of the question, in the options' order
    last = messages[-1].blocks
    buttons = [e for b in last if b["type"] == "actions" for e in b["elements"]]
    assert [b["value"] for b in buttons] == [o.value for o in offered][: len(buttons)]
    assert len(buttons) == min(len(offered), (MAX_BLOCKS - sum(b["type"] == "section" for b in last)) * MAX_ACTIONS)
    assert all(question_owner(b["block_id"]) == "U1" for b in last if b["type"] == "actions")
    for message in messages[:-1]:
        assert not any(b["type"] == "actions" for b in message.blocks)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Zs", "Cc")) | st.just("\n"), max_size=9000))
def test_split_text_keeps_every_character(text: str) -> None:
    parts = split_text(text, 3000)
    assert all(0 < len(p) <= 3000 for p in parts)
    assert "".join(p.replace("\n", "") for p in parts) == text.replace("\n", "")


def test_long_labels_are_clipped_and_options_spread_over_actions_blocks() -> None:
    offered = tuple(Option("あ" * 100 if i == 0 else f"選択{i}", f"c1|f|s|{i}") for i in range(60))
    [message] = render([Question("どれですか？", offered)], owner="U9")
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [25, 25, 10]
    first = actions[0]["elements"][0]["text"]["text"]
    assert len(first) == MAX_BUTTON_TEXT and first.endswith("…")


def test_a_template_is_its_own_plain_message_that_copies_exactly() -> None:
    body = "山田様\nいつもお世話になっております。*太字にしない* :smile: <@U1> &amp;"
    replies = [Text("この文面をコピーしてください。"), Template("cw", "お願い", body), Question("次へ", ())]
    before, template, after = render(replies, owner="U1")
    assert template.text == body
    [block] = template.blocks
    assert block["text"] == {"type": "plain_text", "text": body, "emoji": False}
    assert "この文面" in before.text and after.text == "次へ"


def test_a_checklist_is_personal() -> None:
    checklist = Checklist(
        "いまの状況",
        (ChecklistItem("クラウドワークス", "契約", ItemStatus.PENDING, "⬜", "要対応"),),
        "残りの作業：1件",
    )
    [message] = render([checklist], owner="U1")
    assert message.personal
    assert [b["type"] for b in message.blocks] == ["header", "section", "section"]
    assert "⬜ 要対応：契約" in message.blocks[1]["text"]["text"]


def test_answered_blocks_replace_only_our_buttons() -> None:
    [message] = render([Text("説明"), Question("どれ？", (Option("はい", "c1|f|s|yes"),))], owner="U1")
    foreign = {"type": "actions", "block_id": "someone-else", "elements": []}
    updated = answered_blocks([*message.blocks, foreign], "はい")
    assert [b["type"] for b in updated] == ["section", "section", "actions", "context"]
    assert updated[-1]["elements"][0]["text"] == f"{ANSWERED_MARK} はい"
    assert [b["type"] for b in answered_blocks(message.blocks, None)] == ["section", "section"]


def test_typed_text_and_slash_arguments() -> None:
    from bot.channels.slack.listeners import clean_text, command_input
    from bot.core.library.load import load_library
    from bot.core.messages import CommandInput, TextInput
    from tests.conftest import FLOWS_DIR

    assert clean_text("<@UBOT> 削除 &lt;a&gt; &amp;amp; <@U2>", "UBOT") == "削除 <a> &amp; <@U2>"
    vocabulary = load_library(FLOWS_DIR).vocabulary
    expected = {
        "": CommandInput("start"),
        "start": CommandInput("start"),
        "状況": CommandInput("status"),
        "最初から": CommandInput("restart"),
        "ヘルプ": CommandInput("help"),
        "削除": CommandInput("erase"),
        "戻る": CommandInput("back"),
        "1": TextInput("1"),
    }
    for arg, inbound in expected.items():
        assert command_input(f" {arg} ", vocabulary) == inbound
