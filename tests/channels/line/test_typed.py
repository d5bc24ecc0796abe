"""Typed replies are read by meaning on LINE too: the analyzer runs in the server, the reading is said back."""

from __future__ import annotations

import pytest

from bot.core.library.model import Library
from tests.channels.line.chat import LineUser
from tests.channels.line.conftest import StartApp

pytestmark = pytest.mark.redis


async def test_how_people_write_is_understood(start_app: StartApp, redis_url: str, library: Library) -> None:
    async with start_app(redis_url) as run:
        user = LineUser(run)
        await user.follow()
        for text in ("ランサーズやめたい", "もう使わないので", "進めます", "受注者です"):
            await user.say(text)
        await user.say("まだ終わってない案件が1件あります")  # the main predicate あります decides, not まだ
        session, _ = await run.session(user.id)
        assert session is not None and session.answers["lancers"]["ongoing"] == "yes"
        assert library.texts.understood.format(label="ある") in user.texts
        await user.say("違う")  # right after a reading: undone, the question again
        session, _ = await run.session(user.id)
        assert session is not None and session.state == "ongoing" and "ongoing" not in session.answers["lancers"]
        await user.say("関連サービスって何ですか？")  # a question mid-flow is answered, not refused
        assert library.flows["lancers"].faq[0].say in user.texts
        session, _ = await run.session(user.id)
        assert session is not None and session.state == "ongoing"
