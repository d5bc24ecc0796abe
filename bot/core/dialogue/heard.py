"""How `Session.heard` is written: one place for its keys and values (slots.py writes, 「状況」 reads).

- ``flow:state``: the heard choice ids for that question, comma-separated (one per item when `per`);
- ``#n:flow:kind``: how many more items of that kind are still to come (「2件」 made the first one);
- ``#w:flow:kind``: the names said for the next items, tab-separated, each ``name\\x1fwho\\x1fwhat``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_PART, _ITEM = "\x1f", "\t"


@dataclass(frozen=True, slots=True)
class Named:
    """An item said before it exists: its name for 「状況」, the client and the work for the fill-ins."""

    name: str
    who: str = ""
    what: str = ""


def more_key(flow: str, kind: str) -> str:
    return f"#n:{flow}:{kind}"


def names_key(flow: str, kind: str) -> str:
    return f"#w:{flow}:{kind}"


def of_flow(key: str, flow: str) -> bool:
    return key.startswith((f"{flow}:", more_key(flow, ""), names_key(flow, "")))


def left(heard: Mapping[str, str], flow: str, kind: str) -> int | None:
    """How many more items were said to come (None: no count was said)."""
    value = heard.get(more_key(flow, kind))
    if value is None:
        return None
    return int(value) if value.isdigit() else 0


def names(heard: Mapping[str, str], flow: str, kind: str) -> list[Named]:
    value = heard.get(names_key(flow, kind), "")
    return [Named(*[*entry.split(_PART), "", ""][:3]) for entry in value.split(_ITEM) if entry]


def with_names(heard: dict[str, str], flow: str, kind: str, found: list[Named]) -> None:
    """Write (or, with none left, remove) the names said for the next items of a kind."""
    if found:
        clean = (_PART.join(p.replace(_ITEM, " ").replace(_PART, " ") for p in (n.name, n.who, n.what)) for n in found)
        heard[names_key(flow, kind)] = _ITEM.join(clean)
    else:
        heard.pop(names_key(flow, kind), None)


def told(heard: Mapping[str, str], flow: str, kind: str, made: int) -> list[tuple[int, str]]:
    """The items of a kind the user spoke of that the flow has not reached yet: numbers and names."""
    said = names(heard, flow, kind)
    count = max(left(heard, flow, kind) or 0, len(said))
    return [(made + i + 1, said[i].name if i < len(said) else "") for i in range(count)]
