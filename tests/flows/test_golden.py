"""Golden transcripts of the main journeys, typed as a person would (free text, not button taps).

A transcript changes when the flows' wording changes: review the diff, then regenerate with
`UPDATE_GOLDEN=1 pytest tests/flows/test_golden.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.channels.terminal import render_all
from bot.core.dialogue.engine import Engine
from bot.core.messages import Checklist, ItemStatus, StartInput, Template, TextInput
from bot.core.session import Session
from tests.flows.journeys import JOURNEYS, LATER

GOLDEN = Path(__file__).parent / "golden"


def run(engine: Engine, inputs: list[str]) -> tuple[str, list[Template]]:
    session = None
    now = 1_764_000_000
    turn = engine.handle(session, StartInput(), now)
    parts = [render_all(turn.replies)]
    templates: list[Template] = []
    for text in inputs:
        now += 20
        if text.startswith(LATER):  # days pass, then the user opens `taikai-bot chat` again
            days = int(text.removeprefix(LATER))
            now += days * 86_400
            turn = engine.handle(turn.session, StartInput(), now)
            parts.append(f"（{days}日後、taikai-bot chat をもう一度開く）")
            parts.append(render_all(turn.replies))
            continue
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
    assert "会員情報管理" in text.split("あなた> 提案1が取り消された")[-1], "the procedure comes once all is done"


def test_crowdworks_facebook_sets_a_password_first(engine: Engine) -> None:
    text, _ = run(engine, JOURNEYS["crowdworks_facebook"])
    first_answer = text.split("あなた> Facebook")[1]
    assert "パスワードを更新する" in first_answer
    assert "退会をご希望する方はこちら" in text


def session_after(engine: Engine, inputs: list[str]) -> Session:
    turn = engine.handle(None, StartInput(), 1_764_000_000)
    for text in inputs:
        turn = engine.handle(turn.session, TextInput(text), 1_764_000_000)
    assert turn.session is not None
    return turn.session


def checklist_after(engine: Engine, inputs: list[str]) -> Checklist:
    turn = engine.handle(None, StartInput(), 1_764_000_000)
    for text in inputs:
        turn = engine.handle(turn.session, TextInput(text), 1_764_000_000)
    found = [r for r in turn.replies if isinstance(r, Checklist)]
    assert found, "the last input must show 「状況」"
    return found[-1]


def test_a_client_s_three_requests_are_three_lines_each_closed_on_its_own(engine: Engine) -> None:
    inputs = JOURNEYS["lancers_client_three_requests"]
    at_pending = checklist_after(engine, inputs[: inputs.index("状況") + 1])
    requests = [item for item in at_pending.items if item.label.startswith("依頼中の仕事")]
    assert [item.status for item in requests] == [ItemStatus.WAITING, ItemStatus.DONE, ItemStatus.PENDING]
    assert "コンペ" in requests[0].label and "ロゴ制作" in requests[1].label and "タスク" in requests[2].label
    after_first = checklist_after(engine, inputs[: inputs.index("依頼1が終わった") + 2])
    assert next(i.status for i in after_first.items if i.label.startswith("依頼中")) is ItemStatus.DONE
    text, templates = run(engine, inputs)
    assert [t.name for t in templates] == ["decline_proposers"] * 3, "one message per proposer"
    assert templates[1].body.startswith("株式会社ABC ご担当者様"), "a company is not addressed with 様 alone"
    assert (
        "選定中のコンペは、キャンセルできません" in text
        and "支払い管理" not in text.split("あなた> 選定中")[1].split("あなた>")[1]
    )
    assert "会員情報管理" in text.split("あなた> 依頼3が終わった")[-1]


def test_a_worker_s_two_ongoing_jobs_have_their_own_status(engine: Engine) -> None:
    inputs = JOURNEYS["lancers_worker_two_jobs"]
    first = checklist_after(engine, inputs[: inputs.index("状況") + 1])
    jobs = [item for item in first.items if item.label.startswith("進行中の仕事")]
    assert [item.status for item in jobs] == [ItemStatus.PENDING, ItemStatus.WAITING]
    assert "記事作成" in jobs[1].label
    second = checklist_after(engine, inputs[: inputs.index("進行中2が済んだ") + 2])
    assert [i.status for i in second.items if i.label.startswith("進行中")] == [ItemStatus.PENDING, ItemStatus.DONE]


def test_both_platforms_reuse_the_tax_answer_and_say_what_is_still_waiting(engine: Engine) -> None:
    inputs = JOURNEYS["both_payout_waiting"]
    session = session_after(engine, inputs)
    assert session.flow == "common" and session.state == "finish_waiting"
    assert session.answers["crowdworks"]["withdrawn"] == "yes" and session.answers["lancers"]["payout"] == "wait"
    text, _ = run(engine, inputs)
    cw_part = text.split("あなた> 先にクラウドワークスへ")[1]
    assert "年末調整を受けていますか" not in cw_part, "the tax question is asked once for both platforms"
    assert "ランサーズはまだ退会できていません" in text.split("あなた> 退会できた")[-1]


def test_typed_replies_are_read_by_meaning_and_the_reading_is_said(engine: Engine) -> None:
    inputs = JOURNEYS["typed_lancers_worker"]
    session = session_after(engine, inputs[: inputs.index("まだ終わってない案件が1件あります") + 1])
    assert session.answers["lancers"]["ongoing"] == "yes", "the main predicate あります decides, not a leading まだ"
    session = session_after(engine, inputs[: inputs.index("戻る") + 1])
    assert session.state == "proposal_age", "「戻る」 right after a reading undoes it"
    text, _ = run(engine, inputs)
    assert "「1,000円以上ある」ですね" in text and "「1時間以上前」ですね" in text
    assert "振込手数料は" in text.split("あなた> 手数料はいくら？")[1].split("あなた>")[0]


def test_a_payout_reminder_fires_at_the_next_start_and_continues_the_flow(engine: Engine) -> None:
    text, _ = run(engine, JOURNEYS["lancers_payout_reminder"])
    after = text.split("（22日後")[1]
    assert "お知らせです" in after and "振り込まれていましたか" in after
    assert "会員情報管理" in after.split("あなた> 振り込まれた")[1], "then the withdrawal procedure"
