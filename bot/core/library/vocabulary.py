"""The words of the flows as the matcher sees them: each choice's words (`Candidate`) and the lexicon's
yes / no / unsure / command words (`Vocabulary`), normalised once when the library is loaded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.core.japanese.normalize import normalize


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
