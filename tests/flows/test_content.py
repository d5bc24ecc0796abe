"""The content itself: fact list in sync with the shared domain facts, templates written as the rules say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.library.model import Library
from bot.core.library.templates import TemplateBook

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
STRUCTURE = ["様", "お世話になっております", "申し訳", "いただけますでしょうか", "何卒よろしくお願いいたします"]
# Declining proposers asks nothing of people being turned down (never 「ご了承いただけますでしょうか」): it thanks
# them, says the request is closed, apologises once and wishes them well.
DECLINE = ["様", "お世話になっております", "見送らせていただきます", "申し訳"]
# To the platform's support: no apology is owed, only the request.
SUPPORT = ["ご担当者様", "お世話になっております", "いただけますでしょうか", "何卒よろしくお願いいたします"]
# Written to people the user has not worked with yet: 「お世話になっております」 without いつも.
NOT_YET_WORKED_WITH = {"cancel_proposal", "decline_proposers", "support_login", "support_withdraw"}


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
        support = name.startswith("support_")
        parts = SUPPORT if support else DECLINE if name == "decline_proposers" else STRUCTURE
        positions = [body.find(part) for part in parts]
        assert -1 not in positions, f"{name}: missing one of {parts}"
        assert positions == sorted(positions), f"{name}: 宛名→挨拶→…→お詫び→依頼→結び order"
        assert body.startswith(library.templates.placeholder + "様") or "{client_name}" not in spec.body
        assert "X-MSG-STRUCTURE" in spec.facts and "X-NO-DIRECT-DEAL" in spec.facts
        assert ("いつもお世話に" in body) is (name not in NOT_YET_WORKED_WITH), f"{name}: いつも only for known clients"
        assert body.count("申し訳") == (0 if support else 1), f"{name}: one apology to a client, none to support"
        assert body.count("ことになり") <= 1, f"{name}: 「ことになり」 repeated"
        assert "ご了承いただけますでしょうか" not in body and "パスワードは" not in body, name


def test_a_company_is_addressed_with_gotantousha_sama_and_a_person_with_sama(library: Library) -> None:
    book = TemplateBook(library.templates)
    person = book.render("cancel_ongoing", {"client_name": "山田"}).body
    company = book.render("cancel_ongoing", {"client_name": "株式会社ABC"}).body
    assert person.startswith("山田様\n")
    assert company.startswith("株式会社ABC ご担当者様\n") and "株式会社ABC様" not in company


def test_a_worker_asks_the_client_to_agree_and_a_client_asks_the_worker_to_cancel(library: Library) -> None:
    """L-CANCEL-BY-CLIENT: on a Lancers project deal the cancel button is the worker's."""
    worker = library.templates.templates["cancel_ongoing"]
    client = library.templates.templates["client_cancel_request"]
    assert "同意" in worker.body and "こちらで行います" in worker.body
    assert "支払い管理" in client.body and "キャンセルのお手続きをしていただけますでしょうか" in client.body
    assert "L-CANCEL-BY-CLIENT" in worker.facts and "L-CANCEL-BY-CLIENT" in client.facts


def test_the_cancel_proposal_message_does_not_state_the_unconfirmed_one_hour_rule(library: Library) -> None:
    assert "1時間" not in library.templates.templates["cancel_proposal"].body


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


BULLETS = ("・", "①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧", "⑨")


def _lines(library: Library) -> list[tuple[str, str]]:
    found = []
    for flow in library.flows.values():
        for state in flow.states.values():
            for text in (*state.says, state.ask or "", state.help or "", *(faq.say for faq in state.faq)):
                found.extend((f"{flow.name}:{state.name}", line) for line in text.split("\n"))
        for faq in flow.faq:
            found.extend((f"{flow.name} faq", line) for line in faq.say.split("\n"))
    return found


def test_bubbles_fit_a_phone(library: Library) -> None:
    """A bullet over ~60 characters or a sentence over ~80 wraps into a wall of text on a phone: split it."""
    too_long = []
    for where, line in _lines(library):
        if line.startswith(BULLETS) and len(line) > 60:
            too_long.append(f"{where}: bullet of {len(line)}: {line}")
        too_long.extend(f"{where}: sentence of {len(s)}: {s}" for s in re.split(r"(?<=[。！？])", line) if len(s) > 80)
    assert not too_long, "\n".join(too_long)
