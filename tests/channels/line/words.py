"""The words LINE's buttons carry, from the real lexicon: tests compare against these, never a literal copy."""

from __future__ import annotations

from pathlib import Path

from bot.channels.line_render import LineWords
from bot.core.flows import load_library

WORDS = LineWords.of(load_library(Path(__file__).resolve().parents[3] / "flows"))
