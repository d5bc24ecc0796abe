"""The benchmark's output: a compact table on stdout and the same figures as JSON."""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

# name -> (what, comparison, target): `met` is value <op> target
TARGETS: dict[str, tuple[str, str, float]] = {
    "full_over_echo": ("full / echo", ">=", 0.8),
    "latency_p99_ms": ("p99 latency at the offered rate (ms)", "<=", 25.0),
    "redis_commands_per_turn": ("Redis commands per turn", "<=", 3.0),
    "session_bytes_long": ("bytes per session after the long conversation", "<=", 1024.0),
    "user_bytes_long": ("bytes per user (session, dedupe, rate, reminder marks) after the longest run", "<=", 1536.0),
    "engine_turns_per_s": ("engine turns/s", ">=", 20_000.0),
    "first_prompt_s": ("first prompt of taikai-bot chat (s)", "<=", 1.0),
    "two_over_one_worker": ("two workers / one", ">=", 1.7),
}


def machine() -> dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def judge(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with the measured value and whether it is met (None when not measured)."""
    values = figures.get("headline", {})
    verdicts: dict[str, dict[str, Any]] = {}
    for name, (what, op, target) in TARGETS.items():
        value = values.get(name)
        met = None if value is None else (value >= target if op == ">=" else value <= target)
        verdicts[name] = {"what": what, "value": value, "target": f"{op} {target:g}", "met": met}
    # flat with conversation length: twice as long a conversation leaves the session (nearly) the same size
    long_, longer = values.get("session_bytes_long"), values.get("session_bytes_longer")
    if long_ and longer:
        verdicts["session_flat"] = {
            "what": "session size after twice the long conversation / after the long one",
            "value": round(longer / long_, 2),
            "target": "<= 1.1",
            "met": longer / long_ <= 1.1,
        }
    return verdicts


def _mark(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "-"}[met]


def table(figures: dict[str, Any]) -> str:
    f = figures
    m = f["machine"]
    h = f["headline"]
    v = f["targets"]
    full, echo, two = f.get("full", {}), f.get("echo", {}), f.get("full_2_workers", {})
    lat, red, eng, up = f.get("latency", {}), f.get("redis", {}), f.get("engine", {}), f.get("startup", {})
    rows: list[tuple[str, str, str, str]] = []

    def row(item: str, figure: str, target: str = "", verdict: str = "") -> None:
        rows.append((item, figure, target, verdict))

    def num(value: Any, fmt: str) -> str:
        return "n/a" if value is None else format(value, fmt)

    row("1 full LINE path, 1 worker", f"{num(full.get('events_per_s'), ',.0f')} events/s")
    row("2 echo floor, 1 worker", f"{num(echo.get('events_per_s'), ',.0f')} events/s")
    row("  full / echo", num(h.get("full_over_echo"), ".2f"), "≥ 0.8 (aim 1.0)", _mark(v["full_over_echo"]["met"]))
    if lat:
        p = f"{lat['p50_ms']:.1f} / {lat['p95_ms']:.1f} / {lat['p99_ms']:.1f} ms"
        row(f"3 latency p50/p95/p99 @ {lat['rate']:g}/s", p, "p99 ≤ 25 ms", _mark(v["latency_p99_ms"]["met"]))
    if red:
        commands = f"{red['commands_per_turn']:.2f} (+{red['inside_scripts_per_turn']:.1f} inside scripts)"
        row("4 Redis commands per turn", commands, "≤ 3", _mark(v["redis_commands_per_turn"]["met"]))
        short, long_, longer = (red.get(k, {}) for k in ("session_short", "session_long", "session_longer"))
        if short and long_ and longer:
            turns = f"{short['turns']} / {long_['turns']} / {longer['turns']}"
            size = " / ".join(f"{m['session_bytes']:.0f}" for m in (short, long_, longer)) + " B"
            flat = v.get("session_flat", {}).get("met")
            verdict = _mark(bool(v["session_bytes_long"]["met"]) and bool(flat))
            row(f"  bytes per session, {turns} turns", size, "≤ 1 KiB, flat", verdict)
            seen = " / ".join(f"{m['seen_bytes']:.0f}" for m in (short, long_, longer))
            row("  + the user's dedupe set, same", f"{seen} B (+ rate bucket {long_['rate_bytes']:.0f} B)")
            if "reminder_bytes" in longer:
                parts = ("session_bytes", "seen_bytes", "rate_bytes", "reminder_bytes")
                marks = f"{sum(longer[p] for p in parts):,.0f} B (reminder marks {longer['reminder_bytes']:.0f} B)"
                met = _mark(v["user_bytes_long"]["met"])
                row(f"  bytes per user, {longer['turns']} turns", marks, "≤ 1.5 KiB", met)
    row(
        "5 engine alone",
        f"{num(eng.get('turns_per_s'), ',.0f')} turns/s",
        "≥ 20,000",
        _mark(v["engine_turns_per_s"]["met"]),
    )
    row(
        "  first prompt of taikai-bot chat",
        f"{num(up.get('median_s'), '.2f')} s",
        "≤ 1 s",
        _mark(v["first_prompt_s"]["met"]),
    )
    row("6 full path, 2 servers × 1 worker", f"{num(two.get('events_per_s'), ',.0f')} events/s")
    row(
        "  two workers / one", num(h.get("two_over_one_worker"), ".2f"), "≥ 1.7", _mark(v["two_over_one_worker"]["met"])
    )
    if two and full:
        busy = two["server_cores"] + two["generator_cores"] + two["redis_cores"] + two["foreign_cores"]
        slower = two["server_cpu_us_per_event"] / full["server_cpu_us_per_event"]
        row("  CPUs busy with 2 servers; server CPU/event 2 vs 1", f"{busy:.2f} of {m['nproc']}; ×{slower:.2f}")

    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        f"taikai-bot benchmark — {m['date']}, {m['nproc']} CPUs ({m['cpu_model']}), Python {m['python']}",
        "smoke run: sizes far too small for the targets, the verdicts below mean nothing" if f.get("smoke") else "",
        *("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows),
        "",
    ]
    ratios = f.get("ratios", {})
    for name, key in (("full/echo", "full_over_echo"), ("two/one", "two_over_one")):
        if ratios.get(key):
            lines.append(f"{name:9} per round {' '.join(f'{r:.2f}' for r in ratios[key])} (the median is reported)")
    for name, run in (("echo", echo), ("full", full), ("full ×2", two)):
        if run:
            lines.append(
                f"{name:8} windows {'/'.join(map(str, run['window_rates']))} events/s; median window: server "
                f"{run['server_cores']:.2f} CPU ({run['server_cpu_us_per_event']:.0f} µs/event), generator+sink "
                f"{run['generator_cores']:.2f} CPU ({run['generator_cpu_us_per_event']:.0f} µs/event), Redis "
                f"{run['redis_cores']:.2f} CPU, other processes ≤ {run['foreign_cores_max']:.2f} CPU"
            )
    if lat:
        lines.append(
            f"latency  {lat['events']} events at {lat['rate']:g}/s, max {lat['max_ms']:.1f} ms, "
            f"lost {lat['lost']}, generator late by at most {lat['max_send_lag_ms']:.1f} ms"
        )
    if red:
        lines.append(f"Redis    {red['redis_cpu_us_per_turn']:.0f} µs of Redis CPU per turn")
    if f.get("placement"):
        lines.append(f"CPUs     {f['placement']}")
    lines.append(f"stack    uvicorn {f['stack']['uvicorn']}, generator on {f['stack']['generator_loop']}")
    return "\n".join(lines)


def write_json(figures: dict[str, Any], path: str) -> None:
    target = sys.stdout if path == "-" else None
    text = json.dumps(figures, indent=2, ensure_ascii=False, default=str)
    if target is not None:
        target.write(text + "\n")
    else:
        Path(path).write_text(text + "\n", encoding="utf-8")
