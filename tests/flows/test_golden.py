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
from bot.core.messages import Checklist, ItemStatus, StartInput, Template, TextInput
from bot.core.session import Session

GOLDEN = Path(__file__).parent / "golden"
LATER = "⏰"  # 「⏰22」: twenty-two days pass and the user starts the chat again

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
        "相手の返事待ち",
        "ない",
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
        "ない",
        "いいえ",
        "保存した",
        "はい",
        "次へ",
        "次へ",
        "次へ",
        "状況",
        "進行中1が済んだ",
        "提案1が取り消された",
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
        "いいえ",
        "次へ",
        "次へ",
        "退会できた",
    ],
    # A client with a コンペ in 選定中, a project with 3 proposers and a task with works:
    # three items, each closed separately.
    "lancers_client_three_requests": [
        "ランサーズ",
        "その他",
        "はい",
        "発注者",
        "ある",
        "コンペ",
        "選定中",
        "次へ",
        "相手の返事待ち",
        "ある",
        "プロジェクト",
        "選定中",
        "はい",
        "作る",
        "田中",
        "ロゴ制作",
        "高橋",
        "別の方への文面も作る",
        "株式会社ABC",
        "前と同じ",
        "別の方への文面も作る",
        "伊藤",
        "前と同じ",
        "次へ",
        "終わった",
        "ある",
        "タスク",
        "1件以上ある",
        "次へ",
        "まだ・あとでやる",
        "ない",
        "ない",
        "ない",
        "いいえ",
        "保存した",
        "次へ",
        "次へ",
        "状況",
        "次へ",
        "依頼1が終わった",
        "状況",
        "依頼3が終わった",
        "退会できた",
    ],
    # A worker with two ongoing jobs: one still to finish, one waiting for the client; each closed on its own.
    "lancers_worker_two_jobs": [
        "ランサーズ",
        "稼げない",
        "それでも退会する",
        "退会の準備を進める",
        "受注者",
        "ある",
        "仕上げて完了する",
        "次へ",
        "まだ作業が残っている",
        "ある",
        "キャンセルをお願いする",
        "作る",
        "株式会社ABC",
        "記事作成",
        "佐藤",
        "次へ",
        "相手の返事待ち",
        "ない",
        "ない",
        "ない",
        "ない",
        "ない",
        "いいえ",
        "保存した",
        "いいえ",
        "次へ",
        "次へ",
        "次へ",
        "状況",
        "進行中2が済んだ",
        "状況",
        "あとで続ける",
    ],
    # 「両方」: CrowdWorks finishes while a Lancers payout is 待ち; the tax answer is asked once.
    "both_payout_waiting": [
        "両方",
        "もう使わない",
        "はい",
        "受注者",
        "ない",
        "ない",
        "ない",
        "ない",
        "1,000円以上ある",
        "出金を申請する",
        "まだ",
        "保存した",
        "はい",
        "次へ",
        "次へ",
        "次へ",
        "先にクラウドワークスへ",
        "退会の準備を進める",
        "メールアドレス",
        "ない",
        "ない",
        "ない",
        "ない",
        "保存した",
        "次へ",
        "次へ",
        "退会できた",
    ],
    # Issue 10's examples typed as people write them, through a whole Lancers journey (with 「違う」 undoing a reading).
    "typed_lancers_worker": [
        "ランサーズやめたい",
        "もう使わないので",
        "進めます",
        "受注者です",
        "まだ終わってない案件が1件あります",
        "キャンセルせずに最後までやります",
        "わかりました",
        "まだです",
        "ないです",
        "1件あります",
        "2時間くらい前に提案しました",
        "違う",
        "30分前",
        "撤回しました",
        "ないです",
        "納品待ちのものはありません",
        "関連サービスって何ですか？",
        "していません",
        "3500円残ってます",
        "手数料はいくら？",
        "出金します",
        "いつ振り込まれますか？",
        "振り込まれました！",
        "保存しました",
        "会社員じゃないです",
        "わかりました",
        "はい",
        "了解",
        "進行中1が済んだ",
        "退会できました",
    ],
    # Menu intents, 「わからない」 at the login help, a command inside a sentence, a hedge asked back, 「1」 as a count.
    "typed_menu_and_client": [
        "メールアドレスを忘れました",
        "ランサーズ",
        "わからない",
        "あ、間違えました。戻る",
        "メニューへ戻る",
        "両方やめたいです",
        "その他",
        "はい",
        "発注者",
        "たぶんあると思います",
        "ある",
        "タスク",
        "1",
        "わかりました",
    ],
    # A Lancers payout: the user asks for a reminder after the payday; it fires at the next chat start.
    "lancers_payout_reminder": [
        "ランサーズ",
        "もう使わない",
        "はい",
        "受注者",
        "ない",
        "ない",
        "ない",
        "ない",
        "1,000円以上ある",
        "出金を申請する",
        "まだ",
        "保存した",
        "いいえ",
        "次へ",
        "次へ",
        "次へ",
        "状況",
        "あとで続ける",
        "振込予定日のあと",
        "状況",
        "⏰22",
        "振り込まれた",
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
    session = session_after(engine, inputs[: inputs.index("違う") + 1])
    assert session.state == "proposal_age", "「違う」 right after a reading undoes it"
    text, _ = run(engine, inputs)
    assert "「1,000円以上ある」ですね" in text and "「1時間以上前」ですね" in text
    assert "振込手数料は" in text.split("あなた> 手数料はいくら？")[1].split("あなた>")[0]


def test_a_payout_reminder_fires_at_the_next_start_and_continues_the_flow(engine: Engine) -> None:
    text, _ = run(engine, JOURNEYS["lancers_payout_reminder"])
    after = text.split("（22日後")[1]
    assert "お知らせです" in after and "振り込まれていましたか" in after
    assert "会員情報管理" in after.split("あなた> 振り込まれた")[1], "then the withdrawal procedure"
