"""TextAnalysis with the real SudachiPy tokenizer on replies typed the way people type on LINE.

Each case states only what matters for it (polarity, aspect, question, hedge, unsure, main lemma,
quantities, contrast); the table is meant to grow from every misreading found.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.japanese.analysis import TextAnalysis, analyze
from bot.core.japanese.quantities import Quantity
from bot.language import analyzer_state, default_tokenizer

TOKENIZER = default_tokenizer()
Y, N = "yes", "no"

CASES: list[tuple[str, dict[str, Any]]] = [
    # --- a reason (〜ので／〜から) is not a second answer; a step of a sequence (〜て) is not 「わからない」
    ("もう使わないので退会します", {"polarity": Y, "contrast": False}),
    ("返事がないから、もう契約を終了しました", {"polarity": Y, "contrast": False}),
    ("パスワード忘れてログインできません", {"polarity": N, "unsure": False}),
    ("わからないので教えて", {"unsure": True}),
    # --- head-final: the main predicate decides, not the first yes/no-like word
    ("まだ終わってない案件が1件あります", {"polarity": Y, "main_lemma": "ある", "aspect": None, "q": [(1, "件")]}),
    ("納品待ちのものはありません", {"polarity": N, "main_lemma": "ある"}),
    ("キャンセルせずに最後までやります", {"polarity": Y, "main_lemma": "やる", "contrast": False}),
    ("キャンセルしないで最後までやります", {"polarity": Y, "main_lemma": "やる"}),
    ("まだです。ほかにもプロジェクトとタスクがあります", {"polarity": Y, "contrast": True}),
    ("提案中のはないです", {"polarity": N, "main_lemma": "ある"}),
    ("終わってない仕事はないです", {"polarity": N, "main_lemma": "ある"}),
    # --- conjugation and politeness: lemma of the predicate, polarity and tense apart
    ("保存しました", {"polarity": Y, "main_lemma": "保存する", "tense": "past"}),
    ("保存した", {"polarity": Y, "main_lemma": "保存する", "tense": "past"}),
    ("保存済みです", {"polarity": Y, "main_lemma": "保存する", "aspect": "done"}),  # 済み: the verb, done
    ("保存しておきました", {"polarity": Y, "main_lemma": "保存する", "tense": "past"}),
    ("退会できました", {"polarity": Y, "main_lemma": "退会できる", "tense": "past"}),
    ("退会できませんでした", {"polarity": N, "main_lemma": "退会できる", "tense": "past"}),
    ("振り込まれました！", {"polarity": Y, "main_lemma": "振り込む", "tense": "past"}),
    ("振込まれました", {"polarity": Y, "main_lemma": "振り込む"}),
    ("進めます", {"polarity": Y, "main_lemma": "進める", "tense": "nonpast"}),
    ("進めて", {"polarity": Y, "main_lemma": "進める"}),
    ("していません", {"polarity": N, "main_lemma": "する"}),
    ("してないです", {"polarity": N, "main_lemma": "する"}),
    ("やってないっす", {"polarity": N, "main_lemma": "やる"}),
    ("出金します", {"polarity": Y, "main_lemma": "出金する"}),
    ("出金しました", {"polarity": Y, "main_lemma": "出金する", "tense": "past"}),
    ("両方やめたいです", {"polarity": Y, "main_lemma": "やめる"}),
    ("お願いします", {"polarity": Y, "main_lemma": "お願いする"}),
    ("了解しました", {"polarity": Y, "main_lemma": "了解する"}),
    ("わかりました", {"polarity": Y, "main_lemma": "わかる", "unsure": False}),
    ("ランサーズにログインできないんです", {"polarity": N, "main_lemma": "ログインできる"}),
    ("今は使ってないです", {"polarity": N, "main_lemma": "使う"}),
    ("もう使わない", {"polarity": N, "main_lemma": "使う", "aspect": None}),
    # --- yes / no words and interjections
    ("はい", {"polarity": Y}),
    ("ハイ", {"polarity": Y}),
    ("ﾊｲ", {"polarity": Y}),
    ("はーい", {"polarity": Y}),
    ("うん", {"polarity": Y}),
    ("うん、ある", {"polarity": Y, "main_lemma": "ある"}),
    ("ええ", {"polarity": Y}),
    ("そうです", {"polarity": Y}),
    ("そうじゃないです", {"polarity": N}),
    ("おっけー", {"polarity": Y}),
    ("OK!", {"polarity": Y}),
    ("了解です", {"polarity": Y}),
    ("いいえ", {"polarity": N}),
    ("ううん", {"polarity": N}),
    ("いや", {"polarity": N}),
    ("違います", {"polarity": N, "main_lemma": "違う"}),
    ("なし", {"polarity": N}),
    ("特になし", {"polarity": N}),
    ("特にないです", {"polarity": N, "main_lemma": "ある"}),
    ("ないです", {"polarity": N, "main_lemma": "ある"}),
    ("ないっす", {"polarity": N}),
    ("ないでーす", {"polarity": N}),
    ("ありません。", {"polarity": N, "main_lemma": "ある"}),
    ("ありませんでした", {"polarity": N, "tense": "past"}),
    ("なかったです", {"polarity": N, "tense": "past"}),
    ("ございません", {"polarity": N}),
    ("何もないです", {"polarity": N, "is_question": False}),
    ("あります", {"polarity": Y, "main_lemma": "ある"}),
    ("あるよ", {"polarity": Y}),
    ("あり", {"polarity": Y}),
    ("会社員じゃないです", {"polarity": N, "main_lemma": "会社員"}),
    ("会社員ではありません", {"polarity": N, "main_lemma": "会社員"}),
    ("会社員です", {"polarity": None, "main_lemma": "会社員"}),
    ("ランサーズです", {"polarity": None, "main_lemma": "ランサーズ"}),
    ("大丈夫です", {"polarity": None}),
    ("ありがとう", {"polarity": None}),
    ("いいです", {"polarity": None}),
    ("何件かあります", {"polarity": Y, "is_question": False}),
    # --- しかない / obligation: not a plain negation
    ("やるしかない", {"polarity": Y, "main_lemma": "やる"}),
    ("1件しかないです", {"polarity": Y, "main_lemma": "ある", "q": [(1, "件")]}),
    ("出金しないといけない", {"polarity": Y, "main_lemma": "出金する"}),
    ("保存しなきゃ", {"polarity": Y, "main_lemma": "保存する"}),
    # --- まだ / もう: aspect
    ("まだ", {"polarity": N, "aspect": "not_yet"}),
    ("まだです", {"polarity": N, "aspect": "not_yet"}),
    ("まだなんです", {"polarity": N, "aspect": "not_yet"}),
    ("まだっす", {"polarity": N, "aspect": "not_yet"}),
    ("振込はまだです", {"polarity": N, "aspect": "not_yet"}),
    ("まだ保存してないです", {"polarity": N, "aspect": "not_yet", "main_lemma": "保存する"}),
    ("終わってません", {"polarity": N, "aspect": "not_yet"}),
    ("まだ全部は終わってない", {"polarity": N, "aspect": "not_yet"}),
    ("まだあります", {"polarity": Y, "aspect": None}),
    ("もう終わった", {"polarity": Y, "aspect": "done", "tense": "past"}),
    ("もう済んだ", {"polarity": Y, "aspect": "done"}),
    ("もう退会しました", {"polarity": Y, "aspect": "done", "main_lemma": "退会する"}),
    ("もう終わってます", {"polarity": Y, "aspect": "done"}),
    ("終わりました", {"polarity": Y, "aspect": "done"}),
    ("完了しました", {"polarity": Y, "aspect": "done"}),
    # --- contrast: the last clause decides, the conflict is flagged
    ("はい、でもまだです", {"polarity": N, "aspect": "not_yet", "contrast": True}),
    ("ないです、あ、やっぱりあります", {"polarity": Y, "contrast": True}),
    ("ないです😅やっぱりあります", {"polarity": Y, "contrast": True}),
    ("ありますが、まだです", {"polarity": N, "contrast": True}),
    ("あります、2件", {"polarity": Y, "contrast": False, "q": [(2, "件")]}),
    ("はいあります", {"polarity": Y, "contrast": False}),
    ("いいえ、大丈夫です", {"polarity": N, "contrast": False}),
    # --- questions are not answers
    ("関連サービスって何ですか？", {"is_question": True, "question_word": "何", "polarity": None}),
    ("関連サービスってなに", {"is_question": True, "question_word": "何"}),
    ("いつ振り込まれますか？", {"is_question": True, "question_word": "いつ", "polarity": None}),
    ("いつ振り込まれるの", {"is_question": True, "question_word": "いつ"}),
    ("手数料はいくら？", {"is_question": True, "question_word": "いくら"}),
    ("手数料はいくらですか", {"is_question": True, "question_word": "いくら"}),
    ("どこで確認できますか", {"is_question": True, "question_word": "どこ"}),
    ("どうやって退会するの", {"is_question": True, "question_word": "どうやって"}),
    ("なんでできないの", {"is_question": True, "question_word": "なんで"}),
    ("なぜですか", {"is_question": True, "question_word": "なぜ"}),
    ("ログインできますか", {"is_question": True, "polarity": None, "main_lemma": "ログインできる"}),
    ("報酬も入る？", {"is_question": True, "polarity": None}),
    ("はい?", {"is_question": True}),
    ("ありますか", {"is_question": True, "polarity": None}),
    # --- hedges lower confidence; the polarity is still read
    ("たぶんある", {"polarity": Y, "hedge": True}),
    ("多分ないです", {"polarity": N, "hedge": True}),
    ("あるかも", {"polarity": Y, "hedge": True}),
    ("あるかもしれません", {"polarity": Y, "hedge": True}),
    ("あると思います", {"polarity": Y, "hedge": True, "main_lemma": "ある"}),
    ("登録してないと思う", {"polarity": N, "hedge": True, "main_lemma": "登録する"}),
    ("なかったと思う", {"polarity": N, "hedge": True, "tense": "past"}),
    ("あるような気がします", {"polarity": Y, "hedge": True}),
    ("あるかな", {"polarity": Y, "hedge": True, "is_question": False}),
    ("おそらく終わってます", {"hedge": True}),
    ("終わってるはずです", {"hedge": True}),
    ("あります", {"hedge": False}),
    # --- unsure is not no
    ("わからない", {"unsure": True, "polarity": None}),
    ("分からないです", {"unsure": True, "polarity": None}),
    ("わかんない", {"unsure": True, "polarity": None}),
    ("わかりません", {"unsure": True, "polarity": None}),
    ("知らない", {"unsure": True, "polarity": None}),
    ("覚えてない", {"unsure": True, "polarity": None}),
    ("忘れました", {"unsure": True, "polarity": None}),
    ("忘れちゃった", {"unsure": True}),
    ("さあ", {"unsure": True}),
    # --- numbers with counters
    ("3500円残ってます", {"polarity": Y, "main_lemma": "残る", "q": [(3500, "円")]}),
    ("３，５００円です", {"q": [(3500, "円")]}),
    ("三千五百円くらい", {"q": [(3500, "円")]}),
    ("2件あります", {"polarity": Y, "q": [(2, "件")]}),
    ("2時間くらい前に提案しました", {"polarity": Y, "main_lemma": "提案する", "q": [(2, "時間")]}),
    ("30分前", {"q": [(30, "分")]}),
    ("1", {"polarity": None, "main_lemma": None, "q": [(1, None)]}),
    ("２", {"q": [(2, None)]}),
    ("0件", {"q": [(0, "件")]}),
    ("半年くらい使ってない", {"polarity": N, "q": [(6, "か月")]}),
    ("昨日提案した", {"polarity": Y, "q": [(1, "日")]}),
    # --- LINE style: no punctuation, spaces, emoji, typos
    ("はい あります", {"polarity": Y}),
    ("あります！！", {"polarity": Y}),
    ("ありますー", {"polarity": Y}),
    ("ない笑", {"polarity": N}),
    ("ないです🙇‍♀️", {"polarity": N}),
    ("保存しましたー", {"polarity": Y, "main_lemma": "保存する"}),
]


def run(text: str) -> TextAnalysis:
    return analyze(text, TOKENIZER)


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reply(text: str, expected: dict[str, Any]) -> None:
    got = run(text)
    for key, want in expected.items():
        if key == "q":
            assert [(q.value, q.unit) for q in got.quantities] == want, got
        else:
            assert getattr(got, key) == want, f"{key}: {getattr(got, key)!r} != {want!r} in {got}"


def test_cases_are_many_and_distinct() -> None:
    texts = [text for text, _ in CASES]
    assert len(set(texts)) >= 80


def test_normalized_reuses_understand() -> None:
    assert run("ハイ。").normalized == "はい"
    assert run("ﾃｽﾄです").text == "テストです"


def test_lemmas_fold_spelling_and_kana() -> None:
    lemmas = run("ふりこまれました").lemmas | run("振込まれました").lemmas
    assert "振り込む" in lemmas
    assert {"ある", "有る"} <= run("あります").lemmas
    assert "ランサーズ" in run("ランサーズにログインできない").lemmas


def test_analysis_is_cached_and_state_reported() -> None:
    from bot.language import analyze_text

    assert analyze_text("はい") is analyze_text("はい")
    state = analyzer_state()
    assert state.loaded and state.cache_hits >= 1 and state.load_seconds >= 0


def test_empty_and_symbols() -> None:
    for text in ("", "   ", "。。。", "🙂", "\x00\x01", "\ud800"):
        got = run(text)
        assert got.polarity is None and not got.quantities


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(), max_size=80))
def test_never_raises_and_is_deterministic(text: str) -> None:
    first = run(text)
    assert run(text) == first
    assert first.polarity in (None, "yes", "no")
    assert first.tense in ("past", "nonpast")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(["まだ", "ない", "です", "あり", "ます", "はい", "、", "？", "3500円", "しか", "と思う", "😅"]),
        max_size=20,
    ).map("".join)
)
def test_japanese_fragments_never_raise(text: str) -> None:
    assert run(text) == run(text)


def test_long_input_is_bounded() -> None:
    text = ("まだ終わってない案件が1件あります、でも3,500円は振り込まれました😅\n" * 60)[:2000]
    run(text)
    started = time.perf_counter()
    got = run(text)
    assert time.perf_counter() - started < 0.25
    assert len(got.quantities) >= 60
    assert Quantity(3500, "円") in got.quantities


def test_believing_it_done_or_not_being_sure_is_a_hedge() -> None:
    """「申請したつもり」「できてるか自信ない」: the user is not sure it is done (issue 20, everyday forms)."""
    from bot.language import analyze_text

    for text in ("申請したつもりです", "できてるか自信ないです"):
        analysis = analyze_text(text)
        assert analysis is not None and analysis.hedge, text
    plain = analyze_text("申請しました")
    assert plain is not None and not plain.hedge


def test_mou_ii_and_ima_wa_ii_decline() -> None:
    """「もういいです」「今はいいです」 decline; a bare 「いいです」 stays undecided (fine, or no thanks)."""
    from bot.language import analyze_text

    for text in ("もういいです", "今はいいです"):
        analysis = analyze_text(text)
        assert analysis is not None and analysis.polarity == "no", text
    bare = analyze_text("いいです")
    assert bare is not None and bare.polarity is None
