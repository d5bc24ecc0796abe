"""The app as `taikai-bot serve` builds it: JSON logs without the state machine's chatter, start-up frozen."""

from __future__ import annotations

import gc
import io
import logging
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.core.dialogue.engine import Engine
from bot.core.library.model import Library
from bot.core.messages import StartInput, TextInput
from bot.wiring import server_app


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """`server_app` configures the process's logging: put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    machine = logging.getLogger("transitions")
    machine_level = machine.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        machine.setLevel(machine_level)
        gc.unfreeze()


def test_server_app_logs_turns_not_state_machine_internals(library: Library, restored_logging: None) -> None:
    settings = Settings(_env_file=None, redis_url=None, line_channel_secret=None, slack_signing_secret=None)  # type: ignore[call-arg]
    server_app(settings, library)
    assert gc.get_freeze_count() > 0, "what start-up built is out of the collector's way"
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    output = io.StringIO()
    handler.setStream(output)
    engine = Engine(library)
    turn = engine.handle(None, StartInput(), 1_764_000_000)
    engine.handle(turn.session, TextInput("ランサーズ"), 1_764_000_030)
    logging.getLogger("bot.test").info("a line of ours")
    assert '"msg": "a line of ours"' in output.getvalue(), "INFO lines are written"
    assert "transitions" not in output.getvalue(), "but not transitions' two lines per state change"
    logging.getLogger("transitions").warning("a problem")
    assert '"logger": "transitions"' in output.getvalue(), "its warnings still are"
