"""Morphemes as the pure core sees them, and the interface of whatever produces them.

The core never imports an analyzer library: `bot.language` adapts one (SudachiPy) to `Tokenizer`,
so the conversation logic stays pure and testable with any tokenizer, real or fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
# Sudachi's normalized forms are kanji where people write kana; these read better and match labels.
_KANA_LEMMAS = {
    "有る": "ある",
    "或る": "ある",
    "為る": "する",
    "出来る": "できる",
    "遣る": "やる",
    "居る": "いる",
    "無い": "ない",
    "成る": "なる",
    "分かる": "わかる",
    "致す": "いたす",
    "下さる": "くださる",
    "頂く": "いただく",
    "貰う": "もらう",
    "御座る": "ござる",
    "未だ": "まだ",
    "良い": "いい",
    "知れる": "しれる",
    "無し": "なし",
    "有り": "あり",
    "止める": "やめる",
    "辞める": "やめる",
}


def kana(text: str) -> str:
    """Katakana folded to hiragana, so 「ハイ」 and 「はい」 compare equal."""
    return text.translate(_KATAKANA_TO_HIRAGANA)


@dataclass(frozen=True, slots=True)
class Token:
    """One morpheme: what was written, its part of speech and its dictionary forms."""

    surface: str
    pos: tuple[str, ...]  # Sudachi/UniDic style: (品詞, 細分類1, 細分類2, 細分類3, 活用型, 活用形)
    lemma: str  # dictionary form in the writer's script: 分かん → 分かる, わかん → わかる
    normalized: str  # spelling variants folded: 附属 → 付属, ん → ず, だ(過去) → た
    reading: str = ""

    @property
    def kind(self) -> str:
        return self.pos[0] if self.pos else ""

    @property
    def sub(self) -> str:
        return self.pos[1] if len(self.pos) > 1 else ""

    @property
    def form(self) -> str:
        """Conjugation form (活用形), e.g. 「仮定形-一般」."""
        return self.pos[5] if len(self.pos) > 5 else ""

    @property
    def base(self) -> str:
        """The lemma used for comparisons: normalized, kana where people write kana."""
        return _KANA_LEMMAS.get(self.normalized, self.normalized)


class Tokenizer(Protocol):
    """Anything that turns text into morphemes; must be pure (same text, same tokens)."""

    def tokenize(self, text: str) -> tuple[Token, ...]: ...
