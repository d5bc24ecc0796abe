"""Named conditions compile once and evaluate over answers; mistakes name the condition."""

from __future__ import annotations

import pytest

from bot.core.library.conditions import ConditionError, Facts, compile_conditions
from bot.core.messages import ItemStatus


def facts(answers: dict[str, str], statuses: tuple[ItemStatus, ...] = ()) -> Facts:
    return Facts(answers, lambda: statuses)


def test_values_lists_missing_and_combinators() -> None:
    compiled = compile_conditions(
        {
            "is_worker": {"role": ["worker", "both"]},
            "unanswered": {"role": [None]},
            "open_job": {"all": ["is_worker", {"ongoing": "yes"}]},
            "not_worker": {"not": "is_worker"},
            "either": {"any": ["open_job", "unanswered"]},
        }
    )
    assert compiled["is_worker"](facts({"role": "both"}))
    assert not compiled["is_worker"](facts({"role": "client"}))
    assert compiled["unanswered"](facts({}))
    assert compiled["open_job"](facts({"role": "worker", "ongoing": "yes"}))
    assert not compiled["open_job"](facts({"role": "worker", "ongoing": "done"}))
    assert compiled["not_worker"](facts({"role": "client"}))
    assert compiled["either"](facts({}))


def test_builtins_look_at_the_checklist() -> None:
    compiled = compile_conditions({})
    assert compiled["checklist_clear"](facts({}, (ItemStatus.DONE,)))
    assert not compiled["checklist_clear"](facts({}, (ItemStatus.DONE, ItemStatus.UNKNOWN)))
    assert compiled["checklist_pending"](facts({}, (ItemStatus.PENDING,)))
    assert compiled["always"](facts({}))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"a": "b"}, "unknown condition 'b'"),
        ({"a": {"all": ["a"]}}, "refers to itself"),
        ({"a": {"any": "x"}}, "needs a list"),
        ({"a": 3}, "must be a name or a mapping"),
    ],
)
def test_mistakes_are_reported_by_name(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConditionError, match=message):
        compile_conditions(raw)
