"""What /metrics shows besides the conversation counters: the running version, the process (CPU, memory,
file descriptors), Python and its GC, whether Redis answers — and no `_created` series. Dashboards and
alerts (deploy/prometheus) read these."""

from __future__ import annotations

import asyncio
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bot import __version__
from bot.config import Settings
from bot.core.library.model import Library
from bot.core.messages import TurnOutcome, TurnTrace
from bot.core.session import SessionKey
from bot.store.memory import MemorySessionStore
from bot.telemetry.metrics import Metrics
from bot.web import app as app_module
from bot.wiring import create_app

ROOT = Path(__file__).resolve().parents[2]
USER = SessionKey("line", "-", "U1")


def _samples(metrics: Metrics) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Sample name → (labels, value) pairs, as a scraper parses the text."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_build_info_carries_the_project_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert _samples(Metrics())["taikai_build_info"] == [({"version": project["version"]}, 1.0)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ProcessCollector reads /proc")
def test_process_metrics_are_this_process() -> None:
    samples = _samples(Metrics())
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
        "process_open_fds",
        "process_max_fds",
    ):
        assert name in samples, name
    ((_, rss),) = samples["process_resident_memory_bytes"]
    assert rss > 1024 * 1024, "a Python process holds more than a megabyte"


def test_python_and_gc_metrics() -> None:
    samples = _samples(Metrics())
    ((labels, _),) = samples["python_info"]
    assert labels["version"] == ".".join(map(str, sys.version_info[:3]))
    generations = {labels["generation"] for labels, _ in samples["python_gc_collections_total"]}
    assert generations == {"0", "1", "2"}


def test_no_created_series() -> None:
    metrics = Metrics()
    metrics.turn_done(USER, TurnTrace(TurnOutcome("reask"), "lancers:ongoing", "lancers:ongoing"), 0.01)
    metrics.reminder("pending", "lost")
    text = metrics.render().decode()
    assert 'taikai_turns_total{channel="line",outcome="reask"} 1.0' in text
    assert "taikai_turn_seconds_bucket" in text
    assert "_created" not in text


def test_each_app_has_its_own_registry() -> None:
    """Two apps in one process (the tests build many) register the same names without a clash, and the
    global default registry, which a library might scrape, gets none of them."""
    first, second = Metrics(), Metrics()
    first.later("line", "lost")
    assert "taikai_replies_later_total" in _samples(first)
    assert "taikai_replies_later_total" not in _samples(second)
    assert REGISTRY.get_sample_value("taikai_build_info", {"version": __version__}) is None


class _DownStore(MemorySessionStore):
    async def ping(self) -> bool:
        return False


class _HangingStore(MemorySessionStore):
    async def ping(self) -> bool:
        await asyncio.sleep(60)
        return True


async def _store_up(library: Library, store: MemorySessionStore) -> float | None:
    settings = Settings(_env_file=None, redis_url=None, line_channel_secret=None, slack_signing_secret=None)  # type: ignore[call-arg]
    app = create_app(settings, library, store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        text = (await client.get("/metrics")).text
    samples = {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples}
    return samples.get("taikai_store_up")


async def test_each_scrape_says_whether_redis_answers(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one signal of an outage when no turn arrives to fail (Kubernetes takes unready pods out of the
    Service); a store that hangs counts as down before Prometheus's scrape timeout."""
    assert await _store_up(library, MemorySessionStore(60)) == 1.0
    assert await _store_up(library, _DownStore(60)) == 0.0
    monkeypatch.setattr(app_module, "STORE_CHECK_SECONDS", 0.05)
    started = time.monotonic()
    assert await _store_up(library, _HangingStore(60)) == 0.0
    assert time.monotonic() - started < 5
