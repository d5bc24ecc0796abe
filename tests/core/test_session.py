"""Sessions: immutable updates, compact round trip, capped history."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path

import pytest

from bot.core.session import HISTORY_LIMIT, Session, SessionChanges, Step


def test_round_trip_keeps_everything() -> None:
    session = Session(
        flow="lancers",
        state="proposals",
        answers={"lancers": {"role": "worker", "ongoing": "yes"}},
        fields={"client_name": "山田"},
        filling="job_title",
        queue=("crowdworks",),
        history=(Step("lancers", "role", (("role", None),), ("lancers", "crowdworks")), Step("common", "menu")),
        updated=1_700_000_000,
    )
    assert Session.from_dict(json.loads(json.dumps(session.to_dict()))) == session


def test_with_answers_sets_and_removes_without_touching_the_original() -> None:
    session = Session("lancers", "role")
    changed = session.with_answers("lancers", {"role": "worker"})
    assert changed.answer("lancers", "role") == "worker"
    assert session.answer("lancers", "role") is None
    assert changed.with_answers("lancers", {"role": None}).answers == {}


def test_history_is_capped() -> None:
    session = Session("lancers", "role")
    for i in range(HISTORY_LIMIT * 3):
        session = session.push(Step("lancers", f"s{i}"))
    assert len(session.history) == HISTORY_LIMIT
    assert session.history[-1].state == f"s{HISTORY_LIMIT * 3 - 1}"


@pytest.mark.parametrize(
    "data", [{}, {"_": 99, "f": "x", "s": "y"}, {"_": 1, "f": "x"}, {"_": 1, "f": "a", "s": "b", "a": 3}]
)
def test_malformed_data_is_rejected_with_value_error(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Session.from_dict(data)


def test_but_refuses_a_field_that_does_not_exist() -> None:
    session = Session("common", "menu")
    with pytest.raises(TypeError, match="statee"):
        session.but(statee="x")  # type: ignore[call-arg]
    assert session.but(state="x").state == "x" and session.state == "menu"


def test_but_knows_every_field_with_its_type() -> None:
    """`SessionChanges` (what mypy checks `but` against) lists exactly the dataclass's fields."""
    hints = typing.get_type_hints(Session)
    assert typing.get_type_hints(SessionChanges) == {f.name: hints[f.name] for f in dataclasses.fields(Session)}


def test_a_misspelt_field_fails_type_checking(tmp_path: Path) -> None:
    from mypy import api

    sample = tmp_path / "sample.py"
    sample.write_text("from bot.core.session import Session\nSession('a', 'b').but(statee='x')\n")
    out, _, status = api.run([str(sample), "--no-incremental", "--follow-imports=silent"])
    assert status == 1 and 'Unexpected keyword argument "statee"' in out
