"""The engine on the public corpus of typed replies (corpus.yaml): shares of correct / asked back / wrong.

The development targets of issue 20: correct ≥ 95 % and wrong ≤ 0.5 % (docs/understanding.md has the
figures). Add every misreading found anywhere to the corpus; fix it in the rules or in the flows'
`examples`, never by loosening these. The development conversations written for the issue's examples must
end right, and three in four checklist facts of all development conversations must be right.
"""

from __future__ import annotations

from pathlib import Path

from bot.core.dialogue.engine import Engine
from bot.core.library.model import Library
from bot.evaluation import Case, evaluate, grade, load_corpus, report, situation, summary

CORPUS = Path(__file__).parent / "corpus.yaml"
CORRECT_FLOOR = 0.95
WRONG_CEILING = 0.005


def test_the_corpus_is_large_and_covers_the_flows() -> None:
    cases = load_corpus(CORPUS)
    assert len(cases) >= 400
    assert len({case.at for case in cases}) >= 60


def test_replies_are_understood_at_least_as_well_as_measured(engine: Engine) -> None:
    graded = evaluate(engine, load_corpus(CORPUS))
    shares = summary(graded)["all"]
    print(report(graded, show_failures=False))
    assert shares["correct"] >= CORRECT_FLOOR, report(graded)
    assert shares["wrong"] <= WRONG_CEILING, report(graded)


def test_the_issue_s_examples_are_read_right(engine: Engine) -> None:
    examples = {
        ("lancers:ongoing", "まだ終わってない案件が1件あります"),
        ("lancers:csv", "保存しました"),
        ("lancers:procedure", "退会できました"),
        ("lancers:payout_fix", "振り込まれました！"),
        ("lancers:reregister", "進めます"),
        ("lancers:balance_payout", "出金します"),
        ("lancers:balance", "3500円残ってます"),
        ("lancers:proposal_age", "2時間くらい前に提案しました"),
        ("common:menu", "ランサーズにログインできないんです"),
        ("common:menu", "両方やめたいです"),
        ("common:menu", "メールアドレスを忘れました"),
        ("lancers:related", "関連サービスって何ですか？"),
    }
    graded = [g for g in evaluate(engine, load_corpus(CORPUS)) if (g.case.at, g.case.text) in examples]
    assert len(graded) >= len(examples)
    assert all(g.verdict == "correct" for g in graded), [(g.case.text, g.got) for g in graded if g.verdict != "correct"]


def test_every_case_names_a_real_question_and_choice(library: Library) -> None:
    """When flows/ change (a state renamed, a choice moved), the corpus must follow."""
    special = {"@ask", "@faq", "@unsure", "@back", "@restart", "@help", "@status", "@erase"}
    for case in load_corpus(CORPUS):
        state = library.state(case.at)
        assert state is not None, case
        if case.expect not in special:
            assert case.expect.removeprefix("@menu:") in [c.id for c in state.choices], case


def test_the_development_conversations_end_with_the_right_checklist(engine: Engine) -> None:
    from bot.evaluation import conversations

    outcomes = conversations.evaluate(engine, conversations.load(Path(__file__).parent / "conversations.yaml"))
    written_here = [o for o in outcomes if o.persona.id.startswith("dev-")]  # the issue's own examples
    assert len(written_here) >= 4
    assert all(o.right and not o.stopped for o in written_here), conversations.report(outcomes)
    facts = [ok for o in outcomes for _, ok, _ in o.checks]
    assert sum(facts) / len(facts) >= 0.75, conversations.report(outcomes)  # the moved held-out ones too


def test_a_case_is_graded_where_its_button_is_offered(engine: Engine) -> None:
    """「出金を申請した」 at the list of what is left exists only while the payout line is open: a case that
    expects it is graded with that line open, not against a list that never showed the button."""
    case = Case("crowdworks:pending", "出金申請した", "balance_done", "lemma")
    assert grade(engine, case).verdict == "correct"
    assert situation("crowdworks:pending", engine.library, "balance_done").answers["crowdworks"]["balance"] == "yes"
    assert "balance" not in situation("crowdworks:pending").answers["crowdworks"]  # without the case: as before
