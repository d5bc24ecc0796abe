"""The Japanese analyzer outside the pure core: SudachiPy adapted to `bot.core.japanese.tokens.Tokenizer`."""

from bot.language.sudachi import (
    AnalyzerState,
    SudachiTokenizer,
    analyze_text,
    analyzer_state,
    default_tokenizer,
    preload,
)

__all__ = ["AnalyzerState", "SudachiTokenizer", "analyze_text", "analyzer_state", "default_tokenizer", "preload"]
