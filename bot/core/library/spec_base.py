"""What every schema of `flows/` shares: unknown keys are errors, values are text, problems come all at once."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


M = TypeVar("M")


def ok(model: M, problems: list[str]) -> M:
    """Raise every problem at once (flows check shows them all), or pass the model through."""
    if problems:
        raise ValueError("; ".join(problems))
    return model


def as_text(value: Any) -> Any:
    """YAML reads numbers (and true/false) as such; answers and words are always strings."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return tuple(as_text(v) for v in value)
    return value
