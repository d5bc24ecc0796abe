"""A whole CrowdWorks withdrawal in a DM, with button taps and typed answers, over real signed HTTP."""

from __future__ import annotations

from bot.channels.slack.render import ANSWERED_MARK
from bot.core.library.model import Library
from bot.core.session import SessionKey
from tests.channels.lexicon import ask, checklist_lines, label, said, text
from tests.channels.slack.harness import SlackHarness, running, settings_for
from tests.fakes.slack_api import FakeSlackApi

USER = "U1"
DM = "DU1"


async def _answer(slack: SlackHarness, label: str) -> None:
    """Tap `label` on the latest question in the DM and wait for the turn to finish."""
    response = await slack.click(slack.api.last_question(DM), label, USER)
    assert response.status_code == 200
    await slack.settle()


async def _type(slack: SlackHarness, text: str) -> None:
    response = await slack.dm(USER, text)
    assert response.status_code == 200
    await slack.settle()


async def test_crowdworks_journey_with_facebook_login(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    settings = settings_for(slack_api, slack_bot_token=workspace.token)
    async with running(settings, library, slack_api) as slack:
        await _type(slack, "こんにちは")
        menu = slack_api.last_question(DM)
        crowdworks = label("common:menu", "crowdworks")
        assert ask("common:menu") in menu.text()
        assert crowdworks in [b["text"]["text"] for b in menu.buttons()]

        await _answer(slack, crowdworks)
        # the tapped question lost its buttons and now shows the answer
        update = slack_api.of("chat.update")[-1]
        assert update.params["ts"] == menu.ts and not update.buttons()
        assert f"{ANSWERED_MARK} {crowdworks}" in update.text()

        await _answer(slack, label("crowdworks:reregister", "proceed"))
        assert ask("crowdworks:login_method") in slack_api.last_question(DM).text()
        await _answer(slack, label("crowdworks:login_method", "facebook"))
        password = slack_api.last_question(DM)
        assert said("crowdworks:external_password") in password.text()
        assert ask("crowdworks:external_password") in password.text()

        await _type(slack, "設定できた")  # free text answers as typed
        assert ask("crowdworks:contract") in slack_api.last_question(DM).text()
        for _ in range(4):  # contract, settlement, escrow, balance
            await _type(slack, "ない")
        assert library.state("crowdworks:csv").ask in slack_api.last_question(DM).text()
        await _answer(slack, label("crowdworks:csv", "done"))
        await _type(slack, "税金の話は飛ばす")
        await _answer(slack, text("next_label"))

        procedure = slack_api.last_question(DM)
        assert said("crowdworks:procedure", 0) in procedure.text()
        assert said("crowdworks:procedure", 1) in procedure.text()
        assert ask("crowdworks:procedure") in procedure.text()

        # every post went to the DM with the workspace's token, and nothing was ephemeral
        assert {c.params["channel"] for c in slack_api.posts()} == {DM}
        assert {c.token for c in slack_api.posts()} == {workspace.token}
        assert not slack_api.of("chat.postEphemeral")

        # the Home tab follows each turn: the last one shows the checklist of the stored session
        home = slack_api.of("views.publish")[-1]
        assert home.params["user_id"] == USER
        session = await slack.services.conversation.session(SessionKey("slack", "T1", USER))
        assert session is not None and session.state == "procedure"
        lines = checklist_lines(session)
        assert lines and all(line in home.text() for line in lines)
        assert session.answers["crowdworks"]["login"] == "facebook"


async def test_an_old_button_cannot_be_pressed_twice(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        await _type(slack, "こんにちは")
        menu = slack_api.last_question(DM)
        await _answer(slack, label("common:menu", "crowdworks"))
        posts, updates = len(slack_api.posts()), len(slack_api.of("chat.update"))

        # the same question again, with the same or another button: one answer per question message
        await slack.click(menu, label("common:menu", "crowdworks"), USER)
        await slack.click(menu, label("common:menu", "lancers"), USER)
        await slack.settle()
        assert len(slack_api.posts()) == posts
        assert len(slack_api.of("chat.update")) == updates
        session = await slack.services.conversation.session(SessionKey("slack", "T1", USER))
        assert session is not None and (session.flow, session.state) == ("crowdworks", "reregister")


async def test_bot_messages_edits_and_subtypes_are_ignored(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        base = {"type": "message", "channel_type": "im", "channel": DM, "ts": "1.1", "text": "こんにちは"}
        ignored = [
            {**base, "user": USER, "subtype": "message_changed"},
            {**base, "user": USER, "subtype": "message_deleted"},
            {**base, "user": USER, "subtype": "file_share"},
            {**base, "user": "UOTHERBOT", "bot_id": "B2"},
            {**base, "user": "UBOT"},  # the bot itself
            {**base, "user": USER, "edited": {"user": USER, "ts": "1.2"}},
        ]
        for event in ignored:
            assert (await slack.event(event)).status_code == 200
        await slack.settle()
        assert not slack_api.posts()
        assert await slack.services.conversation.session(SessionKey("slack", "T1", USER)) is None


async def test_a_checklist_stays_inline_in_a_dm(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        await _type(slack, "クラウドワークス")
        await _type(slack, "状況")
        checklist = slack_api.posts(DM)[-2]
        assert text("status_title") in checklist.text() and not checklist.buttons()
        assert not slack_api.of("chat.postEphemeral")
