"""Prometheus metrics: turns, latency, the per-state funnel, templates, dedupe, store and platform errors,
plus the build (version) and the process (CPU, memory, file descriptors, GC) for dashboards and alerts.

Each app gets its own registry (tests build many apps in one process; the default global registry
would refuse the second registration). The metric list and the alerts on it: docs/monitoring.md.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

from bot import __version__
from bot.core.messages import TurnTrace
from bot.core.session import SessionKey

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# No `*_created` series: one more series per labelled child that dashboards and alerts never read (a
# process-wide switch of prometheus_client, read when samples are collected).
disable_created_metrics()  # type: ignore[no-untyped-call]  # (unannotated upstream)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    # Long: the declaration of every metric, one after another.

    # Long on purpose: every metric declared here, so /metrics is described in one place.
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # process_* (CPU, resident memory, open fds, start time; read from /proc, so Linux only: elsewhere
        # they are simply absent), python_info and python_gc_*, in this app's registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.build = Info("taikai_build", "The running version (value 1)", registry=r)  # taikai_build_info
        self.build.info({"version": __version__})
        self.turns = Counter("taikai_turns", "Conversation turns", ["channel", "outcome"], registry=r)
        self.latency = Histogram(
            "taikai_turn_seconds", "Turn latency (load, engine, save)", ["channel"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.entries = Counter(
            "taikai_state_entries", "Entries into a flow state (the funnel)", ["flow", "state"], registry=r
        )
        self.exits = Counter("taikai_state_exits", "Exits from a flow state", ["flow", "state"], registry=r)
        self.struggles = Counter(
            "taikai_understanding_struggles",
            "Typed replies a state did not take as an answer (asked back, not understood, unsure, questions)",
            ["flow", "state", "outcome"],
            registry=r,
        )
        self.reminders = Counter(
            "taikai_reminders",
            "Reminders by kind and outcome (scheduled, already_scheduled, cancelled, delivered, duplicate, dropped,"
            " postponed, over_limit, retried, lost)",
            ["kind", "outcome"],
            registry=r,
        )
        self.replies_later = Counter(
            "taikai_replies_later",
            "Replies that could not be sent at once, by outcome (kept, delivered, retried, lost, dropped)",
            ["channel", "outcome"],
            registry=r,
        )
        self.templates = Counter("taikai_templates", "Client-message templates produced", ["template"], registry=r)
        self.dedupe_hits = Counter("taikai_dedupe_hits", "Duplicate events ignored", ["channel"], registry=r)
        self.rate_limited = Counter(
            "taikai_rate_limited", "Messages over the rate limit", ["channel", "verdict"], registry=r
        )
        self.store_errors = Counter("taikai_store_errors", "Session store failures", ["operation"], registry=r)
        self.store_up = Gauge(
            "taikai_store_up", "1 when the session store (Redis) answered a PING at this scrape, else 0", registry=r
        )
        self.reply_fallbacks = Counter(
            "taikai_reply_fallbacks", "Replies sent another way (e.g. LINE push)", ["channel", "kind"], registry=r
        )
        self.refusals = Counter(
            "taikai_webhook_refused",
            "Webhook requests refused (unsigned, malformed)",
            ["channel", "status"],
            registry=r,
        )
        self.platform_errors = Counter(
            "taikai_platform_api_errors",
            "LINE/Slack API calls that failed after retries",
            ["channel", "status"],
            registry=r,
        )

    # --- turn observer ---------------------------------------------------------------------------

    def turn_done(self, key: SessionKey, trace: TurnTrace, seconds: float) -> None:
        self.turns.labels(key.channel, trace.outcome).inc()
        self.latency.labels(key.channel).observe(seconds)
        if trace.state_after != trace.state_before and trace.state_before:
            flow, _, state = trace.state_before.partition(":")
            self.exits.labels(flow, state).inc()
        for where in trace.entered:
            flow, _, state = where.partition(":")
            self.entries.labels(flow, state).inc()
        for template in trace.templates:
            self.templates.labels(template).inc()
        if trace.outcome.struggled and trace.state_before:  # counts only: never the text
            flow, _, state = trace.state_before.partition(":")
            self.struggles.labels(flow, state, trace.outcome).inc()

    def reminder(self, kind: str, outcome: str) -> None:
        self.reminders.labels(kind, outcome).inc()

    def later(self, channel: str, outcome: str) -> None:
        self.replies_later.labels(channel, outcome).inc()

    def duplicate(self, key: SessionKey) -> None:
        self.dedupe_hits.labels(key.channel).inc()

    def limited(self, key: SessionKey, verdict: str) -> None:
        self.rate_limited.labels(key.channel, verdict).inc()

    def store_failed(self, key: SessionKey, operation: str) -> None:
        self.store_errors.labels(operation).inc()

    def store_checked(self, up: bool) -> None:
        self.store_up.set(1 if up else 0)

    # --- for channels ------------------------------------------------------------------------------

    def reply_fallback(self, channel: str, kind: str) -> None:
        self.reply_fallbacks.labels(channel, kind).inc()

    def refused(self, channel: str, status: int) -> None:
        self.refusals.labels(channel, str(status)).inc()

    def platform_error(self, channel: str, status: str) -> None:
        self.platform_errors.labels(channel, status).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
