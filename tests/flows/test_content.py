"""The content itself: fact list in sync with the shared domain facts, templates written as the rules say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.model import Library
from bot.core.templates import TemplateBook

SHARED_FACTS = Path(__file__).resolve().parents[3] / "shared" / "domain" / "facts.md"
DOUBLE_KEIGO = [
    "ご覧になられ",
    "おっしゃられ",
    "お召し上がりになられ",
    "お越しになられ",
    "おられますでしょうか",
    "拝見させていただ",
]
VAGUE = ["なるべく早く", "大丈夫です", "できるだけ早く"]
OFF_PLATFORM = [
    "メールアドレス",
    "電話",
    "LINE",
    "ライン",
    "直接",
    "連絡先",
    "外部",
    "Chatwork",
    "チャットワーク",
    "Zoom",
]
STRUCTURE = ["様", "いつもお世話になっております", "申し訳", "いただけますでしょうか", "何卒よろしくお願いいたします"]


def test_fact_list_matches_the_shared_domain_facts(library: Library) -> None:
    if not SHARED_FACTS.exists():
        pytest.skip(f"{SHARED_FACTS} is not beside this checkout")
    shared = set(re.findall(r"^- ([A-Z]-[A-Z0-9-]+):", SHARED_FACTS.read_text(encoding="utf-8"), re.M))
    assert shared, "no fact ids parsed from facts.md"
    assert shared == set(library.facts.facts), "flows/facts.yaml must list exactly the shared fact ids"


def test_every_fact_has_a_source(library: Library) -> None:
    assert all(fact.sources for fact in library.facts.facts.values())


def test_every_flow_carries_a_checked_date(library: Library) -> None:
    for name, flow in library.flows.items():
        if name != "common":
            assert flow.checked is not None, name
            assert flow.confirm, f"{name}: says where to confirm rules"


@pytest.mark.parametrize(
    "name",
    ["cancel_ongoing", "cancel_proposal", "early_completion", "decline_proposers", "cw_early_end"],
)
def test_required_templates_exist(library: Library, name: str) -> None:
    assert name in library.templates.templates


def test_templates_follow_the_business_mail_structure(library: Library) -> None:
    book = TemplateBook(library.templates)
    for name, spec in library.templates.templates.items():
        body = book.render(name, {}).body
        positions = [body.find(part) for part in STRUCTURE]
        assert -1 not in positions, f"{name}: missing one of {STRUCTURE}"
        assert positions == sorted(positions), f"{name}: 宛名→挨拶→…→お詫び→依頼→結び order"
        assert body.startswith(library.templates.placeholder + "様") or "{client_name}" not in spec.body
        assert "X-MSG-STRUCTURE" in spec.facts and "X-NO-DIRECT-DEAL" in spec.facts


def test_templates_avoid_double_keigo_vague_words_and_contact_outside_the_platform(library: Library) -> None:
    for name, spec in library.templates.templates.items():
        for word in DOUBLE_KEIGO + VAGUE + OFF_PLATFORM:
            assert word not in spec.body, f"{name}: contains {word}"
        assert spec.body.count("させていただ") <= 1, f"{name}: overuses させていただく"


def test_fill_ins_fill_every_placeholder(library: Library) -> None:
    book = TemplateBook(library.templates)
    values = {field: f"<{field}>" for field in library.templates.fields}
    for name in library.templates.templates:
        body = book.render(name, values).body
        assert "{" not in body and "}" not in body, name


def test_no_state_text_suggests_dealing_off_platform(library: Library) -> None:
    for flow in library.flows.values():
        for state in flow.states.values():
            text = " ".join((*state.says, state.ask or ""))
            assert "直接取引しましょう" not in text and "連絡先を交換" not in text.replace("連絡先を交換しない", "")
