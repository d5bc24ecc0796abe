"""Structured logs: one JSON object per line, with the current turn id; never message text by default.

Every line goes through `SafetyFilter` and a formatter that bounds exceptions, whoever logs it:

- third-party loggers (Bolt, slack_sdk, linebot, aiohttp, uvicorn's access log, …) are kept only from
  WARNING up, at any LOG_LEVEL: their INFO/DEBUG lines carry request bodies, API payloads (message text,
  user ids) and URLs with OAuth codes. uvicorn's lifecycle lines (``uvicorn.error`` INFO) are kept;
- every message is cut at `MAX_MESSAGE` characters, so no request can write unbounded data to the log;
- exceptions keep their type and at most `MAX_FRAMES` frames per exception; the exception's *message* is kept
  only for the bot's own exception classes (a library's message may quote the data it failed on).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any, TypeAlias

from bot.core.messages import TurnTrace
from bot.core.session import SessionKey
from bot.telemetry.context import turn_id, user_hash

turn_log = logging.getLogger("taikai.turn")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


OWN_LOGGERS = ("bot", "taikai")
THIRD_PARTY_INFO = frozenset({"uvicorn.error"})  # start-up/shutdown lines, no request data
MAX_MESSAGE = 500
MAX_FRAMES = 12
ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]


def is_own(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)


class SafetyFilter(logging.Filter):
    """Drops third-party lines below WARNING and bounds every message (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # The turn id of the context that logs: handlers run synchronously inside the logging call, so this
        # is the turn's own (no process-wide record factory needed).
        if not hasattr(record, "turn_id"):
            record.turn_id = turn_id.get()
        third_party = not is_own(record.name)
        if third_party and record.levelno < logging.WARNING and not _lifecycle(record):
            return False
        message = record.getMessage()
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + f"…[{len(message) - MAX_MESSAGE} characters cut]"
        record.msg, record.args = message, None
        record.stack_info = None
        return True


def _lifecycle(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.INFO and record.name in THIRD_PARTY_INFO


def safe_exception(exc_info: ExcInfo) -> str:
    """The exception chain with bounded frames; library exceptions' messages left out (they may quote data)."""
    lines: list[str] = []
    exc: BaseException | None = exc_info[1]
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(seen) < 4:
        seen.add(id(exc))
        frames = list(traceback.extract_tb(exc.__traceback__))
        if len(frames) > MAX_FRAMES:
            lines.append(f"  … {len(frames) - MAX_FRAMES} frames left out")
            frames = frames[-MAX_FRAMES:]
        lines.extend(f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames)
        kind = type(exc)
        name = f"{kind.__module__}.{kind.__qualname__}"
        detail = str(exc)[:200] if is_own(kind.__module__) and str(exc) else ""
        lines.append(f"{name}: {detail}" if detail else name)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if exc is not None:
            lines.append("caused by:")
    return "\n".join(lines)


class SafeTextFormatter(logging.Formatter):
    """The plain-text format (LOG_JSON=false), with the same bounded exceptions as the JSON lines."""

    def formatException(self, ei: Any) -> str:
        return safe_exception(ei)


class JsonFormatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        return safe_exception(ei)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "turn_id": getattr(record, "turn_id", None) or turn_id.get(),  # formatted inside the logging call
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, json_lines: bool = True, stream: IO[str] | None = None) -> logging.Handler:
    """One handler on the root logger (stderr by default), filtered by `SafetyFilter`; returns it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else SafeTextFormatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(SafetyFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # `transitions` logs two INFO lines per state change ("Finished processing state … callbacks"): at the
    # default level that was most of the log, and cost a turn as much CPU as the engine's own work
    # (docs/benchmark.md). Its warnings still show; DEBUG shows all.
    logging.getLogger("transitions").setLevel(logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING)
    saq = logging.getLogger("saq")
    own = (JobScrubFilter, ThrottleFilter)
    saq.filters[:] = [f for f in saq.filters if not isinstance(f, own)] + [JobScrubFilter(), ThrottleFilter()]
    return handler


class JobScrubFilter(logging.Filter):
    """saq logs a job with its arguments (「Error processing job Job<… kwargs: {'user': 'U…'}>」): a reminder
    job's arguments name the user, so a job in a log line is shown by its function only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(_is_job(arg) for arg in record.args):
            record.args = tuple(
                f"<{getattr(arg, 'function', '?')} job>" if _is_job(arg) else arg for arg in record.args
            )
        return True


def _job_name(job: Any) -> str:
    return f"<{getattr(job, 'function', '?')} job>"


def _is_job(value: Any) -> bool:
    return hasattr(value, "kwargs") and hasattr(value, "function") and hasattr(value, "queue")


class ThrottleFilter(logging.Filter):
    """For a library that logs the same error (with its traceback) every second while a dependency is down
    (saq's upkeep during a Redis outage): a few lines a minute, the next one saying how many were left out."""

    def __init__(self, limit: int = 2, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.throttle = Throttle(limit, window, clock)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        skipped = self.throttle.allow()
        if skipped is None:
            return False
        if skipped:
            record.msg, record.args = f"{record.getMessage()} ({skipped} similar lines left out)", None
        return True


class Throttle:
    """At most `limit` lines per `window` seconds for one noisy kind of line (refused requests): a flood of
    forged requests costs a few log lines a minute, and the next line says how many were left out."""

    def __init__(self, limit: int = 10, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._start = clock()
        self._count = 0
        self._skipped = 0

    def allow(self) -> int | None:
        """None: leave this line out. Otherwise how many lines were left out since the last one kept."""
        with self._lock:
            now = self.clock()
            if now - self._start >= self.window:
                self._start, self._count = now, 0
            self._count += 1
            if self._count > self.limit:
                self._skipped += 1
                return None
            skipped, self._skipped = self._skipped, 0
            return skipped


class TurnLog:
    """Turn observer writing one line per turn: channel, hashed user, states, outcome, latency. A store
    outage is two lines, when it begins and when it ends (the failures in between are counted, and in
    /metrics), not one error per turn."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._outage_since: float | None = None
        self._failed = 0

    def turn_done(self, key: SessionKey, trace: TurnTrace, seconds: float) -> None:
        self._store_answered()
        turn_log.info(
            "turn",
            extra={
                **_who(key),
                "state_before": trace.state_before,
                "state_after": trace.state_after,
                "outcome": trace.outcome,
                "templates": list(trace.templates),
                "latency_ms": round(seconds * 1000, 2),
            },
        )

    def duplicate(self, key: SessionKey) -> None:
        self._store_answered()
        turn_log.info("duplicate event ignored", extra=_who(key))

    def limited(self, key: SessionKey, verdict: str) -> None:
        # The first message over the limit is worth a warning; the rest of a flood only at DEBUG (counted in
        # /metrics), or the flood would be copied line for line into the log.
        self._store_answered()
        level = logging.WARNING if verdict == "notice" else logging.DEBUG
        turn_log.log(level, "rate limited", extra={**_who(key), "verdict": verdict})

    def store_failed(self, key: SessionKey, operation: str) -> None:
        self._failed += 1
        if self._outage_since is None:
            self._outage_since = self.clock()
            turn_log.error("session store unavailable: outage began", extra={**_who(key), "operation": operation})

    def _store_answered(self) -> None:
        if self._outage_since is not None:
            seconds = round(self.clock() - self._outage_since, 1)
            turn_log.warning("session store back", extra={"failed_turns": self._failed, "outage_seconds": seconds})
            self._outage_since, self._failed = None, 0


def _who(key: SessionKey) -> dict[str, str]:
    return {"channel": key.channel, "user": user_hash(key.channel, key.user)}
