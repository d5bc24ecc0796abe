"""A whole Lancers journey through signed webhooks on Redis: buttons, typed answers, two templates,
the status checklist, and redelivered events that must change nothing and send nothing."""

from __future__ import annotations

import copy

import pytest

from bot.channels.line.render import MAX_ALT_TEXT, shorten
from bot.core.dialogue.checklist import build_checklist
from bot.core.library.model import Library
from bot.core.library.templates import TemplateBook
from bot.core.messages import ItemStatus
from tests.channels import lexicon
from tests.channels.lexicon import said, text
from tests.channels.line import webhooks
from tests.channels.line.chat import LineUser
from tests.channels.line.conftest import StartApp

pytestmark = pytest.mark.redis


def _redelivered(event: dict) -> dict:
    """The same event as LINE redelivers it: same webhookEventId, flagged, with a fresh reply token."""
    again = copy.deepcopy(event)
    again["deliveryContext"] = {"isRedelivery": True}
    again["replyToken"] = webhooks.reply_token()
    return again


async def test_lancers_worker_with_ongoing_job_and_old_proposal(
    start_app: StartApp, redis_url: str, library: Library
) -> None:
    async with start_app(redis_url) as run:
        user = LineUser(run)
        await user.follow()
        assert said("common:menu") in "\n".join(user.texts)
        await user.tap("ランサーズを退会")
        await user.say("もう使わない")  # typed, matched by alias
        await user.tap("退会の準備を進める")
        await user.tap("受注者")
        session, version = await run.session(user.id)
        assert session is not None and session.answer("lancers", "role") == "worker"

        # a redelivered tap: no reply on the new token, no second state change
        again = _redelivered(user.events[-1])
        await run.send(again)
        assert run.fake.sent_to(again["replyToken"]) == []
        assert await run.session(user.id) == (session, version)

        await user.tap("ある")
        await user.tap("キャンセルに同意してもらう")
        await user.tap("作る")
        await user.say("山田")  # client name
        await user.tap("スキップ")  # job title
        await user.say("佐藤")  # user name (remembered for later templates)
        first = TemplateBook(library.templates).render("cancel_ongoing", {"client_name": "山田", "user_name": "佐藤"})
        assert first.body in user.texts, "the template is a message of its own, exactly its body"
        assert "quickReply" not in user.last[user.texts.index(first.body)]

        await user.tap("次へ")
        await user.tap("相手の返事待ち")  # the first job waits for the client's agreement
        await user.tap("ない")  # no other ongoing job
        await user.tap("ある")  # proposals waiting
        await user.say("2時間前")  # typed: the proposal is over an hour old
        assert lexicon.state("lancers:proposal_ask").says[0] in user.texts
        await user.tap("作る")
        assert text("keep_label", value="山田") in user.labels  # the previous fill-in is offered
        await user.say("鈴木")
        await user.tap("スキップ")
        second = TemplateBook(library.templates).render("cancel_proposal", {"client_name": "鈴木", "user_name": "佐藤"})
        assert second.body in user.texts
        templates = [m for batch in user.received for m in batch if m.get("text") in (first.body, second.body)]
        assert len(templates) == 2 and all("quickReply" not in m for m in templates)

        await user.say("状況")
        flex = [m for m in user.last if m["type"] == "flex"]
        session, _ = await run.session(user.id)
        assert session is not None
        checklist = build_checklist(library, session)
        assert len(flex) == 1 and flex[0]["altText"] == shorten(checklist.as_text(), MAX_ALT_TEXT)
        statuses = {item.status for item in checklist.items if item.group == library.flows["lancers"].title}
        assert {ItemStatus.WAITING, ItemStatus.PENDING} <= statuses, "a job waits, a proposal is to do"
        assert user.last[-1]["quickReply"]["items"], "the question follows the checklist"

        # a redelivered typed message: nothing sent, nothing changed
        state = await run.session(user.id)
        again = _redelivered(user.events[-1])
        await run.send(again)
        assert run.fake.sent_to(again["replyToken"]) == []
        assert run.fake.pushes == []
        assert await run.session(user.id) == state

        for batch in user.received:
            assert 1 <= len(batch) <= 5
            assert all("quickReply" not in m for m in batch[:-1]), "only the last message carries buttons"


async def test_same_event_twice_in_one_body_is_applied_once(start_app: StartApp, redis_url: str) -> None:
    async with start_app(redis_url) as run:
        user = LineUser(run)
        await user.follow()
        tap = webhooks.postback(user.id, "c1|common|menu|lancers")
        twin = {**copy.deepcopy(tap), "replyToken": webhooks.reply_token()}
        await run.send(tap, twin)
        _, version = await run.session(user.id)
        assert version == 2  # follow + one tap
        replied = [t for t in (tap["replyToken"], twin["replyToken"]) if run.fake.sent_to(t)]
        assert len(replied) == 1
