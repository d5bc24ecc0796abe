"""Japanese free-text understanding: normalisation and matching an answer to the offered choices.

Everything is compared after the same normalisation, so 「ハイ」「はい。」「ﾊｲ」「はいです」 are one word and
「１」 is 「1」. Matching is deliberately conservative: when two choices could match, nothing matches and
the user is asked again, because a wrong guess moves the conversation somewhere the user did not mean.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Candidate:
    """A choice as the matcher sees it: its id, yes/no meaning and normalised words (label first)."""

    id: str
    means: str | None
    words: tuple[str, ...]


def candidate(choice_id: str, label: str, aliases: Iterable[str], means: str | None) -> Candidate:
    words = tuple(dict.fromkeys(w for w in (normalize(label), *map(normalize, aliases)) if w))
    return Candidate(choice_id, means, words)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The words that mean yes or no, and the command words, all normalised."""

    yes: frozenset[str]
    no: frozenset[str]
    commands: dict[str, str]  # normalised word -> command name
    unsure: frozenset[str] = frozenset()  # 「わからない」: contains 「ない」 but must never mean no

    @classmethod
    def build(
        cls,
        yes: Iterable[str],
        no: Iterable[str],
        commands: Mapping[str, Sequence[str]],
        unsure: Iterable[str] = (),
    ) -> Vocabulary:
        def words(items: Iterable[str]) -> frozenset[str]:
            return frozenset(filter(None, map(normalize, items)))

        table = {normalize(w): name for name, group in commands.items() for w in group if normalize(w)}
        return cls(words(yes), words(no), table, words(unsure))

    def is_unsure(self, normalized: str) -> bool:
        return any(word in normalized for word in self.unsure)

    def command(self, normalized: str) -> str | None:
        return self.commands.get(normalized)

    def polarity(self, normalized: str) -> str | None:
        """'yes' / 'no' for a yes/no word, also when it opens a longer answer (「はい、あります」)."""
        if normalized in self.yes:
            return "yes"
        if normalized in self.no:
            return "no"
        for word in sorted(self.yes | self.no, key=len, reverse=True):
            if len(word) >= 2 and normalized.startswith(word):
                return "yes" if word in self.yes else "no"
        return None


_DIGITS = re.compile(r"^\d{1,3}$")


def match_choice(
    normalized: str, offered: Sequence[Candidate], vocabulary: Vocabulary, exact_only: bool = False
) -> str | None:
    """The id of the offered choice the answer names, or None when it names none or is ambiguous.
    With `exact_only` (an analyzer reads the rest): a number, a label or alias, or a bare yes/no word."""
    if not normalized:
        return None
    if _DIGITS.match(normalized):
        index = int(normalized) - 1
        return offered[index].id if 0 <= index < len(offered) else None
    exact = [c.id for c in offered if normalized in c.words]
    if len(exact) == 1:
        return exact[0]
    if exact_only:
        word = "yes" if normalized in vocabulary.yes else "no" if normalized in vocabulary.no else None
        meant = [c.id for c in offered if word and c.means == word]
        return meant[0] if len(meant) == 1 else None
    if vocabulary.is_unsure(normalized):  # 「わからない」 is not 「ない」: only an exact label may take it
        return None
    polarity = vocabulary.polarity(normalized)
    if polarity is not None:
        meant = [c.id for c in offered if c.means == polarity]
        if len(meant) == 1:
            return meant[0]
    # Words of 1–2 kana (「ない」「ある」) appear inside unrelated answers: only longer words match partially.
    partial = [
        c.id
        for c in offered
        if any(len(w) >= 3 and (w in normalized or (len(normalized) >= 3 and normalized in w)) for w in c.words)
    ]
    return partial[0] if len(set(partial)) == 1 else None
