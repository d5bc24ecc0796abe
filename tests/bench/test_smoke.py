"""The benchmark's smoke mode (`python -m tests.bench --smoke`, ~12 s) runs and every figure comes out sane.

This keeps the benchmark from rotting. It asserts no timing target (those are for `make bench` on a
quiet machine, see docs/benchmark.md): only that each measurement happened and means something.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_smoke_run_produces_sane_figures(redis_url: str, tmp_path: Path) -> None:
    figures_file = tmp_path / "figures.json"
    env = {**os.environ, "REDIS_URL": redis_url}  # the Redis the test suite found or started
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--smoke", "--json", str(figures_file)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "full / echo" in done.stdout and "two workers / one" in done.stdout, "the table was printed"
    f = json.loads(figures_file.read_text(encoding="utf-8"))
    assert f["failures"] == []

    for run in (f["full"], f["echo"], f["full_2_workers"]):  # 1, 2, 6: throughput at saturation
        assert run["events_per_s"] > 0 and run["events_in_window"] > 0
        assert run["lost"] == 0 and run["bad_status"] == 0 and run["unexpected_replies"] == 0
        assert 0 < run["server_cpu_us_per_event"] < 1_000_000 and run["generator_cores"] > 0
    headline = f["headline"]
    assert headline["full_over_echo"] > 0 and headline["two_over_one_worker"] > 0

    latency = f["latency"]  # 3
    assert latency["replies"] == latency["events"] > 0 and latency["lost"] == 0
    assert 0 < latency["p50_ms"] <= latency["p95_ms"] <= latency["p99_ms"] <= latency["max_ms"]

    redis = f["redis"]  # 4
    assert redis["turns"] > 0 and 1 <= redis["commands_per_turn"] <= 10
    assert redis["by_command_per_turn"].get("evalsha", 0) > 0, "the turns' script calls were counted"
    for memory in (redis["session_short"], redis["session_long"], redis["session_longer"]):
        assert 0 < memory["value_bytes"] < memory["session_bytes"] < 64 * 1024 and memory["seen_bytes"] > 0
    assert redis["session_short"]["turns"] < redis["session_long"]["turns"] < redis["session_longer"]["turns"]

    assert f["engine"]["turns_per_s"] > 0 and f["engine"]["with_codec_turns_per_s"] > 0  # 5
    assert 0 < f["startup"]["median_s"] < 30
    assert f["sink"]["reply"] >= f["full"]["events_in_window"] + f["echo"]["events_in_window"]
    assert set(f["targets"]) >= {"full_over_echo", "latency_p99_ms", "redis_commands_per_turn", "first_prompt_s"}


@pytest.mark.slow
def test_reminder_fault_run_loses_and_doubles_nothing(redis_url: str) -> None:
    """`python -m tests.bench.reminder_faults`, small: a 429 spell, refused and answer-lost pushes."""
    env = {**os.environ, "REDIS_URL": redis_url}
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.reminder_faults", "--count", "60", "--spell", "0.5", "--refuse-every",
         "7", "--lose-every", "5"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    figures = dict(line.split(None, 1) for line in done.stdout.splitlines() if line.strip())
    assert figures["users_reached"] == "60" and figures["lost_users"] == "0" and figures["duplicate_users"] == "0"
    assert "409" in figures["push_statuses"], "a push whose answer was lost met its retry key"
