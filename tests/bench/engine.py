"""The engine alone (turns per second, no I/O at all) and the start-up time of `taikai-bot chat`."""

from __future__ import annotations

import os
import select
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bot.core.dialogue.engine import Engine
from bot.core.library.model import Library
from bot.core.messages import Inbound
from bot.core.session import Session
from bot.store import codec
from tests.bench.workload import Step

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class EngineFigures:
    turns: int
    seconds: float
    turns_per_second: float
    with_codec_per_second: float  # also decoding and encoding the session each turn, as a store would


def engine_alone(library: Library, paths: list[list[Step]], min_turns: int, min_seconds: float) -> EngineFigures:
    """Replay the journeys through `Engine.handle` until both `min_turns` and `min_seconds` are reached."""
    engine = Engine(library)
    scripts: list[list[Inbound]] = [[step.inbound() for step in path] for path in paths]
    for script in scripts[:4]:  # warm-up: first calls fill caches and the interpreter's inline caches
        _replay(engine, script, codec_too=False)
    rate = {}
    for codec_too in (False, True):
        turns, started = 0, time.perf_counter()
        for _ in range(1_000_000):
            for script in scripts:
                turns += _replay(engine, script, codec_too)
            elapsed = time.perf_counter() - started
            if (turns >= min_turns and elapsed >= min_seconds) or elapsed > 60:
                break
        rate[codec_too] = (turns, elapsed)
    turns, seconds = rate[False]
    return EngineFigures(turns, seconds, turns / seconds, rate[True][0] / rate[True][1])


def _replay(engine: Engine, script: list[Inbound], codec_too: bool) -> int:
    session: Session | None = None
    now = 1_764_000_000
    for inbound in script:
        now += 20
        if codec_too and session is not None:
            session = codec.decode(codec.encode(session))
        session = engine.handle(session, inbound, now).session
    return len(script)


@dataclass(frozen=True)
class StartupFigures:
    runs: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def worst(self) -> float:
        return max(self.runs)


def chat_command() -> list[str]:
    beside = Path(sys.executable).with_name("taikai-bot")
    found = str(beside) if beside.exists() else shutil.which("taikai-bot")
    return [found, "chat"] if found else [sys.executable, "-m", "bot", "chat"]


def chat_startup(runs: int, within: float = 30.0) -> StartupFigures:
    """Seconds from launching `taikai-bot chat` (embedded store, as `make chat`) to its first line of output."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            chat_command(), cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        try:
            assert process.stdout is not None and process.stdin is not None
            line = _first_line(process.stdout.fileno(), started + within)
            times.append(time.perf_counter() - started)
            if not line.strip():
                raise RuntimeError("taikai-bot chat's first line is empty")
            process.stdin.close()
            process.wait(timeout=within)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=5)
    return StartupFigures(times)


def _first_line(fd: int, deadline: float) -> bytes:
    """Bytes up to the first newline on `fd`, waiting no later than `deadline` (perf_counter seconds)."""
    seen = b""
    for _ in range(100_000):
        left = deadline - time.perf_counter()
        ready, _, _ = select.select([fd], [], [], max(0.0, left))
        if not ready:
            raise RuntimeError("taikai-bot chat printed no line in time")
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        seen += chunk
        if b"\n" in seen:
            break
    return seen.split(b"\n", 1)[0]
