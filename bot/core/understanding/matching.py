"""Matching a typed answer to the offered choices, by number, label, alias, yes/no meaning or a longer word.

Matching is deliberately conservative: when two choices could match, nothing matches and the user is asked
again, because a wrong guess moves the conversation somewhere the user did not mean.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.library.vocabulary import Candidate, Vocabulary

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
