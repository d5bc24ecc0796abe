"""The one fake clock of the tests: a settable time in seconds (inject it where code takes `clock`)."""

from __future__ import annotations


class FakeClock:
    def __init__(self, now: float = 1_764_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
