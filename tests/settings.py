"""Settings for a test app: nothing from the environment or a `.env`, no store and no channel unless the
test turns it on — so a developer's LINE or Slack secrets can never reach a test."""

from __future__ import annotations

from typing import Any

from bot.config import Settings

NOTHING_ON: dict[str, Any] = {
    "redis_url": None,
    "line_channel_secret": None,
    "line_channel_access_token": None,
    "slack_bot_token": None,
    "slack_signing_secret": None,
    "slack_client_id": None,
    "log_message_text": False,
}


def app_settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **{**NOTHING_ON, **overrides})  # type: ignore[call-arg]
