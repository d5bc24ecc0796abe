"""Golden transcripts of the main journeys, typed as a person would (free text, not button taps).

A transcript changes when the flows' wording changes: review the diff, then regenerate with
`UPDATE_GOLDEN=1 pytest tests/flows/test_golden.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.channels.cli import render_all
from bot.core.engine import Engine
from bot.core.messages import StartInput, Template, TextInput

GOLDEN = Path(__file__).parent / "golden"

JOURNEYS: dict[str, list[str]] = {
    # Done-means journey: a worker with an ongoing job and a proposal made 2 hours ago.
    "lancers_worker": [
        "1",
        "もう使わない",
        "はい",
        "受注者",
        "ある",
        "キャンセルをお願いする",
        "作る",
        "山田",
        "LP制作",
        "佐藤",
        "次へ",
        "まだ",
        "ある",
        "１時間以上前",
        "作る",
        "鈴木",
        "バナー制作",
        "次へ",
        "まだ",
        "ない",
        "ない",
        "ない",
        "いいえ",
        "保存した",
        "会社員",
        "次へ",
        "次へ",
        "次へ",
        "状況",
        "進行中の仕事が済んだ",
        "提案が取り消された",
    ],
    # Done-means journey: CrowdWorks with Facebook login.
    "crowdworks_facebook": [
        "2",
        "はい",
        "Facebook",
        "設定できた",
        "ない",
        "ない",
        "ない",
        "ない",
        "保存した",
        "会社員ではない",
        "次へ",
        "次へ",
        "退会できた",
    ],
    # A client on Lancers with a project that has proposals, then both platforms' checklists.
    "lancers_client": [
        "ランサーズ",
        "その他",
        "はい",
        "発注者",
        "ある",
        "プロジェクト",
        "選定中",
        "はい",
        "作る",
        "はい",
        "スキップ",
        "スキップ",
        "次へ",
        "次へ",
        "終わった（ほかにない）",
        "ない",
        "ない",
        "いいえ",
        "不要",
        "次へ",
        "次へ",
        "退会できた",
    ],
}


def run(engine: Engine, inputs: list[str]) -> tuple[str, list[Template]]:
    session = None
    now = 1_764_000_000
    turn = engine.handle(session, StartInput(), now)
    parts = [render_all(turn.replies)]
    templates: list[Template] = []
    for text in inputs:
        now += 20
        turn = engine.handle(turn.session, TextInput(text), now)
        if text != "はい" or "decline" not in turn.trace.state_before:  # the one deliberate re-ask
            assert turn.trace.outcome not in ("reask", "stale"), f"{text!r} not understood at {turn.trace.state_before}"
        templates += [r for r in turn.replies if isinstance(r, Template)]
        parts.append(f"あなた> {text}")
        parts.append(render_all(turn.replies))
    return "\n\n".join(parts) + "\n", templates


@pytest.mark.parametrize("name", sorted(JOURNEYS))
def test_journey_matches_its_golden_transcript(engine: Engine, name: str) -> None:
    text, _ = run(engine, JOURNEYS[name])
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_lancers_worker_gets_two_client_messages_and_reaches_the_procedure(engine: Engine) -> None:
    text, templates = run(engine, JOURNEYS["lancers_worker"])
    assert [t.name for t in templates] == ["cancel_ongoing", "cancel_proposal"]
    assert "会員情報管理" in text.split("あなた> 提案が取り消された")[-1], "the procedure comes once all is done"


def test_crowdworks_facebook_sets_a_password_first(engine: Engine) -> None:
    text, _ = run(engine, JOURNEYS["crowdworks_facebook"])
    first_answer = text.split("あなた> Facebook")[1]
    assert "パスワードを更新する" in first_answer
    assert "退会をご希望する方はこちら" in text
