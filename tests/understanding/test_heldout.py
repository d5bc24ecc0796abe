"""The held-out set (heldout/): frozen, valid against the flows, and reported by `understand eval`.

No target is asserted on it: it measures what the rules were not tuned to (docs/understanding.md has its
figures). Its files are pinned by checksum, so an edit to make a case pass fails here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.core.library.model import Library
from bot.evaluation import STANDARD_SETS, load_corpora

HELDOUT = Path(__file__).parent / "heldout"
ROOT = Path(__file__).resolve().parents[2]
SPECIAL = {"@ask", "@faq", "@unsure", "@back", "@restart", "@help", "@status", "@erase"}


def test_the_heldout_files_are_unchanged() -> None:
    for line in (HELDOUT / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((HELDOUT / name).read_bytes()).hexdigest() == digest, f"{name} was edited"


def test_the_heldout_set_is_large_and_names_real_questions(library: Library) -> None:
    cases = load_corpora(ROOT / p for p in STANDARD_SETS["held-out"])
    assert len(cases) >= 1000 and len({c.at for c in cases}) >= 100
    for case in cases:
        state = library.state(case.at)
        assert state is not None, case
        if case.expect not in SPECIAL:
            assert case.expect.removeprefix("@menu:") in [c.id for c in state.choices], case


def test_eval_reports_both_sets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["understand", "eval"]) == 0
    out = capsys.readouterr().out
    assert "## development (" in out and "## held-out (" in out
    assert out.count("ALL ") == len(STANDARD_SETS)


def test_the_blind_development_set_names_real_questions(library: Library) -> None:
    cases = load_corpora(ROOT / p for p in STANDARD_SETS["development, written blind"])
    assert len(cases) >= 600
    for case in cases:
        state = library.state(case.at)
        assert state is not None, case
        if case.expect not in SPECIAL:
            assert case.expect.removeprefix("@menu:") in [c.id for c in state.choices], case
