"""Fixtures shared by every test package: the real flows, compiled once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.engine import Engine
from bot.core.flows import load_library
from bot.core.model import Library

FLOWS_DIR = Path(__file__).resolve().parent.parent / "flows"


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library(FLOWS_DIR)


@pytest.fixture(scope="session")
def engine(library: Library) -> Engine:
    return Engine(library)
