""".env.example lists every setting, with defaults that are the real ones and no secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Settings
from tests.deploy import ENV_EXAMPLE, secret_setting_names, setting_names

# `NAME=value` or `# NAME=value` (a commented-out setting: uncomment to use it).
_ENTRY = re.compile(r"^(?P<comment>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


def _entries() -> list[tuple[bool, str, str]]:
    """(active, NAME, value) for every setting line of .env.example."""
    entries = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = _ENTRY.match(line.strip())
        if match:
            entries.append((match["comment"] is None, match["name"], match["value"].strip()))
    return entries


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting from the test's own environment (CI exports REDIS_URL, for one)."""
    for name in setting_names():
        monkeypatch.delenv(name, raising=False)


def _dump(settings: Settings) -> dict[str, object]:
    return {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in settings.model_dump().items()
    }


def test_every_setting_is_listed_once() -> None:
    names = [name for _, name, _ in _entries()]
    missing = setting_names() - set(names)
    assert not missing, f".env.example lacks {sorted(missing)}: add them (a comment and a safe default)"
    unknown = set(names) - setting_names()
    assert not unknown, f".env.example lists names that Settings does not read: {sorted(unknown)}"
    duplicated = {name for name in names if names.count(name) > 1}
    assert not duplicated, duplicated


def test_every_setting_has_a_comment() -> None:
    lines = [line.strip() for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()]
    entry_rows = [i for i, line in enumerate(lines) if _ENTRY.match(line)]
    for row in entry_rows:
        above = row - 1
        while above >= 0 and _ENTRY.match(lines[above]):  # a group of related settings shares a comment
            above -= 1
        assert above >= 0 and lines[above].startswith("#"), f"no comment above {lines[row]!r}"


def test_no_secret_values() -> None:
    for _, name, value in _entries():
        if name == "REDIS_URL":  # an example URL to copy, without credentials
            assert "@" not in value, "REDIS_URL in .env.example must not carry a password"
        elif name in secret_setting_names():
            assert value == "", f"{name} must be empty in .env.example"


def test_image_owned_settings_are_not_active() -> None:
    """HOST/PORT/FLOWS_DIR come from the image and REDIS_URL from compose: an active line in a copied .env
    (compose env_file) would override the image's HOST=0.0.0.0 and the bot would listen on loopback only."""
    active = {name for is_active, name, _ in _entries() if is_active}
    assert not active & {"HOST", "PORT", "FLOWS_DIR", "REDIS_URL"}


@pytest.mark.usefixtures("clean_env")
def test_a_fresh_copy_changes_nothing() -> None:
    """`cp .env.example .env` gives exactly the built-in defaults until the operator edits it."""
    assert _dump(Settings(_env_file=ENV_EXAMPLE)) == _dump(Settings(_env_file=None))


@pytest.mark.usefixtures("clean_env")
def test_documented_defaults_are_the_real_ones(tmp_path: Path) -> None:
    """Uncomment every line that shows a value: it must parse, and equal the default in bot/config.py."""
    lines = [f"{name}={value}" for _, name, value in _entries() if value]
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    uncommented = _dump(Settings(_env_file=env_file))
    defaults = _dump(Settings(_env_file=None))
    # examples rather than defaults: a Redis URL to copy, and flows/ relative to where you run it
    examples = {"redis_url", "flows_dir"}
    drift = {
        name: (uncommented[name], defaults[name])
        for name in defaults
        if name not in examples and uncommented[name] != defaults[name]
    }
    assert not drift, f".env.example shows values that are not the defaults (shown, real): {drift}"
    assert uncommented["redis_url"], "REDIS_URL should show an example URL"
