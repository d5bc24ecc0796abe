"""Slack OAuth installations and install states, in Redis (or in memory when REDIS_URL is unset).

slack_sdk's own stores write files (or SQLite) with blocking I/O on the event loop and keep data on one
replica's disk; these implement its async interfaces (`AsyncInstallationStore`, `AsyncOAuthStateStore`) on
the same Redis as the sessions, so every replica sees an install at once and an uninstall everywhere.

Layout (prefix from REDIS_KEY_PREFIX, parts escaped as in `bot.store.keys`):

- ``<prefix>:{slack-app:<enterprise>:<team>}:installation`` — one hash per workspace (``-`` for a missing
  id), fields ``bot`` (the latest bot install), ``installer`` (the latest installation) and
  ``installer:<user>`` (each installer's latest). One key per workspace makes deleting a workspace one DEL.
  The ``slack-app`` part keeps these keys outside `KeyBuilder.workspace_pattern`, which matches sessions.
- ``<prefix>:slack-oauth-state:<state>`` — an issued OAuth state, expiring by Redis TTL; consuming it is
  one DEL, so a state can be used once even when two callbacks race.

Values are the JSON of the models' attributes (as slack_sdk's file store writes them): they hold tokens,
so nothing here is ever logged.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any, cast

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import RedisError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.store.base import SharedRedis
from bot.store.keys import KeyBuilder

log = logging.getLogger(__name__)

BOT, INSTALLER = "bot", "installer"


def _tag(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False) -> str:
    team = None if is_enterprise_install else team_id  # an org-wide install is stored under the org only
    return KeyBuilder.tag_for("slack-app", enterprise_id or "-", team or "-")


def _user_field(user_id: str) -> str:
    return f"{INSTALLER}:{user_id}"


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _dump(model: Installation | Bot) -> str:
    return json.dumps(model.__dict__)


def _merge_latest_bot(installation: Installation, bot: Bot | None) -> Installation:
    """An installer's record may hold an older bot token than the workspace's latest one: prefer the latest
    (slack_sdk's stores do the same; see bolt-python issue #664)."""
    if bot is not None and installation.bot_token != bot.bot_token:
        installation.bot_id = bot.bot_id
        installation.bot_user_id = bot.bot_user_id
        installation.bot_token = bot.bot_token
        installation.bot_scopes = bot.bot_scopes
        installation.bot_refresh_token = bot.bot_refresh_token
        installation.bot_token_expires_at = bot.bot_token_expires_at
    return installation


class _HashInstallationStore(AsyncInstallationStore):
    """The installation logic over "one hash of JSON fields per workspace"; backends supply the hash ops."""

    @property
    def logger(self) -> logging.Logger:
        return log

    async def _get(self, tag: str, field: str) -> str | None:
        raise NotImplementedError

    async def _set(self, tag: str, fields: dict[str, str]) -> None:
        raise NotImplementedError

    async def _fields(self, tag: str) -> list[str]:
        raise NotImplementedError

    async def _delete(self, tag: str, fields: list[str] | None) -> None:
        """Delete `fields` of the workspace's hash, or the whole hash when None."""
        raise NotImplementedError

    async def async_save(self, installation: Installation) -> None:
        tag = _tag(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        body = _dump(installation)
        fields = {INSTALLER: body, _user_field(installation.user_id or "-"): body}
        if installation.bot_token is not None:
            fields[BOT] = _dump(installation.to_bot())
        await self._set(tag, fields)

    async def async_save_bot(self, bot: Bot) -> None:
        if bot.bot_token is not None:
            await self._set(_tag(bot.enterprise_id, bot.team_id, bot.is_enterprise_install), {BOT: _dump(bot)})

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        raw = await self._get(_tag(enterprise_id, team_id, is_enterprise_install), BOT)
        return None if raw is None else Bot(**json.loads(raw))

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        tag = _tag(enterprise_id, team_id, is_enterprise_install)
        raw = await self._get(tag, INSTALLER if user_id is None else _user_field(user_id))
        if raw is None:
            return None
        installation = Installation(**json.loads(raw))
        if user_id is not None or installation.bot_token is None:
            bot = await self.async_find_bot(
                enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
            )
            installation = _merge_latest_bot(installation, bot)
        return installation

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._delete(_tag(enterprise_id, team_id), [BOT])

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """One installer's records, or (user_id None) every installer record of the workspace."""
        tag = _tag(enterprise_id, team_id)
        if user_id is not None:
            await self._delete(tag, [_user_field(user_id)])
            return
        fields = [f for f in await self._fields(tag) if f == INSTALLER or f.startswith(f"{INSTALLER}:")]
        if fields:
            await self._delete(tag, fields)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Everything about the workspace at once (uninstall)."""
        await self._delete(_tag(enterprise_id, team_id), None)

    async def close(self) -> None:
        """Release the backend's connections (nothing for the memory store)."""


class RedisInstallationStore(_HashInstallationStore):
    def __init__(self, client: Redis | RedisCluster, keys: KeyBuilder) -> None:
        """`client` is the session store's (shared, closed with it); values come back as bytes or str."""
        self._client = client
        self._prefix = keys.prefix
        # Last value read per (workspace, field): used only when Redis does not answer, so that during an
        # outage Bolt can still authorize events (and the user gets the "busy" reply instead of silence).
        self._last_seen: dict[tuple[str, str], str | None] = {}

    def _key(self, tag: str) -> str:
        return f"{self._prefix}:{tag}:installation"

    async def _get(self, tag: str, field: str) -> str | None:
        try:
            value = _text(await self._client.hget(self._key(tag), field))
        except (RedisError, OSError):
            if (tag, field) not in self._last_seen:
                raise
            log.warning("Redis unavailable: using the last known Slack installation")
            return self._last_seen[(tag, field)]
        self._last_seen[(tag, field)] = value
        return value

    async def _set(self, tag: str, fields: dict[str, str]) -> None:
        await self._client.hset(self._key(tag), mapping=cast(Any, fields))
        self._forget(tag)

    def _forget(self, tag: str) -> None:
        for cached in [k for k in self._last_seen if k[0] == tag]:
            del self._last_seen[cached]

    async def _fields(self, tag: str) -> list[str]:
        return [_text(field) or "" for field in await self._client.hkeys(self._key(tag))]

    async def _delete(self, tag: str, fields: list[str] | None) -> None:
        if fields is None:
            await self._client.delete(self._key(tag))
        else:
            await self._client.hdel(self._key(tag), *fields)
        self._forget(tag)

    async def close(self) -> None:
        """Nothing to close: the client belongs to the session store."""


class MemoryInstallationStore(_HashInstallationStore):
    """For one process without Redis (local development): forgotten at restart."""

    def __init__(self) -> None:
        self._hashes: dict[str, dict[str, str]] = {}

    async def _get(self, tag: str, field: str) -> str | None:
        return self._hashes.get(tag, {}).get(field)

    async def _set(self, tag: str, fields: dict[str, str]) -> None:
        self._hashes.setdefault(tag, {}).update(fields)

    async def _fields(self, tag: str) -> list[str]:
        return list(self._hashes.get(tag, {}))

    async def _delete(self, tag: str, fields: list[str] | None) -> None:
        if fields is None:
            self._hashes.pop(tag, None)
            return
        values = self._hashes.get(tag, {})
        for field in fields:
            values.pop(field, None)
        if not values:
            self._hashes.pop(tag, None)


class RedisOAuthStateStore(AsyncOAuthStateStore):
    def __init__(self, client: Redis | RedisCluster, keys: KeyBuilder, expiration_seconds: int) -> None:
        """`client` is shared with (and closed by) the installation store."""
        self._client = client
        self._keys = keys
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    def _key(self, state: str) -> str:
        return self._keys.oauth_state(state)

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = uuid.uuid4().hex
        await self._client.set(self._key(state), "1", ex=self.expiration_seconds)
        return state

    async def async_consume(self, state: str) -> bool:
        """True once for a state issued here and not expired; a second callback with it gets False."""
        return bool(state) and bool(await self._client.delete(self._key(state)))


class MemoryOAuthStateStore(AsyncOAuthStateStore):
    def __init__(self, expiration_seconds: int) -> None:
        self.expiration_seconds = expiration_seconds
        self._issued: dict[str, float] = {}

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        now = time.monotonic()
        self._issued = {s: at for s, at in self._issued.items() if now - at < self.expiration_seconds}
        state = uuid.uuid4().hex
        self._issued[state] = now
        return state

    async def async_consume(self, state: str) -> bool:
        issued = self._issued.pop(state, None)
        return issued is not None and time.monotonic() - issued < self.expiration_seconds


InstallationStore = RedisInstallationStore | MemoryInstallationStore
OAuthStores = tuple[InstallationStore, RedisOAuthStateStore | MemoryOAuthStateStore]


def oauth_stores(redis: SharedRedis | None, expiration_seconds: int) -> OAuthStores:
    """In the session store's Redis when there is one (`SessionStore.shared_redis`), else memory (one
    process, for trying out)."""
    if redis is not None:
        installations = RedisInstallationStore(redis.client, redis.keys)
        return installations, RedisOAuthStateStore(redis.client, redis.keys, expiration_seconds)
    log.warning("Slack OAuth without REDIS_URL: installations are kept in memory and lost at restart")
    return MemoryInstallationStore(), MemoryOAuthStateStore(expiration_seconds)
