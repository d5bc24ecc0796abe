"""A Redis outage is two log lines, not one per turn or one traceback a second (issue 17, item 12)."""

from __future__ import annotations

import logging

import pytest

from bot.core.messages import TurnOutcome, TurnTrace
from bot.core.session import SessionKey
from bot.telemetry.logs import ThrottleFilter, TurnLog

USER = SessionKey("line", "-", "U1")


def test_an_outage_is_logged_when_it_begins_and_when_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="taikai.turn")
    now = [100.0]
    turns = TurnLog(clock=lambda: now[0])
    for _ in range(50):
        turns.store_failed(USER, "turn")
        now[0] += 0.5
    turns.turn_done(USER, TurnTrace(TurnOutcome.ANSWERED, "common:menu", "common:menu"), 0.01)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    back = [r for r in caplog.records if r.getMessage() == "session store back"]
    assert len(errors) == 1 and "outage began" in errors[0].getMessage()
    assert len(back) == 1 and back[0].failed_turns == 50 and back[0].outage_seconds == 25.0  # type: ignore[attr-defined]
    turns.store_failed(USER, "turn")  # a second outage is a new first line
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 2


def test_a_library_repeating_an_error_every_second_is_throttled() -> None:
    now = [0.0]
    throttle = ThrottleFilter(limit=2, window=60.0, clock=lambda: now[0])

    def record(message: str, level: int = logging.ERROR) -> logging.LogRecord:
        return logging.LogRecord("saq", level, __file__, 1, message, None, None)

    kept = []
    for _ in range(30):
        line = record("Error in upkeep")
        if throttle.filter(line):
            kept.append(line.getMessage())
        now[0] += 1.0
    assert kept == ["Error in upkeep", "Error in upkeep"]
    now[0] = 61.0
    line = record("Error in upkeep")
    assert throttle.filter(line) and line.getMessage() == "Error in upkeep (28 similar lines left out)"
    assert throttle.filter(record("Sweeping job", logging.INFO)), "lines below ERROR pass"


def test_a_reminder_job_in_saq_s_log_lines_does_not_name_the_user() -> None:
    """saq logs a failing job with its arguments, and a reminder job's arguments hold the user id."""
    import io

    from saq import Job

    from bot.telemetry.logs import configure_logging

    out = io.StringIO()
    handler = configure_logging("INFO", json_lines=True, stream=out)
    try:
        job = Job(function="deliver_reminder", kwargs={"channel": "line", "user": "Uabcdef1234567890"})
        logging.getLogger("saq").error("Error processing job %s", job)
        assert "deliver_reminder job" in out.getvalue() and "Uabcdef1234567890" not in out.getvalue()
    finally:
        logging.getLogger().removeHandler(handler)
