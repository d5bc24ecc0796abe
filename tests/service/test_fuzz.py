"""Fuzz both webhooks, signed and unsigned: never a 5xx, never a traceback in the log (issue 11).

Bounded by default (`TAIKAI_FUZZ_BODIES`, 600 requests: a few seconds); set it higher for a longer run, and
`TAIKAI_FUZZ_SEED` to replay one. All on one keep-alive connection: a 500 used to drop it without notice.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from bot.core.library.model import Library
from bot.store.keys import KeyBuilder
from bot.store.redis import RedisSessionStore
from tests.fakes.line_api import FakeLineApi
from tests.fakes.slack_api import FakeSlackApi
from tests.redis_support import PREFIX, delete_prefix
from tests.service.attack import attacks, both_settings, captured_logs, running

BODIES = int(os.environ.get("TAIKAI_FUZZ_BODIES", "600"))
SEED = int(os.environ.get("TAIKAI_FUZZ_SEED", "11"))


@pytest.fixture
async def line_api() -> AsyncIterator[FakeLineApi]:
    api = FakeLineApi("test-access-token")
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


async def test_fuzzed_bodies_never_give_a_5xx_or_a_traceback(
    library: Library, line_api: FakeLineApi, slack_api: FakeSlackApi, redis_url: str
) -> None:
    workspace = slack_api.add_workspace("T1")
    settings = both_settings(line_api, slack_api, workspace.token)
    prefix = f"{PREFIX}-fuzz"
    store = RedisSessionStore.from_url(redis_url, 3600, keys=KeyBuilder(prefix))
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    try:
        with captured_logs("DEBUG") as logs:
            async with running(settings, library, store) as server:
                for attack in attacks(SEED, BODIES, slack_api.response_url()):
                    response = await server.http.post(attack.path, content=attack.body, headers=attack.headers)
                    statuses[response.status_code] += 1
                    if response.status_code >= 500:
                        failures.append(f"{attack.label}: {response.status_code} {attack.body[:120]!r}")
                await server.settle()
                assert (await server.http.get("/healthz")).status_code == 200, "the connection is still usable"
                metrics = (await server.http.get("/metrics")).text
    finally:
        await delete_prefix(redis_url, prefix)
    assert not failures, "\n".join(failures[:20])
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.strip()]
    tracebacks = [line for line in lines if "exc" in line or "Traceback" in line["msg"]]
    assert not tracebacks, [(line["msg"], line.get("exc")) for line in tracebacks[:3]]
    assert not [line for line in lines if line["logger"] == "taikai.turn" and line["msg"].startswith("session store")]
    assert 'taikai_store_errors_total{operation="turn"}' not in metrics, "no malformed body counts as an outage"
    assert max(len(line["msg"]) for line in lines) < 1200, "every log line is bounded"
    assert statuses[200] and (statuses[400] or statuses[401]), statuses  # both kinds of paths were exercised
    print(f"\nfuzz: {BODIES} bodies (seed {SEED}), statuses {dict(sorted(statuses.items()))}, {len(lines)} log lines")
