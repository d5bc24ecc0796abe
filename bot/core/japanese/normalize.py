"""One normal form for everything compared: the flows' words when they are loaded, and each reply.

「ハイ」「はい。」「ﾊｲ」「はいです」 are one word and 「１」 is 「1」, so no rule anywhere has to list variants.
"""

from __future__ import annotations

import functools
import unicodedata

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
_DROP_CATEGORIES = ("P", "Z", "C", "So", "Sk")  # punctuation, spaces, controls, emoji and modifiers
_POLITE_ENDINGS = ("でございます", "でした", "ですね", "ですよ", "です", "だよ", "だね")
_KEEP_SYMBOLS = set("○〇×✕?")


@functools.lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Fold width, kana and case; drop spaces, punctuation and a polite ending. Cached: the same short
    replies and the flows' own words come back all the time."""
    folded = unicodedata.normalize("NFKC", text).lower().translate(_KATAKANA_TO_HIRAGANA)
    kept = "".join(
        ch for ch in folded if ch in _KEEP_SYMBOLS or not unicodedata.category(ch).startswith(_DROP_CATEGORIES)
    )
    for ending in _POLITE_ENDINGS:
        if kept.endswith(ending) and len(kept) > len(ending):
            kept = kept[: -len(ending)]
            break
    return kept
