"""The core stays pure: no network, Redis, LINE, Slack or web imports anywhere in bot/core."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.core

FORBIDDEN = (
    "redis",
    "linebot",
    "slack_sdk",
    "slack_bolt",
    "starlette",
    "uvicorn",
    "aiohttp",
    "httpx",
    "asyncio",
    "socket",
    "requests",
    "bot.store",
    "bot.channels",
    "bot.web",
    "bot.conversation",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_core_imports_nothing_with_io() -> None:
    core = Path(bot.core.__file__).parent
    offenders = {
        f"{path.name}: {module}"
        for path in core.glob("*.py")
        for module in imported_modules(path)
        if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN)
    }
    assert not offenders
