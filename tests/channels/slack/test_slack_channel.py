"""Mentions in a channel, the slash command and the Home tab."""

from __future__ import annotations

from bot.core.library.model import Library
from bot.core.session import SessionKey
from tests.channels.lexicon import ask, checklist_lines, first_line, label, text
from tests.channels.slack.harness import running, settings_for
from tests.fakes.slack_api import FakeSlackApi


async def test_a_mention_is_answered_in_a_thread_without_anyone_elses_data(
    library: Library, slack_api: FakeSlackApi
) -> None:
    workspace = slack_api.add_workspace("T1", bot_user_id="UBOT")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        await slack.mention("U1", "<@UBOT> こんにちは", channel="C1")
        await slack.settle()
        first = slack_api.posts("C1")[-1]
        thread = first.params["thread_ts"]
        assert thread and ask("common:menu") in first.text()

        await slack.mention("U1", "<@UBOT> クラウドワークス", channel="C1", thread_ts=thread)
        await slack.settle()
        assert slack_api.posts("C1")[-1].params["thread_ts"] == thread
        await slack.click(slack_api.last_question("C1"), label("crowdworks:reregister", "proceed"), "U1")
        await slack.settle()
        await slack.click(slack_api.last_question("C1"), label("crowdworks:login_method", "google"), "U1")
        await slack.settle()

        # U1's checklist goes to U1 alone, in the thread, never to the channel
        await slack.mention("U1", "<@UBOT> 状況", channel="C1", thread_ts=thread)
        await slack.settle()
        mine = slack_api.of("chat.postEphemeral")[-1]
        assert mine.params["user"] == "U1" and mine.params["thread_ts"] == thread
        session = await slack.services.conversation.session(SessionKey("slack", "T1", "U1"))
        assert session is not None and all(line in mine.text() for line in checklist_lines(session))
        assert not any(text("status_title") in c.text() for c in slack_api.posts("C1"))

        # U2 in the same thread has a session of their own and sees nothing of U1's
        await slack.mention("U2", "<@UBOT> 状況", channel="C1", thread_ts=thread)
        await slack.settle()
        theirs = slack_api.of("chat.postEphemeral")[-1]
        assert theirs.params["user"] == "U2"
        assert text("status_empty") in theirs.text()
        assert not any(line in theirs.text() for line in checklist_lines(session))
        assert all(c.params["user_id"] == "U2" for c in slack_api.of("views.publish")[-1:])


async def test_someone_elses_question_cannot_be_answered(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1", bot_user_id="UBOT")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        await slack.mention("U1", "<@UBOT>", channel="C1")
        await slack.settle()
        question = slack_api.last_question("C1")
        posts = len(slack_api.posts())

        await slack.click(question, label("common:menu", "crowdworks"), "U2")
        await slack.settle()
        assert len(slack_api.posts()) == posts and not slack_api.of("chat.update")
        notice = slack_api.of("response_url")[-1]
        assert notice.params["response_type"] == "ephemeral"
        assert await slack.services.conversation.session(SessionKey("slack", "T1", "U2")) is None
        mine = await slack.services.conversation.session(SessionKey("slack", "T1", "U1"))
        assert mine is not None and mine.state == "menu"

        # the owner still can
        await slack.click(question, label("common:menu", "crowdworks"), "U1")
        await slack.settle()
        mine = await slack.services.conversation.session(SessionKey("slack", "T1", "U1"))
        assert mine is not None and mine.flow == "crowdworks"


async def test_slash_command(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        response = await slack.command("U1", "")
        assert response.status_code == 200 and not response.content  # an empty ack: nothing shown in the channel
        await slack.settle()
        menu = slack_api.of("response_url")[-1]
        assert menu.params["response_type"] == "ephemeral"
        assert ask("common:menu") in menu.text()

        await slack.command("U1", "クラウドワークス")  # anything else is answered like typed text
        await slack.command("U1", "状況")
        await slack.settle()
        assert any(text("status_title") in c.text() for c in slack_api.of("response_url"))

        await slack.command("U1", "ヘルプ")
        await slack.settle()
        assert any(first_line("help") in c.text() for c in slack_api.of("response_url"))

        await slack.command("U1", "最初から")
        await slack.settle()
        key = SessionKey("slack", "T1", "U1")
        session = await slack.services.conversation.session(key)
        assert session is not None and (session.flow, session.state) == ("common", "menu")

        await slack.command("U1", "削除")
        await slack.settle()
        confirm = slack_api.of("response_url")[-1]
        assert ask("common:erase_confirm") in confirm.text()
        # nothing went to the channel itself: slash answers are private
        assert not slack_api.posts()


async def test_home_tab_is_published_when_opened(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        opened = {"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home"}
        await slack.event(opened)
        await slack.settle()
        empty = slack_api.of("views.publish")[-1]
        assert empty.params["user_id"] == "U1" and empty.params["view"]["type"] == "home"
        assert text("status_empty") in empty.text()

        for typed in ("クラウドワークス", "はい"):  # into the flow, and decide to leave: its checklist applies
            await slack.dm("U1", typed)
            await slack.settle()
        await slack.event(opened)
        await slack.settle()
        session = await slack.services.conversation.session(SessionKey("slack", "T1", "U1"))
        assert session is not None and checklist_lines(session)
        assert all(line in slack_api.of("views.publish")[-1].text() for line in checklist_lines(session))
        published = len(slack_api.of("views.publish"))

        await slack.event({**opened, "tab": "messages"})  # the Messages tab: nothing to publish
        await slack.settle()
        assert len(slack_api.of("views.publish")) == published


async def test_opening_the_dm_the_first_time_greets(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        opened = {"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "messages"}
        await slack.event(opened)
        await slack.settle()
        assert ask("common:menu") in slack_api.posts("DU1")[-1].text()
        await slack.event(opened)  # every later visit: nothing (the user is welcomed back when they write)
        await slack.settle()
        assert len(slack_api.posts()) == 1


async def test_uninstall_in_single_workspace_mode_erases_the_sessions(
    library: Library, slack_api: FakeSlackApi
) -> None:
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        await slack.dm("U1", "クラウドワークス")
        await slack.dm("U2", "ランサーズ")
        await slack.settle()
        await slack.event({"type": "app_uninstalled"})
        await slack.settle()
        for user in ("U1", "U2"):
            assert await slack.services.conversation.session(SessionKey("slack", "T1", user)) is None
