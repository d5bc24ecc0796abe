"""`taikai-bot flows check` names the file and state of every mistake in a flow file."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.__main__ import main
from bot.core.library.load import FlowsInvalid, load_library
from bot.core.library.yamlload import load_yaml
from tests.conftest import FLOWS_DIR


def broken_copy(tmp_path: Path, file: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    target = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, target)
    path = target / file
    data = load_yaml(path)
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def first_state(data: dict[str, Any]) -> str:
    return str(data["initial"])


def _unknown_target(data: dict[str, Any]) -> None:
    data["states"][first_state(data)]["choices"][0]["next"] = "no_such_state"


def _unreachable(data: dict[str, Any]) -> None:
    data["states"]["orphan"] = {
        "title": "孤立",
        "ask": "?",
        "choices": [{"id": "a", "label": "a", "next": data["initial"]}],
    }


def _dead_end(data: dict[str, Any]) -> None:
    state = data["states"][first_state(data)]
    state.pop("choices", None)
    state.pop("next", None)


def _missing_template(data: dict[str, Any]) -> None:
    data["states"][first_state(data)]["template"] = "no_such_template"


def _unknown_condition(data: dict[str, Any]) -> None:
    data["states"][first_state(data)]["choices"][0]["when"] = "no_such_condition"


def _unknown_fact(data: dict[str, Any]) -> None:
    data["states"][first_state(data)]["facts"] = ["X-NOT-A-FACT"]


def _long_label(data: dict[str, Any]) -> None:
    data["states"][first_state(data)]["choices"][0]["label"] = "あ" * 21


def _typo_key(data: dict[str, Any]) -> None:
    data["states"][first_state(data)]["askk"] = "typo"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_unknown_target, "has no state 'no_such_state'"),
        (_unreachable, "unreachable"),
        (_dead_end, "no way out"),
        (_missing_template, "template 'no_such_template' is not in templates.yaml"),
        (_unknown_condition, "unknown condition 'no_such_condition'"),
        (_unknown_fact, "fact 'X-NOT-A-FACT' is not in facts.yaml"),
        (_long_label, "longer than 20 characters"),
        (_typo_key, "askk"),
    ],
)
def test_each_mistake_is_reported_with_file_and_state(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    directory = broken_copy(tmp_path, "lancers.yaml", edit)
    with pytest.raises(FlowsInvalid) as caught:
        load_library(directory)
    text = str(caught.value)
    assert message in text
    assert "lancers.yaml: state '" in text


def test_a_fact_nobody_teaches_is_reported(tmp_path: Path) -> None:
    def add_fact(data: dict[str, Any]) -> None:
        data["facts"]["L-NEW-RULE"] = {"summary": "a new rule", "sources": ["article"]}

    directory = broken_copy(tmp_path, "facts.yaml", add_fact)
    with pytest.raises(FlowsInvalid, match="fact 'L-NEW-RULE' is not referenced by any reachable state"):
        load_library(directory)


def test_cli_check_passes_on_the_real_flows(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWS_DIR", str(FLOWS_DIR))
    assert main(["flows", "check"]) == 0
    assert "OK:" in capsys.readouterr().out


def test_cli_check_fails_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWS_DIR", str(broken_copy(tmp_path, "crowdworks.yaml", _unknown_target)))
    assert main(["flows", "check"]) == 1
    assert "crowdworks.yaml: state '" in capsys.readouterr().err


def test_graph_prints_mermaid(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWS_DIR", str(FLOWS_DIR))
    assert main(["flows", "graph", "lancers"]) == 0
    out = capsys.readouterr().out
    assert "stateDiagram-v2" in out
    assert "→@next" in out or "@next" in out


def test_a_missing_fixed_line_is_reported(tmp_path: Path) -> None:
    def drop_busy(data: dict[str, Any]) -> None:
        del data["texts"]["busy"]

    with pytest.raises(FlowsInvalid, match=r"lexicon\.yaml: texts\.busy: Field required"):
        load_library(broken_copy(tmp_path, "lexicon.yaml", drop_busy))


def test_a_fixed_line_with_a_placeholder_the_code_does_not_fill_is_reported(tmp_path: Path) -> None:
    def bad_placeholder(data: dict[str, Any]) -> None:
        data["texts"]["reask"] = "番号（1〜{counnt}）で答えてください。"

    with pytest.raises(FlowsInvalid, match=r"texts\.reask: unknown placeholder"):
        load_library(broken_copy(tmp_path, "lexicon.yaml", bad_placeholder))


def test_an_unknown_fixed_line_is_reported(tmp_path: Path) -> None:
    def extra(data: dict[str, Any]) -> None:
        data["texts"]["bussy"] = "typo"

    with pytest.raises(FlowsInvalid, match=r"texts\.bussy"):
        load_library(broken_copy(tmp_path, "lexicon.yaml", extra))


def test_typing_start_does_not_wipe_the_conversation(library: Any) -> None:
    assert library.vocabulary.command("start") is None


def test_a_loop_through_branching_routes_is_reported(tmp_path: Path) -> None:
    def loop(data: dict[str, Any]) -> None:
        always = {"when": "always"}
        data["states"]["route_a"] = {"title": "A", "route": [{**always, "next": "route_b"}, {"next": "route_b"}]}
        data["states"]["route_b"] = {"title": "B", "route": [{**always, "next": "route_a"}, {"next": "menu"}]}
        data["states"]["menu"]["choices"][0]["next"] = "route_a"

    with pytest.raises(FlowsInvalid, match="route loop: common:route_a → common:route_b → common:route_a"):
        load_library(broken_copy(tmp_path, "common.yaml", loop))
