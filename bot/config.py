"""Settings, read once from the environment (and an optional `.env`) at start-up and passed down.

Secrets are `SecretStr`, so they never appear in a repr, a log line or an error message. A leaf: it imports
nothing of the bot, so every layer may read it; the stores take their defaults from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The one set of defaults, for `Settings` and for a store built without settings (tests, tools).
DEFAULT_DEDUPE_SECONDS = 86400  # a platform redelivers within minutes; a day covers any retry
DEFAULT_BURST = 20  # messages a user may send at once
DEFAULT_PER_MINUTE = 40.0  # then this many a minute

_REPO_FLOWS = Path(__file__).resolve().parent.parent / "flows"


def _default_flows_dir() -> Path:
    return _REPO_FLOWS if _REPO_FLOWS.is_dir() else Path.cwd() / "flows"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    # conversation
    flows_dir: Path = Field(default_factory=_default_flows_dir)
    session_ttl_days: float = Field(default=30, gt=0)
    resume_after_seconds: int = Field(default=6 * 3600, ge=0)
    max_text_length: int = Field(default=2000, ge=10)

    # storage: unset means the embedded in-memory store (one process, nothing kept across restarts)
    redis_url: SecretStr | None = None  # may carry a password: never logged
    # The password apart from the URL (a Secret key in Kubernetes, .env in compose): any characters, no
    # percent-encoding. Used only with REDIS_URL, and refused when the URL carries a password too.
    redis_password: SecretStr | None = None
    redis_key_prefix: str = "taikai"
    dedupe_seconds: int = Field(default=DEFAULT_DEDUPE_SECONDS, gt=0)
    rate_limit_burst: int = Field(default=DEFAULT_BURST, ge=1)  # messages a user may send at once
    rate_limit_per_minute: float = Field(default=DEFAULT_PER_MINUTE, gt=0)  # then this many a minute

    # reminders (a job queue on the same Redis; off without REDIS_URL and on Redis Cluster)
    reminders_enabled: bool = True
    reminders_per_week: int = Field(default=3, ge=0)  # at most this many delivered per user and week

    # server
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # addresses whose X-Forwarded-For/-Proto are believed (the proxy in front): "*" behind a proxy that is
    # the only way in (compose's nginx, a Kubernetes ingress); the default trusts only this host
    forwarded_allow_ips: str = "127.0.0.1"
    log_level: str = "INFO"
    log_message_text: bool = False  # message text is personal data: off unless an operator turns it on
    log_json: bool = True  # one JSON object per line (for log shippers); false: plain text
    log_hash_key: SecretStr | None = None  # keys the user pseudonyms in logs (same on every replica)

    # LINE
    line_channel_secret: SecretStr | None = None
    line_channel_access_token: SecretStr | None = None
    line_api_base_url: str = "https://api.line.me"
    line_push_fallback: bool = True

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_base_url: str = "https://slack.com/api/"
    # Slack OAuth (multi-workspace): bot scopes asked at install (comma-separated, as in the manifest), the
    # redirect URL registered with Slack (None: the one in the app settings) and how long an install link
    # stays valid.
    slack_scopes: str = "app_mentions:read,chat:write,commands,im:history"
    slack_redirect_uri: str | None = None
    slack_state_expiration_seconds: int = Field(default=600, gt=0)

    # the web chat at /chat (bot/channels/web): off unless turned on. WEBCHAT_SECRET signs its cookie (the
    # same on every replica; unset: a random one per process, so browsers start over after a restart).
    webchat_enabled: bool = False
    webchat_secret: SecretStr | None = None
    webchat_cookie_secure: bool | None = None  # true / false; unset, empty or "auto": Secure when over HTTPS
    webchat_cookie_samesite: Literal["lax", "strict", "none"] = "lax"  # "none" (with HTTPS) to embed cross-site
    webchat_frame_ancestors: str = "'self'"  # CSP frame-ancestors: the sites that may embed /chat in an iframe
    webchat_allowed_origins: str = ""  # comma-separated origins allowed to POST besides the chat's own

    # the read-only console at /admin (bot/web/admin.py): off while ADMIN_TOKEN is unset
    admin_token: SecretStr | None = None

    @field_validator("webchat_cookie_secure", mode="before")
    @classmethod
    def _auto(cls, value: object) -> object:
        """「WEBCHAT_COOKIE_SECURE=」 (as .env.example shows it) and 「auto」 mean: decided per request."""
        return None if isinstance(value, str) and value.strip().lower() in ("", "auto") else value

    @property
    def session_ttl_seconds(self) -> int:
        return int(self.session_ttl_days * 86400)

    @property
    def redis_dsn(self) -> str | None:
        return self.redis_url.get_secret_value() if self.redis_url else None

    @property
    def redis_secret(self) -> str | None:
        """REDIS_PASSWORD, or None when it is unset or empty."""
        password = self.redis_password.get_secret_value() if self.redis_password else ""
        return password or None
