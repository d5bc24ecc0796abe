"""`python -m tests.bench [--smoke] [--json PATH] [--rate N]`: the benchmark of issue 6, in one run.

1. full LINE path events/s at saturation on one uvicorn worker;  2. the echo floor on the same stack
and full/echo;  3. latency p50/p95/p99 at a fixed offered rate;  4. Redis commands per turn and bytes
per session after a short and a long conversation;  5. the engine alone and the start-up time of
`taikai-bot chat`;  6. two workers vs one on the same Redis.

The echo server, the full server and the full server with a second one beside it run side by side and
their saturation windows alternate in rounds (echo, full, two servers; × 6): full/echo and two/one are
taken within each round and their medians reported, so a slow spell of the machine hits both sides of a
ratio alike. CPU used by other processes during the windows is measured too (/proc/stat) and reported.

CPU placement (when there are at least two CPUs): the echo and the full server run on the first CPU,
this process (load generator + fake LINE API) on the second, and a Redis this run starts goes with the
generator; item 6's second server runs on the second CPU. The engine and start-up figures are taken
first, while nothing else of the benchmark runs.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from bot.core.library.load import load_library
from bot.core.library.model import Library
from tests.bench import report, servers
from tests.bench.engine import chat_startup, engine_alone
from tests.bench.loadgen import LoadGenerator, RunStats
from tests.bench.redisenv import (
    RedisEnv,
    command_cost,
    commandstats,
    redis_cpu,
    redis_env,
    session_memory,
)
from tests.bench.sink import Sink
from tests.bench.workload import Step, Users, build_users, journeys
from tests.channels.line import webhooks

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
NOISY = 0.15  # CPUs' worth of other processes' use during the windows above which the figures are flagged


@dataclass(frozen=True)
class Plan:
    """Sizes of one run; `--smoke` shrinks every one of them."""

    journeys: int = 64
    users: int = 1500  # per server worker
    concurrency: int = 64  # users in flight per server worker
    connections: int = 16  # generator connections per server worker
    warmup: float = 2.0
    window: float = 3.0  # one saturation window
    rounds: int = 6  # rounds of windows (echo, full, two servers); medians are reported
    max_rate: float = 2500.0  # events/s per worker that the prebuilt scripts allow for
    rate: float = 200.0
    latency_seconds: float = 15.0
    engine_turns: int = 50_000
    engine_seconds: float = 3.0
    startup_runs: int = 5
    memory_users: int = 10
    short_turns: int = 10
    long_turns: int = 200  # and twice as many, to show where the size levels off
    typed: bool = False  # every event typed as people write (the analyzer on every turn), none tapped

    @property
    def steps(self) -> int:
        """Events prebuilt per user: enough for the warm-up and every window at `max_rate`."""
        seconds = self.warmup + self.rounds * self.window
        return math.ceil(self.max_rate * seconds / self.users) + 4


SMOKE = Plan(
    journeys=8,
    users=60,
    concurrency=8,
    connections=4,
    warmup=0.3,
    window=0.7,
    rounds=1,
    max_rate=3000.0,
    rate=50.0,
    latency_seconds=1.0,
    engine_turns=500,
    engine_seconds=0.1,
    startup_runs=1,
    memory_users=2,
    short_turns=10,
    long_turns=40,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds, tiny sizes (the test suite runs this)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH ('-' for stdout)")
    parser.add_argument("--rate", type=float, help="offered rate of the latency run, events/s (default 200)")
    parser.add_argument("--window", type=float, help="seconds of each saturation window (default 3)")
    parser.add_argument("--rounds", type=int, help="rounds of saturation windows (default 6)")
    parser.add_argument("--log-level", default="INFO", help="LOG_LEVEL of the product server (default INFO)")
    parser.add_argument("--no-pin", action="store_true", help="do not place processes on CPUs")
    parser.add_argument("--typed", action="store_true", help="text-heavy: every event typed, none tapped")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else Plan()
    if args.rate:
        plan = replace(plan, rate=args.rate)
    if args.window:
        plan = replace(plan, window=args.window)
    if args.rounds:
        plan = replace(plan, rounds=max(1, args.rounds))
    if args.typed:
        plan = replace(plan, typed=True)
    started = time.perf_counter()
    figures = _run_loop(run(plan, args.log_level, pin=not args.no_pin))
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(report.table(figures))
    if args.json:
        report.write_json(figures, args.json)
    for problem in figures["problems"]:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if figures["failures"] else 0


async def run(plan: Plan, log_level: str, pin: bool = True) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "machine": report.machine(),
        "plan": asdict(plan),
        "smoke": plan == SMOKE,
        "problems": [],
        "failures": [],
    }
    loop, http = servers.loop_and_http()
    figures["stack"] = {
        "uvicorn": f"--loop {loop} --http {http}",
        "generator_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
    }
    library = load_library(ROOT / "flows")
    paths = journeys(library, plan.journeys, max(plan.steps, 12), typed=plan.typed)

    # 5. the engine alone and the start-up time, while nothing else of the benchmark runs
    engine = engine_alone(library, paths, plan.engine_turns, plan.engine_seconds)
    startup = chat_startup(plan.startup_runs)
    figures["engine"] = {"turns_per_s": engine.turns_per_second, "with_codec_turns_per_s": engine.with_codec_per_second}
    figures["startup"] = {"median_s": startup.median, "worst_s": startup.worst, "runs": startup.runs}

    cpus = sorted(os.sched_getaffinity(0))
    placed = pin and len(cpus) >= 2
    with redis_env() as env, tempfile.TemporaryDirectory(prefix="taikai-bench-") as workdir:
        figures["redis_server"] = {"started_by_bench": env.started}
        if placed:
            os.sched_setaffinity(0, {cpus[1]})
            if env.pid is not None:
                os.sched_setaffinity(env.pid, {cpus[1]})
            redis_where = f"Redis (started here) on CPU {cpus[1]}" if env.pid else "Redis (already running) not placed"
            figures["placement"] = (
                f"echo and full servers on CPU {cpus[0]}, generator + fake LINE API on CPU {cpus[1]}, "
                f"{redis_where}; item 6's second server on CPU {cpus[1]}"
            )
        else:
            figures["placement"] = "not placed"
        bench = _Bench(plan, env, Path(workdir), log_level, library, paths, figures)
        await bench.sink.start()
        try:
            await bench.saturation({cpus[0]} if placed else None, {cpus[1]} if placed else None)
        finally:
            await bench.sink.stop()
            bench.redis.close()
            if placed:
                os.sched_setaffinity(0, set(cpus))
        short = await session_memory(env, library, paths, plan.short_turns, plan.memory_users)
        long_ = await session_memory(env, library, paths, plan.long_turns, plan.memory_users)
        longer = await session_memory(env, library, paths, 2 * plan.long_turns, plan.memory_users)
        figures["redis"]["session_short"] = asdict(short)
        figures["redis"]["session_long"] = asdict(long_)
        figures["redis"]["session_longer"] = asdict(longer)
        figures["sink"] = dict(bench.sink.counts)

    full, echo = figures["full"], figures["echo"]
    figures["headline"] = {
        "full_events_per_s": full["events_per_s"],
        "echo_events_per_s": echo["events_per_s"],
        "full_over_echo": statistics.median(figures["ratios"]["full_over_echo"]),
        "latency_p99_ms": figures["latency"]["p99_ms"],
        "redis_commands_per_turn": figures["redis"]["commands_per_turn"],
        "session_bytes_short": short.session_bytes,
        "session_bytes_long": long_.session_bytes,
        "session_bytes_longer": longer.session_bytes,
        "user_bytes_long": longer.user_bytes,
        "engine_turns_per_s": engine.turns_per_second,
        "first_prompt_s": startup.median,
        "two_over_one_worker": statistics.median(figures["ratios"]["two_over_one"]),
    }
    figures["targets"] = report.judge(figures)
    return figures


@dataclass
class _Target:
    """What is under load: one server process (or two, as replicas), the load generator and its users."""

    name: str
    servers: list[servers.Server]
    generator: LoadGenerator
    users: Users
    concurrency: int

    def cpu_seconds(self) -> float:
        return sum(server.cpu_seconds() for server in self.servers)


class _Bench:
    def __init__(
        self,
        plan: Plan,
        env: RedisEnv,
        workdir: Path,
        log_level: str,
        library: Library,
        paths: list[list[Step]],
        figures: dict[str, Any],
    ) -> None:
        self.plan = plan
        self.env = env
        self.workdir = workdir
        self.log_level = log_level
        self.library = library
        self.paths = paths
        self.figures = figures
        self.generators: list[LoadGenerator] = []
        self.sink = Sink(self._on_reply)
        self.redis = env.client()
        self.redis_is_local = env.started or any(h in env.url for h in ("127.0.0.1", "localhost", "[::1]"))

    def _on_reply(self, token: str, at: float) -> None:
        for generator in self.generators:
            if token in generator.pending:
                generator.on_reply(token, at)
                return
        if self.generators:
            self.generators[0].stats.unexpected_replies += 1

    def server_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LINE_", "REDIS_", "RATE_LIMIT_"))}
        env.update(
            LINE_CHANNEL_SECRET=webhooks.SECRET,
            LINE_CHANNEL_ACCESS_TOKEN=webhooks.TOKEN,
            LINE_API_BASE_URL=self.sink.url,
            REDIS_URL=self.env.url,
            REDIS_KEY_PREFIX=self.env.prefix,
            # the limiter runs on every turn but never limits: the generator is one big flood
            RATE_LIMIT_BURST="1000000",
            RATE_LIMIT_PER_MINUTE="1000000",
            LOG_LEVEL=self.log_level,
            LOG_MESSAGE_TEXT="false",
        )
        return env

    async def _launch(self, app: str, placements: list[set[int] | None]) -> _Target:
        """One single-worker server per entry of `placements` (the CPUs it may use), all on the same Redis."""
        plan = self.plan
        count = len(placements)
        name = app
        started = [
            servers.start(app, self.server_env(), self.workdir / f"{name}-{index}.log", 1, cpus)
            for index, cpus in enumerate(placements)
        ]
        generator = LoadGenerator("127.0.0.1", [s.port for s in started], plan.connections * count)
        self.generators.append(generator)
        await generator.open()
        users = build_users(self.paths, plan.users * count, plan.steps)
        users.allow(plan.steps)
        return _Target(name, started, generator, users, plan.concurrency * count)

    async def _stop(self, target: _Target, owned: list[servers.Server]) -> None:
        """Close `target`'s generator and stop the servers it `owned` (a pair shares one with `full`)."""
        await target.generator.close()
        self.generators.remove(target.generator)
        for server in owned:
            servers.stop(server)
            for line in server.log_problems()[:5]:
                self.figures["failures"].append(f"{target.name} server log: {line}")

    async def _warm(self, target: _Target) -> None:
        await target.generator.saturate(target.users, target.concurrency, 0.0, self.plan.warmup)
        await target.generator.drain()

    async def _window(self, target: _Target) -> RunStats:
        """One saturation window, then a pause until every reply is in (so a window holds whole turns)."""
        stats = await target.generator.saturate(
            target.users, target.concurrency, 0.0, self.plan.window, self._samplers(target)
        )
        await target.generator.drain()
        if stats.window_seconds < self.plan.window * 0.9:
            self.figures["failures"].append(f"{target.name}: the users ran out of prebuilt events")
        return stats

    def _samplers(self, target: _Target) -> dict[str, Callable[[], float]]:
        return {"server": target.cpu_seconds, "redis": lambda: redis_cpu(self.redis), "machine": _machine_busy}

    async def saturation(self, first: set[int] | None, second: set[int] | None) -> None:
        """Items 1, 2, 4 and 6, then 3: three targets side by side whose windows alternate in every round —
        the echo server, the full server, and the full server with a second one beside it (two replicas of
        one uvicorn worker each, on the same Redis, the generator's connections spread over both). The
        ratios are taken within each round, then their median: a slow spell of the machine hits both sides.

        Not `uvicorn --workers 2` for item 6: those workers share one listening socket, the first to wake
        accepts every connection, and with keep-alive clients one worker did all the work.
        """
        echo = await self._launch("echo", [first])
        full = await self._launch("full", [first])
        extra = servers.start("full", self.server_env(), self.workdir / "full-2.log", 1, second)
        two = await self._pair(full, extra)
        try:
            for target in (echo, full, two):
                await self._warm(target)
            windows: dict[str, list[RunStats]] = {"echo": [], "full": [], "two": []}
            before: dict[str, int] = {}
            after: dict[str, int] = {}
            turns = 0
            for _ in range(self.plan.rounds):
                windows["echo"].append(await self._window(echo))
                first_stats = commandstats(self.redis)
                stats = await self._window(full)
                last_stats = commandstats(self.redis)
                for name in last_stats:  # only the full windows' commands count
                    after[name] = after.get(name, 0) + last_stats[name]
                    before[name] = before.get(name, 0) + first_stats.get(name, 0)
                turns += stats.replies
                windows["full"].append(stats)
                windows["two"].append(await self._window(two))
            self.figures["echo"] = self._combine(echo.name, windows["echo"])
            self.figures["full"] = self._combine(full.name, windows["full"])
            self.figures["full_2_workers"] = self._combine(two.name, windows["two"])
            rates = {name: [w.rate for w in found] for name, found in windows.items()}
            self.figures["ratios"] = {
                "full_over_echo": [f / e if e else 0.0 for f, e in zip(rates["full"], rates["echo"], strict=True)],
                "two_over_one": [t / f if f else 0.0 for t, f in zip(rates["two"], rates["full"], strict=True)],
            }
            cost = command_cost(before, after, turns)
            redis_cpu_s = sum(s.cpu.get("redis", 0.0) for s in windows["full"])
            self.figures["redis"] = {
                "commands_per_turn": cost.round_trips,
                "inside_scripts_per_turn": cost.inside_scripts,
                "by_command_per_turn": cost.by_command,
                "turns": turns,
                "redis_cpu_us_per_turn": redis_cpu_s / max(sum(s.in_window() for s in windows["full"]), 1) * 1e6,
            }
            self.figures["latency"] = await self._latency(full)
        finally:
            await self._stop(two, [extra])
            await self._stop(echo, echo.servers)
            await self._stop(full, full.servers)

    async def _pair(self, full: _Target, extra: servers.Server) -> _Target:
        """`full`'s server and `extra` behind one generator, as two replicas behind a balancer."""
        plan = self.plan
        pair = [full.servers[0], extra]
        generator = LoadGenerator("127.0.0.1", [s.port for s in pair], plan.connections * 2)
        self.generators.append(generator)
        await generator.open()
        users = build_users(self.paths, plan.users * 2, plan.steps)
        users.allow(plan.steps)
        return _Target("full-2", pair, generator, users, plan.concurrency * 2)

    def _combine(self, name: str, windows: list[RunStats]) -> dict[str, Any]:
        """The median window's figures (by events/s), with every window's rate and the worst noise."""
        summaries = [_summary(w, self.redis_is_local) for w in windows]
        in_order = [round(s["events_per_s"]) for s in summaries]
        summaries.sort(key=lambda s: s["events_per_s"])
        median = dict(summaries[len(summaries) // 2])
        median["events_per_s"] = statistics.median(s["events_per_s"] for s in summaries)
        median["window_rates"] = in_order
        median["foreign_cores_max"] = max(s["foreign_cores"] for s in summaries)
        lost = sum(s["lost"] for s in summaries)
        bad = sum(s["bad_status"] for s in summaries)
        median["lost"], median["bad_status"] = lost, bad
        if lost or bad:
            self.figures["failures"].append(f"{name}: {lost} replies never came, {bad} webhooks not answered 200")
        if median["foreign_cores_max"] > NOISY:
            self.figures["problems"].append(
                f"{name}: other processes used up to {median['foreign_cores_max']:.2f} CPU during a window"
            )
        return median

    async def _latency(self, target: _Target) -> dict[str, Any]:
        """Fresh users brought mid-conversation (3 events each), then the fixed-rate schedule."""
        plan = self.plan
        count = math.ceil(plan.rate * plan.latency_seconds)
        per_user = 4
        users = build_users(self.paths, max(count // per_user + 10, 20), 3 + per_user + 1)
        users.allow(3)
        await target.generator.saturate(users, plan.concurrency, 0.0, 60.0)
        await target.generator.drain()
        users.allow(per_user + 1)
        stats = await target.generator.offered_rate(users, plan.rate, plan.latency_seconds, self._samplers(target))
        await target.generator.drain()
        p50, p95, p99 = stats.percentiles(50, 95, 99)
        seconds = max(stats.window_seconds, 1e-9)
        if stats.lost or stats.skipped or stats.bad_status:
            self.figures["failures"].append(
                f"latency run: {stats.lost} lost, {stats.skipped} not sent, {stats.bad_status} not answered 200"
            )
        return {
            "rate": plan.rate,
            "events": stats.sent,
            "replies": stats.replies,
            "lost": stats.lost,
            "skipped": stats.skipped,
            "p50_ms": p50 * 1e3,
            "p95_ms": p95 * 1e3,
            "p99_ms": p99 * 1e3,
            "max_ms": max(stats.latencies, default=float("nan")) * 1e3,
            "max_send_lag_ms": stats.max_send_lag * 1e3,
            "server_cores": stats.cpu.get("server", 0.0) / seconds,
            "generator_cores": stats.cpu.get("generator", 0.0) / seconds,
        }


def _summary(stats: RunStats, redis_is_local: bool) -> dict[str, Any]:
    seconds = max(stats.window_seconds, 1e-9)
    events = max(stats.in_window(), 1)
    cpu = stats.cpu
    ours = cpu.get("server", 0.0) + cpu.get("generator", 0.0) + (cpu.get("redis", 0.0) if redis_is_local else 0.0)
    p50, p99 = stats.percentiles(50, 99)
    return {
        "events_per_s": stats.rate,
        "window_s": stats.window_seconds,
        "events_in_window": stats.in_window(),
        "sent": stats.sent,
        "replies": stats.replies,
        "lost": stats.lost,
        "bad_status": stats.bad_status,
        "unexpected_replies": stats.unexpected_replies,
        "server_cores": cpu.get("server", 0.0) / seconds,
        "server_cpu_us_per_event": cpu.get("server", 0.0) / events * 1e6,
        "generator_cores": cpu.get("generator", 0.0) / seconds,
        "generator_cpu_us_per_event": cpu.get("generator", 0.0) / events * 1e6,
        "redis_cores": cpu.get("redis", 0.0) / seconds,
        "foreign_cores": max(0.0, cpu.get("machine", 0.0) - ours) / seconds,
        "closed_loop_p50_ms": p50 * 1e3,
        "closed_loop_p99_ms": p99 * 1e3,
    }


def _machine_busy() -> float:
    """CPU seconds every CPU of the machine has spent busy so far (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def _run_loop(work: Coroutine[Any, Any, T]) -> T:
    """The generator and the sink run on uvloop when it is installed (it comes with uvicorn[standard])."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


if __name__ == "__main__":
    raise SystemExit(main())
