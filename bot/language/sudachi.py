"""SudachiPy behind `bot.core.japanese.tokens.Tokenizer`: one dictionary per process, one tokenizer per thread.

The dictionary (SudachiDict core) is memory-mapped once, lazily, under a lock, so `taikai-bot chat`
starts without it and button taps never pay for it. Sudachi tokenizers keep internal buffers and
must not be shared across threads, so each thread creates its own from the shared dictionary.
Analyses are cached per distinct text (bounded LRU): the same 「はい」 is analysed once.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from sudachipy import Dictionary, SplitMode

from bot.core.japanese.analysis import TextAnalysis, analyze
from bot.core.japanese.tokens import Token

CACHE_SIZE = 4096


def _rss_bytes() -> int:
    """Resident set size now (Linux /proc), 0 where it cannot be read."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@dataclass(frozen=True, slots=True)
class AnalyzerState:
    """What operators see: whether the dictionary is loaded, what it cost and the cache's use."""

    loaded: bool
    load_seconds: float
    rss_increase_bytes: int
    cache_hits: int
    cache_misses: int
    cache_size: int


class SudachiTokenizer:
    """The real tokenizer (split mode C: the longest units, 「振り込まれ」 as one verb)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dictionary: Dictionary | None = None
        self._local = threading.local()
        self.load_seconds = 0.0
        self.rss_increase = 0

    def load(self) -> Dictionary:
        """Load the dictionary once; concurrent first callers wait for the one load."""
        dictionary = self._dictionary
        if dictionary is not None:
            return dictionary
        with self._lock:
            if self._dictionary is None:
                before, started = _rss_bytes(), time.perf_counter()
                self._dictionary = Dictionary(dict="core")
                self._dictionary.tokenizer(SplitMode.C).tokenize("起動")  # touch the mapped pages once
                self.load_seconds = time.perf_counter() - started
                self.rss_increase = max(0, _rss_bytes() - before)
            return self._dictionary

    @property
    def loaded(self) -> bool:
        return self._dictionary is not None

    def tokenize(self, text: str) -> tuple[Token, ...]:
        tokenizer = getattr(self._local, "tokenizer", None)
        if tokenizer is None:
            tokenizer = self._local.tokenizer = self.load().tokenizer(SplitMode.C)
        return tuple(
            Token(m.surface(), tuple(m.part_of_speech()), m.dictionary_form(), m.normalized_form(), m.reading_form())
            for m in tokenizer.tokenize(text)
        )


_TOKENIZER = SudachiTokenizer()


def default_tokenizer() -> SudachiTokenizer:
    """The process-wide tokenizer (its dictionary loads on first use or on `preload()`)."""
    return _TOKENIZER


def preload() -> None:
    """Load the dictionary now, e.g. in a background thread at start-up."""
    _TOKENIZER.load()


@lru_cache(maxsize=CACHE_SIZE)
def analyze_text(text: str) -> TextAnalysis:
    """`analyze` with the real tokenizer, cached per distinct text (analyses are immutable)."""
    return analyze(text, _TOKENIZER)


def analyzer_state() -> AnalyzerState:
    info = analyze_text.cache_info()
    return AnalyzerState(
        loaded=_TOKENIZER.loaded,
        load_seconds=_TOKENIZER.load_seconds,
        rss_increase_bytes=_TOKENIZER.rss_increase,
        cache_hits=info.hits,
        cache_misses=info.misses,
        cache_size=info.currsize,
    )
