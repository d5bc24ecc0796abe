"""Structured logs: one JSON object per line, with the current turn id; never message text by default."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from bot.core.messages import TurnTrace
from bot.core.session import SessionKey
from bot.telemetry.context import turn_id, user_hash

turn_log = logging.getLogger("taikai.turn")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


_base_factory = logging.getLogRecordFactory()


def _record_with_turn_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    # Stamped when the record is created (inside the turn), not when a handler formats it later.
    record = _base_factory(*args, **kwargs)
    record.turn_id = turn_id.get()
    return record


logging.setLogRecordFactory(_record_with_turn_id)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "turn_id": getattr(record, "turn_id", "-"),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # `transitions` logs two INFO lines per state change ("Finished processing state … callbacks"): at the
    # default level that was most of the log, and cost a turn as much CPU as the engine's own work
    # (docs/benchmark.md). Its warnings still show; DEBUG shows all.
    logging.getLogger("transitions").setLevel(logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING)


class TurnLog:
    """Turn observer writing one line per turn: channel, hashed user, states, outcome, latency."""

    def turn_done(self, key: SessionKey, trace: TurnTrace, seconds: float) -> None:
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
        turn_log.info("duplicate event ignored", extra=_who(key))

    def limited(self, key: SessionKey, verdict: str) -> None:
        turn_log.warning("rate limited", extra={**_who(key), "verdict": verdict})

    def store_failed(self, key: SessionKey, operation: str) -> None:
        turn_log.error("session store unavailable", extra={**_who(key), "operation": operation})


def _who(key: SessionKey) -> dict[str, str]:
    return {"channel": key.channel, "user": user_hash(key.channel, key.user)}
