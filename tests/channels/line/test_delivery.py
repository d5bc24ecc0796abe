"""How answers reach LINE: push fallback, loading animation, non-text messages, groups, unfollow, logs."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import pytest

from bot.channels.line.api import api_configuration
from bot.channels.line.render import MorePage
from bot.channels.line.send import LineSender
from bot.conversation import TurnResult, TurnStatus, UserMessage
from bot.core.library.model import Library
from bot.core.messages import ChoiceInput, CommandInput, Option, Question, TurnOutcome, TurnTrace
from tests.channels.lexicon import WORDS, ask, said
from tests.channels.line import webhooks
from tests.channels.line.chat import LineUser
from tests.channels.line.conftest import StartApp
from tests.fakes.line_api import FakeLineApi


def slow_store(store: Any, seconds: float) -> None:
    """Make every load of `store` take `seconds` (a slow Redis)."""
    original = store.load

    async def slow_load(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(seconds)
        return await original(*args, **kwargs)

    store.load = slow_load


async def test_expired_reply_token_falls_back_to_push(start_app: StartApp, fake: FakeLineApi) -> None:
    async with start_app() as run:
        fake.expire_all_reply_tokens = True
        user = LineUser(run)
        await user.follow()
        assert [r.status for r in fake.replies] == [400]
        assert len(fake.pushes) == 1 and fake.pushes[0].status == 200
        push = fake.pushes[0]
        assert push.json["to"] == user.id
        assert push.json["messages"][-1]["quickReply"]["items"], "the pushed answer is the whole answer"
        uuid.UUID(push.headers["X-Line-Retry-Key"])  # a retry key LINE accepts


async def test_used_reply_token_falls_back_to_push(start_app: StartApp, fake: FakeLineApi) -> None:
    async with start_app() as run:
        user = LineUser(run)
        await user.follow()
        tap = webhooks.postback(user.id, "c1|common|menu|lancers")
        fake.used.add(tap["replyToken"])  # as if someone had already replied with it
        await run.send(tap)
        assert len(fake.pushes) == 1 and fake.pushes[0].json["messages"][-1]["text"].startswith(ask("lancers:reason"))


async def test_no_push_when_fallback_is_off(start_app: StartApp, fake: FakeLineApi) -> None:
    async with start_app(line_push_fallback=False) as run:
        fake.expire_all_reply_tokens = True
        user = LineUser(run)
        await user.follow()
        assert len(fake.replies) == 1 and fake.pushes == []
        session, _ = await run.session(user.id)
        assert session is not None, "the turn itself is kept: the user can ask for the question again"


async def test_push_retry_key_makes_a_repeated_push_harmless(fake: FakeLineApi) -> None:
    from linebot.v3.messaging import TextMessage

    sender = LineSender(api_configuration(fake.url, webhooks.TOKEN), push_fallback=True)
    try:
        messages = [TextMessage(text=f"{i}") for i in range(7)]
        assert await sender.deliver("U1", None, messages, "event-1") == "pushed+pushed"
        assert await sender.deliver("U1", None, messages, "event-1") == "pushed+pushed"
    finally:
        await sender.close()
    assert [r.status for r in fake.pushes] == [200, 200, 409, 409]
    assert [len(r.json["messages"]) for r in fake.pushes] == [5, 2, 5, 2]


async def test_loading_animation_for_a_slow_turn(start_app: StartApp, fake: FakeLineApi) -> None:
    async with start_app() as run:
        user = LineUser(run)
        await user.follow()
        assert fake.calls("/v2/bot/chat/loading/start") == [], "a quick turn shows no animation"
        run.channel.loading_after = 0.05
        slow_store(run.app.state.services.store, 0.3)
        await user.tap("ランサーズを退会")
        paths = [r.path for r in fake.requests]
        assert paths[-2:] == ["/v2/bot/chat/loading/start", "/v2/bot/message/reply"], "animation first"
        assert fake.requests[-2].json == {"chatId": user.id, "loadingSeconds": 20}


@pytest.mark.parametrize("kind", ["sticker", "image", "video", "audio", "file", "location"])
async def test_non_text_message_repeats_the_question(start_app: StartApp, library: Library, kind: str) -> None:
    async with start_app() as run:
        user = LineUser(run)
        await user.follow()
        await user.tap("ランサーズを退会")
        question = user.last[-1]
        before, _ = await run.session(user.id)
        await user.deliver(webhooks.message(user.id, kind))
        assert user.texts[0] == library.texts.unsupported
        assert user.last[-1]["text"] == question["text"]
        assert user.last[-1]["quickReply"] == question["quickReply"]
        after, _ = await run.session(user.id)
        assert after is not None and before is not None and (after.flow, after.state) == (before.flow, before.state)


async def test_sticker_from_a_new_user_gets_the_greeting(start_app: StartApp, library: Library) -> None:
    async with start_app() as run:
        user = LineUser(run)
        await user.deliver(webhooks.message(user.id, "sticker"))
        assert user.texts[0] == library.texts.unsupported
        assert said("common:menu") in "\n".join(user.texts) and len(user.last) <= 5


async def test_unknown_postback_data_shows_the_current_question(start_app: StartApp, library: Library) -> None:
    async with start_app() as run:
        user = LineUser(run)
        await user.follow()
        question = user.last[-1]
        await user.deliver(webhooks.postback(user.id, "forged|data"))
        assert user.texts[0] == library.texts.stale_choice
        assert user.last[-1]["quickReply"] == question["quickReply"]


@pytest.mark.redis
async def test_groups_get_an_explanation_and_no_state(start_app: StartApp, redis_url: str, library: Library) -> None:
    async with start_app(redis_url) as run:
        join = webhooks.event("join", webhooks.group_source())
        await run.send(join)
        [notice] = run.fake.sent_to(join["replyToken"])
        assert notice["text"] == library.texts.group_only_dm and "quickReply" not in notice

        member = webhooks.user_id()
        plain = webhooks.event("message", webhooks.group_source(member), message=webhooks.MESSAGE_CONTENTS["text"])
        mention = {"mentionees": [{"index": 0, "length": 5, "type": "user", "isSelf": True}]}
        content = {**webhooks.MESSAGE_CONTENTS["text"], "text": "@退会ナビ", "mention": mention}
        mentioned = webhooks.event("message", webhooks.group_source(member), message=content)
        postback = webhooks.event(
            "postback", webhooks.group_source(member), postback={"data": "c1|common|menu|lancers"}
        )
        redelivered = {**webhooks.event("join", webhooks.group_source()), "deliveryContext": {"isRedelivery": True}}
        await run.send(plain, mentioned, postback, redelivered)
        assert run.fake.sent_to(plain["replyToken"]) == []
        assert run.fake.sent_to(mentioned["replyToken"])[0]["text"] == library.texts.group_only_dm
        assert run.fake.sent_to(postback["replyToken"]) == []
        assert run.fake.sent_to(redelivered["replyToken"]) == []
        assert await run.stored_keys() == []


@pytest.mark.redis
async def test_unfollow_erases_the_user(start_app: StartApp, redis_url: str) -> None:
    async with start_app(redis_url) as run:
        user, other = LineUser(run), LineUser(run)
        await user.follow()
        await other.follow()
        await user.tap("ランサーズを退会")
        assert (await run.session(user.id))[0] is not None
        await run.send(webhooks.unfollow(user.id))
        assert await run.session(user.id) == (None, 0)
        # only the rate-limit bucket is left (an unfollow/follow loop must not refill it), and only until it
        # has refilled: it expires by itself
        left = [key for key in await run.stored_keys() if user.id.encode() in key]
        assert [key.rsplit(b":", 1)[1] for key in left] == [b"bucket"]
        assert run.redis is not None
        assert await run.redis.pttl(left[0]) > 0  # the refill time of the bucket
        assert (await run.session(other.id))[0] is not None, "only that user is erased"


async def test_a_failing_turn_answers_busy(
    start_app: StartApp, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("store down")

    async with start_app() as run:
        monkeypatch.setattr(run.app.state.services.store, "load", broken)
        user = LineUser(run)
        await user.follow()
        assert user.texts == [library.texts.busy]


async def test_logs_carry_no_text_tokens_or_ids(start_app: StartApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with start_app() as run:
        user = LineUser(run)
        event = webhooks.text(user.id, "とても個人的な文章です")
        await user.deliver(event)
        logged = caplog.text
        for secret in ("とても個人的な文章です", event["replyToken"], user.id, webhooks.TOKEN, webhooks.SECRET):
            assert secret not in logged
        assert "type=message" in logged and "outcome=" in logged


async def test_message_text_is_logged_only_when_allowed(start_app: StartApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.line.channel")
    async with start_app(log_message_text=True) as run:
        await LineUser(run).say("ログに出してよい文章")
        assert "ログに出してよい文章" in caplog.text


async def test_shutdown_finishes_running_turns(start_app: StartApp, fake: FakeLineApi) -> None:
    async with start_app() as run:
        slow_store(run.app.state.services.store, 0.3)
        event = webhooks.follow(webhooks.user_id())
        assert (await run.post(webhooks.body(event))).status_code == 200
    # the server has stopped: the turn that was running had finished and replied first
    assert fake.sent_to(event["replyToken"])


async def test_webhook_answers_before_the_turn_finishes(start_app: StartApp, fake: FakeLineApi) -> None:
    async with start_app() as run:
        slow_store(run.app.state.services.store, 0.5)
        event = webhooks.follow(webhooks.user_id())
        started = asyncio.get_running_loop().time()
        assert (await run.post(webhooks.body(event))).status_code == 200
        assert asyncio.get_running_loop().time() - started < 0.4, "LINE must not wait for the turn"
        assert fake.sent_to(event["replyToken"]) == []
        await fake.wait_for(lambda: bool(fake.sent_to(event["replyToken"])))


async def test_sono_hoka_shows_the_next_page(start_app: StartApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """No real flow has more than 13 choices yet: a stand-in conversation asks one with 30."""
    choices = tuple(Option(f"選択肢{i}", ChoiceInput("lancers", "reason", f"c{i}").encode()) for i in range(30))
    seen: list[Any] = []

    async def handle(message: UserMessage) -> TurnResult:
        seen.append(message.inbound)
        return TurnResult(
            TurnStatus.ANSWERED, (Question("どれですか？", choices),), TurnTrace(TurnOutcome.COMMAND, "x", "x")
        )

    async def session(key: Any) -> Any:
        return object()  # a known user

    async with start_app() as run:
        conversation = run.app.state.services.conversation
        monkeypatch.setattr(conversation, "handle", handle)
        monkeypatch.setattr(conversation, "session", session)
        user = LineUser(run)
        await user.deliver(webhooks.postback(user.id, MorePage(1, "lancers", "reason").encode()))
        assert [a["data"] for a in user.actions[:12]] == [o.value for o in choices[12:24]]
        assert user.labels[12] == WORDS.more and seen == [CommandInput("repeat")]
        await user.deliver(webhooks.postback(user.id, MorePage(1, "crowdworks", "other").encode()))
        assert user.actions[0]["data"] == choices[0].value, "a page of another question starts over"


async def test_the_same_reminder_of_two_users_is_pushed_to_both(fake: FakeLineApi, library: Library) -> None:
    """Reminder ids name the flow, the kind and the second (issue 17): two users who asked at once share one.
    The retry key must still differ per user (LINE would answer the second push 409), and stay the same
    for a re-run of one user's reminder."""
    from bot.channels.line.channel import LinePush
    from bot.channels.line.render import LineWords
    from bot.core.messages import Text

    sender = LineSender(api_configuration(fake.url, webhooks.TOKEN), push_fallback=True)
    words = LineWords.of(library)
    try:
        for user in ("U1", "U2", "U1"):  # the third: a re-run of U1's reminder
            await LinePush(sender, words, user, "lancers:payout:1764000000").send((Text("お知らせです"),))
    finally:
        await sender.close()
    assert [(r.json["to"], r.status) for r in fake.pushes] == [("U1", 200), ("U2", 200), ("U1", 409)]
