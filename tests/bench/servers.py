"""The servers under test, each in its own uvicorn process, placed on CPUs and measured by /proc.

`python -m tests.bench.servers full|echo --port P [--workers N]` runs one (uvicorn, uvloop and
httptools when installed, the app factories of `apps.py`); `start()` launches that as a subprocess,
pins it to the given CPUs, waits for /healthz, and `Server.cpu_seconds()` reads the CPU time of the
process and its workers from /proc (no psutil).
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def loop_and_http() -> tuple[str, str]:
    """uvloop and httptools when installed (uvicorn[standard] brings them), else asyncio and h11."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return loop, http


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.servers")
    parser.add_argument("app", choices=["full", "echo"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    profile_to = os.environ.get("BENCH_CPROFILE")  # a path: profile this server with cProfile (1 worker)
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        # uvicorn re-raises the SIGTERM it handled once it has shut down: exit normally instead
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        profiler.enable()
    try:
        _serve(args.app, args.port, args.workers)
    finally:
        if profiler is not None and profile_to:
            profiler.disable()
            profiler.dump_stats(profile_to)
    return 0


def _serve(app: str, port: int, workers: int) -> None:
    import uvicorn

    loop, http = loop_and_http()
    loop = os.environ.get("BENCH_LOOP", loop)  # `asyncio` gives a profiler whole stacks (uvloop cuts them)
    uvicorn.run(
        f"tests.bench.apps:{app}_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        loop=loop,  # type: ignore[arg-type]
        http=http,  # type: ignore[arg-type]
        log_config=None,
        access_log=False,  # as `taikai-bot serve` runs the product
        lifespan="on",
        timeout_graceful_shutdown=10,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    app: str
    process: subprocess.Popen[bytes]
    port: int
    workers: int
    log: Path

    def pids(self) -> list[int]:
        """The uvicorn process and its children (the workers when there are several)."""
        found = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rpartition(")")[2].split()[1]) == self.process.pid:
                    found.append(int(entry.name))
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes so far."""
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / CLOCK_TICKS

    def log_problems(self) -> list[str]:
        """Lines of the server's output at error level or with a traceback."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return []
        keys = ('"level": "error"', '"level": "critical"', "Traceback", "ERROR:")
        return [line[:300] for line in text.splitlines() if any(k in line for k in keys)]


def start(
    app: str,
    env: Mapping[str, str],
    log: Path,
    workers: int = 1,
    cpus: set[int] | None = None,
    within: float = 30.0,
) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "tests.bench.servers", app, "--port", str(port), "--workers", str(workers)]
    environment = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    if cpus:
        os.sched_setaffinity(process.pid, cpus)  # workers started later inherit it
    server = Server(app, process, port, workers, log)
    deadline = time.monotonic() + within
    while not _healthy(port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(server)
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the {app} server did not start:\n{tail}")
        time.sleep(0.05)
    if workers > 1:  # every worker must be up, not just the first
        deadline = time.monotonic() + within
        while len(server.pids()) < workers + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(20):
            _healthy(port)
    return server


def _healthy(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        finally:
            connection.close()
    except OSError:
        return False


def stop(server: Server, within: float = 20.0) -> None:
    """SIGTERM the uvicorn process we started (it stops its workers), then wait; SIGKILL if it hangs."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


if __name__ == "__main__":
    raise SystemExit(main())
