"""REDIS_PASSWORD: the Redis password apart from REDIS_URL (deploy/k8s and deploy/compose.yaml pass it so), given
to redis-py as is (no percent-encoding), for every URL form; refused next to a URL that carries one; never shown."""

from __future__ import annotations

import logging

import pytest
import redis

from bot.config import Settings
from bot.store.redis import RedisSessionStore
from bot.store.redis_url import connect
from bot.wiring import build_store
from tests.redis_support import no_redis, redis_server

# every character that would have to be percent-encoded in a URL
PASSWORD = "p@ss/w:rd%2F?#+ =&"


def _settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_the_setting_is_secret_and_empty_means_unset() -> None:
    settings = _settings(redis_url="redis://redis:6379/0", redis_password=PASSWORD)
    assert settings.redis_secret == PASSWORD
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())
    assert _settings(redis_password="").redis_secret is None
    assert _settings().redis_secret is None


@pytest.mark.parametrize(
    ("url", "username"),
    [("redis://redis:6379/0", None), ("redis://alice@redis:6379/2", "alice"), ("rediss://redis:6380/0", None)],
)
async def test_standalone_forms_get_the_password_as_is(url: str, username: str | None) -> None:
    connection = connect(url, password=PASSWORD)
    try:
        kwargs = connection.client.connection_pool.connection_kwargs  # type: ignore[union-attr]
        assert kwargs["password"] == PASSWORD
        assert kwargs.get("username") == username
    finally:
        await connection.client.aclose()


async def test_unix_cluster_and_sentinel_forms_get_the_password() -> None:
    unix = connect("unix:///run/redis.sock?db=0", password=PASSWORD)
    assert unix.client.connection_pool.connection_kwargs["password"] == PASSWORD  # type: ignore[union-attr]
    await unix.client.aclose()
    cluster = connect("redis+cluster://10.0.0.1:6379", password=PASSWORD)
    assert cluster.client.nodes_manager.connection_kwargs["password"] == PASSWORD  # type: ignore[union-attr]
    await cluster.client.aclose()
    sentinel = connect("redis+sentinel://s1,s2:26380/mymaster/1", password=PASSWORD)
    try:
        assert sentinel.client.connection_pool.connection_kwargs["password"] == PASSWORD  # type: ignore[union-attr]
        assert sentinel.sentinel is not None
        # the master's password only: the Sentinels themselves are asked without one
        assert all(s.connection_pool.connection_kwargs.get("password") is None for s in sentinel.sentinel.sentinels)
    finally:
        await sentinel.client.aclose()
        await sentinel.sentinel.aclose()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "url",
    [
        "redis://:inurl@redis:6379/0",
        "redis://alice:inurl@redis:6379/0",
        "rediss+cluster://:inurl@node:6379",
        "redis+sentinel://:inurl@s1,s2/mymaster",
        "unix://:inurl@/run/redis.sock",
    ],
)
def test_a_url_with_its_own_password_is_refused_without_showing_either(url: str) -> None:
    with pytest.raises(ValueError, match="REDIS_PASSWORD") as raised:
        connect(url, password=PASSWORD)
    assert "inurl" not in str(raised.value) and PASSWORD not in str(raised.value)


async def test_a_user_name_or_an_empty_password_in_the_url_is_not_a_password() -> None:
    for url in ("redis://alice@redis:6379/0", "redis://:@redis:6379/0", "redis://redis:6379/0?x=a:b@c"):
        connection = connect(url, password=PASSWORD)
        assert connection.client.connection_pool.connection_kwargs["password"] == PASSWORD  # type: ignore[union-attr]
        await connection.client.aclose()


async def test_without_redis_password_the_url_decides() -> None:
    connection = connect("redis://:in%40url@redis:6379/0")
    assert connection.client.connection_pool.connection_kwargs["password"] == "in@url"  # type: ignore[union-attr]
    await connection.client.aclose()


@pytest.mark.redis
async def test_the_store_authenticates_with_redis_password(caplog: pytest.LogCaptureFixture) -> None:
    """Against a throwaway server with requirepass: the settings' store answers; without the password, or
    with a wrong one, it is unreachable (as /readyz reports it), and no log line shows the password."""
    caplog.set_level(logging.DEBUG)
    try:
        with redis_server() as port:  # started open (the helper waits for a PING), then locked
            with redis.Redis(port=port) as admin:
                admin.config_set("requirepass", PASSWORD)
            url = f"redis://127.0.0.1:{port}/0"
            stores = {
                "right": build_store(_settings(redis_url=url, redis_password=PASSWORD)),
                "none": build_store(_settings(redis_url=url)),
                "wrong": build_store(_settings(redis_url=url, redis_password="not-it")),
            }
            try:
                answers = {name: await store.ping() for name, store in stores.items()}
            finally:
                for store in stores.values():
                    await store.close()
    except (OSError, RuntimeError, redis.RedisError) as exc:
        no_redis(f"no throwaway Redis with a password: {exc}", required=False)
    assert answers == {"right": True, "none": False, "wrong": False}
    assert all(isinstance(store, RedisSessionStore) for store in stores.values())
    assert PASSWORD not in caplog.text and "not-it" not in caplog.text
