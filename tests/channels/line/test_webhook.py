"""The webhook's edge over real HTTP: what is refused (4xx, nothing processed or stored), and that no
input, signed or not, ever gets a 5xx."""

from __future__ import annotations

import json

import pytest
from linebot.v3.webhooks import Event

from tests.channels.line import webhooks
from tests.channels.line.conftest import Running, StartApp

pytestmark = pytest.mark.redis


async def _refused(run: Running, status: int, raw: bytes, headers: dict[str, str | bytes]) -> None:
    response = await run.post(raw, headers)
    assert response.status_code == status, response.text
    await run.settle()
    assert run.fake.requests == [], "nothing may be sent for a refused request"
    assert await run.stored_keys() == [], "nothing may be stored for a refused request"


async def test_refused_requests_store_nothing(start_app: StartApp, redis_url: str) -> None:
    user = webhooks.user_id()
    good = webhooks.body(webhooks.follow(user), webhooks.text(user, "ランサーズ"))
    signed = webhooks.headers(good)
    async with start_app(redis_url) as run:
        await _refused(run, 400, good, {"Content-Type": "application/json"})  # no signature
        await _refused(run, 401, good, {**signed, "X-Line-Signature": webhooks.sign(good, "another-secret")})
        await _refused(run, 401, good, {**signed, "X-Line-Signature": "bm90IGEgc2lnbmF0dXJl"})
        await _refused(run, 401, good, {**signed, "X-Line-Signature": "é".encode() * 22})
        altered = good.replace("ランサーズ".encode(), "クラウドワークス".encode())  # replayed, text changed
        await _refused(run, 401, altered, signed)
        garbage = b'{"destination": "U1", "events": [ {"type": '
        await _refused(run, 400, garbage, webhooks.headers(garbage))
        for shape in (b"[]", b'"events"', b'{"events": {}}', b'{"destination": "U1"}', b"null"):
            await _refused(run, 400, shape, webhooks.headers(shape))
        await _refused(run, 400, b"\xff\xfe{}", webhooks.headers(b"\xff\xfe{}"))  # not UTF-8
        for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
            await _refused(run, 415, good, {**signed, "Content-Type": content_type})
        big = webhooks.body(webhooks.text(user, "あ" * 200_000))
        await _refused(run, 413, big, webhooks.headers(big))


async def test_oversize_body_without_content_length_is_cut(start_app: StartApp, redis_url: str) -> None:
    async def chunks():  # streamed (chunked transfer encoding): no Content-Length to refuse up front
        for _ in range(100):
            yield b" " * 10_000

    async with start_app(redis_url) as run:
        response = await run.client.post(
            "/line/webhook", content=chunks(), headers={"Content-Type": "application/json", "X-Line-Signature": "x"}
        )
        assert response.status_code == 413
        assert await run.stored_keys() == []


async def test_get_is_not_allowed(start_app: StartApp) -> None:
    async with start_app() as run:
        assert (await run.client.get("/line/webhook")).status_code == 405


async def test_every_sdk_event_type_is_answered_200(start_app: StartApp, redis_url: str) -> None:
    user = webhooks.user_id()
    samples = webhooks.every_event_type(user)
    known = set(Event._Event__discriminator_value_class_map)  # what this SDK version defines
    assert known <= set(samples), f"add a sample for {known - set(samples)}"
    async with start_app(redis_url) as run:
        for kind, sample in samples.items():
            response = await run.post(webhooks.body(sample))
            assert response.status_code == 200, (kind, response.text)
            await run.settle()  # one at a time: separate requests carry no order
        replied = {kind for kind, sample in samples.items() if run.fake.sent_to(sample.get("replyToken", "-"))}
        assert replied == {"follow", "join", "message", "postback"}
        assert await run.session(user) == (None, 0), "unfollow came after the turns and erased them"
        # all at once, plus things no SDK knows, events that are not even objects, and a standby event
        odd = [
            {"type": "somethingNew", "webhookEventId": "X", "deliveryContext": {"isRedelivery": False}},
            {"type": "message"},
            "not an event",
            42,
            {**webhooks.text(user, "はい"), "mode": "standby"},
        ]
        fresh = webhooks.every_event_type(webhooks.user_id())
        response = await run.post(webhooks.body(*fresh.values(), *odd))
        assert response.status_code == 200
        await run.settle()
        assert run.app.state.services.tasks.pending == 0
        for request in run.fake.requests:
            assert request.status < 300, (request.path, request.body)


async def test_empty_events_verify_request(start_app: StartApp, redis_url: str) -> None:
    """The console's 「検証」 button sends a signed body with no events: 200, nothing else."""
    async with start_app(redis_url) as run:
        raw = json.dumps({"destination": webhooks.DESTINATION, "events": []}).encode()
        assert (await run.post(raw)).status_code == 200
        await run.settle()
        assert run.fake.requests == [] and await run.stored_keys() == []


async def test_signature_is_checked_before_size_of_json_matters(start_app: StartApp) -> None:
    """A wrongly signed body is refused as such even when it is also malformed."""
    async with start_app() as run:
        response = await run.post(b"{nope", {"Content-Type": "application/json", "X-Line-Signature": "abc"})
        assert response.status_code == 401
