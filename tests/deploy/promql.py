"""Just enough PromQL reading to check dashboards and alerts against the app: the series each expression
selects and its label matchers. Not a parser (promtool checks the syntax when installed); it only has to
tell metric names from functions, keywords, label lists, strings and durations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<number>\d[\w.]*)                       # 0.95, 1e6, and durations: 5m, 1h30m
  | (?P<ident>[A-Za-z_:][\w:]*)
  | (?P<op>=~|!~|!=|==|>=|<=|[{}()\[\],=<>+\-*/%^@])
  | (?P<space>\s+)
    """,
    re.VERBOSE,
)
# followed by a parenthesised list of label names, not by an expression
_LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "start", "end"} | _LABEL_LISTS
_AGGREGATORS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}  # fmt: skip


@dataclass(frozen=True)
class Selector:
    """One vector selector: `name{label op "value", …}` (name None for `{__name__=…}` alone)."""

    name: str | None
    matchers: tuple[tuple[str, str, str], ...] = field(default=())


def _tokens(expr: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(expr):
        match = _TOKEN.match(expr, position)
        if match is None:
            raise ValueError(f"cannot read {expr[position : position + 20]!r} in {expr!r}")
        position = match.end()
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group()))
    return tokens


def _closing(tokens: list[tuple[str, str]], start: int, opening: str, closing: str) -> int:
    """Index of the token that closes the bracket at `start`."""
    depth = 0
    for index in range(start, len(tokens)):
        if tokens[index][1] == opening:
            depth += 1
        elif tokens[index][1] == closing:
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced {opening}{closing}")


def _matchers(tokens: list[tuple[str, str]]) -> tuple[tuple[str, str, str], ...]:
    found = []
    parts = [t for t in tokens if t[1] != ","]
    for index in range(0, len(parts) - 2, 3):
        (_, label), (_, op), (kind, value) = parts[index : index + 3]
        if kind != "string":
            raise ValueError(f"matcher {label}{op}{value} needs a quoted value")
        found.append((label, op, value[1:-1]))
    return tuple(found)


def selectors(expr: str) -> list[Selector]:
    """Every vector selector in `expr`, in order."""
    tokens = _tokens(expr)
    found: list[Selector] = []
    index = 0
    while index < len(tokens):
        kind, text = tokens[index]
        following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
        if text == "[":  # a range or a subquery's duration
            index = _closing(tokens, index, "[", "]") + 1
            continue
        if kind == "ident" and text in _LABEL_LISTS and following == "(":
            index = _closing(tokens, index + 1, "(", ")") + 1
            continue
        if kind == "ident" and (following == "(" or text in _KEYWORDS or text in _AGGREGATORS):
            index += 1  # a function, an aggregation or a keyword
            continue
        if kind == "ident" or text == "{":
            name = text if kind == "ident" else None
            start = index + 1 if kind == "ident" else index
            matchers: tuple[tuple[str, str, str], ...] = ()
            if start < len(tokens) and tokens[start][1] == "{":
                end = _closing(tokens, start, "{", "}")
                matchers = _matchers(tokens[start + 1 : end])
                index = end + 1
            else:
                index = start
            found.append(Selector(name, matchers))
            continue
        index += 1
    return found
