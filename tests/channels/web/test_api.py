"""The web chat over real HTTP: the page, a conversation by taps and typed text, and every way a request can
be wrong (each refused with a clear status, nothing stored changed). On the memory store and a real Redis."""

from __future__ import annotations

import asyncio

import httpx

from bot.channels.web.channel import MAX_BODY_BYTES
from bot.channels.web.render import render_all
from bot.core.library.model import Library
from bot.core.messages import ChoiceInput, Text
from bot.core.session import SessionKey
from tests.channels.web.conftest import Browser, StartApp, last_question, message_id, option
from tests.flows.journeys import TO_CANCEL_MESSAGE


async def test_the_page_comes_with_its_words_strict_headers_and_a_signed_httponly_cookie(
    start_app: StartApp, library: Library
) -> None:
    async with start_app() as running:
        browser = await running.browser()
        page = await browser.client.get("/chat")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        for word in (library.texts.webchat_send, library.texts.nav_status, library.texts.webchat_title):
            assert word in page.text
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'self'" in csp
        cookie = page.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/chat" in cookie
        assert running.channel.ids.read(browser.cookie) is not None
        # the assets it names are served, cacheable by their digest; nothing comes from another site
        for asset in ("chat.js", "chat.css"):
            version = running.channel.page.assets[asset].version
            assert f"/chat/static/{asset}?v={version}" in page.text
            served = await browser.client.get(f"/chat/static/{asset}?v={version}")
            assert served.status_code == 200 and "immutable" in served.headers["cache-control"]
        assert "http://" not in page.text and "https://" not in page.text
        assert (await browser.client.get("/chat/static/../../config.py")).status_code == 404


async def test_a_conversation_by_taps_and_typed_replies_is_the_same_conversation(
    start_app: StartApp, store_kind: str | None
) -> None:
    async with start_app(redis=store_kind) as running:
        tapper, typist = await running.browser(), await running.browser()
        first = await tapper.say(start=True)
        assert (await typist.say(start=True))["replies"] == first["replies"]
        menu = last_question(first)
        lancers = next(o for o in menu["options"] if ChoiceInput.decode(o["value"]).choice == "lancers")  # type: ignore[union-attr]
        tapped = await tapper.say(choice=lancers["value"])
        typed = await typist.say(text=lancers["label"])
        assert last_question(tapped) == last_question(typed)
        session = await running.session(typist)
        assert session is not None and session.flow == "lancers"


async def test_the_status_command_answers_with_the_checklist(start_app: StartApp) -> None:
    async with start_app() as running:
        browser = await running.browser()
        await browser.say(start=True)
        await browser.say(text="ランサーズ")
        status = await browser.say(command="status")
        assert any(reply["type"] == "checklist" for reply in status["replies"])


async def test_a_message_sent_twice_is_handled_once(start_app: StartApp, store_kind: str | None) -> None:
    async with start_app(redis=store_kind) as running:
        browser = await running.browser()
        await browser.say(start=True)
        same = {"id": message_id(), "text": "ランサーズ"}
        first = await browser.post(same)
        again = await browser.post(same)
        assert first.json()["status"] == "answered"
        assert again.status_code == 200 and again.json() == {"status": "duplicate", "replies": []}
        session = await running.session(browser)
        assert session is not None and session.flow == "lancers"


async def test_two_messages_at_once_are_both_answered_in_order(start_app: StartApp, store_kind: str | None) -> None:
    async with start_app(redis=store_kind) as running:
        browser = await running.browser()
        await browser.say(start=True)
        one, two = await asyncio.gather(browser.say(text="ランサーズ"), browser.say(command="status"))
        assert one["status"] == two["status"] == "answered"
        session = await running.session(browser)
        assert session is not None and session.flow == "lancers"


async def test_requests_from_another_origin_or_without_json_are_refused_and_change_nothing(
    start_app: StartApp, store_kind: str | None
) -> None:
    async with start_app(redis=store_kind) as running:
        browser = await running.browser()
        await browser.say(start=True)
        before = await running.session(browser)
        body = {"id": message_id(), "text": "ランサーズ"}
        assert (await browser.post(body, Origin="https://evil.example")).status_code == 403
        no_origin = await browser.client.post("/chat/api/turn", json=body)
        assert no_origin.status_code == 403
        form = await browser.client.post(
            "/chat/api/turn", content=b"text=x", headers={"Origin": browser.origin, "Content-Type": "text/plain"}
        )
        assert form.status_code == 415
        assert (await browser.post({}, path="/chat/api/inbox", Origin="https://evil.example")).status_code == 403
        assert await running.session(browser) == before


async def test_an_allowed_embedder_may_post(start_app: StartApp) -> None:
    async with start_app(webchat_allowed_origins="https://help.example.jp") as running:
        browser = await running.browser()
        response = await browser.post({"id": message_id(), "start": True}, Origin="https://help.example.jp")
        assert response.status_code == 200


async def test_malformed_bodies_get_a_clear_error(start_app: StartApp) -> None:
    async with start_app() as running:
        browser = await running.browser()
        await browser.say(start=True)
        before = await running.session(browser)
        headers = {"Origin": browser.origin, "Content-Type": "application/json"}

        async def raw(content: bytes) -> httpx.Response:
            return await browser.client.post("/chat/api/turn", content=content, headers=headers)

        assert (await raw(b"{not json")).status_code == 400
        assert (await raw(b"[1, 2]")).status_code == 400
        assert (await raw(b"\xff\xfe")).status_code == 400
        assert (await raw(b'{"id": "abcdefgh", "text": "' + b"x" * MAX_BODY_BYTES + b'"}')).status_code == 413
        assert (await raw(b'{"id": "abcdefgh", "text": ' + b"[" * 60 + b"]" * 60 + b"}")).status_code == 400
        assert (await browser.post({"text": "はい"})).status_code == 400  # no id
        assert (await browser.post({"id": "short", "text": "はい"})).status_code == 400
        assert (await browser.post({"id": message_id(), "text": "はい", "command": "help"})).status_code == 400
        assert (await browser.post({"id": message_id(), "text": ""})).status_code == 400
        assert (await browser.post({"id": message_id(), "text": 42})).status_code == 400
        assert (await browser.post({"id": message_id(), "command": "DROP TABLE"})).status_code == 400
        assert await running.session(browser) == before


async def test_a_forged_button_shows_the_current_question_again(start_app: StartApp) -> None:
    async with start_app() as running:
        browser = await running.browser()
        start = await browser.say(start=True)
        forged = await browser.say(choice="c1|lancers|nowhere|anything")
        assert last_question(forged) == last_question(start)
        assert last_question(await browser.say(choice="garbage")) == last_question(start)


async def test_text_too_long_stickers_of_emoji_and_unknown_commands_get_an_answer(
    start_app: StartApp, library: Library
) -> None:
    async with start_app() as running:
        browser = await running.browser()
        await browser.say(start=True)
        long = await browser.say(text="あ" * (running.app.state.services.settings.max_text_length + 1))
        assert long["replies"][0] == {"type": "text", "text": library.texts.too_long}
        for reply in (await browser.say(text="🙇‍♀️🎉"), await browser.say(command="dance")):
            assert reply["replies"], reply  # something is always said back
        lone_surrogate = b'{"id": "abcdefgh-sur", "text": "\\ud800"}'
        headers = {"Origin": browser.origin, "Content-Type": "application/json"}
        response = await browser.client.post("/chat/api/turn", content=lone_surrogate, headers=headers)
        assert response.status_code == 200


async def test_a_forged_cookie_is_a_new_browser_and_reaches_no_one_elses_conversation(start_app: StartApp) -> None:
    async with start_app() as running:
        owner = await running.browser()
        await owner.say(start=True)
        await owner.say(text="ランサーズ")
        assert owner.cookie is not None
        version, user, _ = owner.cookie.split(".")
        intruder = await running.browser()
        intruder.client.cookies.set("taikai_chat", f"{version}.{user}.forged", domain="127.0.0.1", path="/chat")
        answer = await intruder.say(start=True)
        assert intruder.cookie != owner.cookie
        assert answer["replies"] == (await (await running.browser()).say(start=True))["replies"]
        session = await running.session(owner)
        assert session is not None and session.flow == "lancers"


async def test_new_browsers_from_one_address_are_limited(start_app: StartApp) -> None:
    async with start_app() as running:
        statuses = []
        for _ in range(32):
            browser = await running.browser()
            statuses.append((await browser.post({"id": message_id(), "start": True})).status_code)
        assert statuses[:30] == [200] * 30 and statuses[30:] == [429, 429]
        # loading the page hands out ids under the same limit
        page = await (await running.browser()).client.get("/chat")
        assert page.status_code == 200 and "set-cookie" not in page.headers
        # a browser that already has its cookie is not affected
        known = running.browsers[0]
        response = await Browser(known, running.url).post({"id": message_id(), "command": "help"})
        assert response.status_code == 200


async def test_erasing_forgets_the_browser_and_its_waiting_messages(
    start_app: StartApp, library: Library, store_kind: str | None
) -> None:
    async with start_app(redis=store_kind) as running:
        browser = await running.browser()
        await browser.say(start=True)
        await browser.say(text="ランサーズ")
        old_cookie = browser.cookie
        user = running.channel.ids.read(old_cookie)
        assert user is not None
        await (await running.channel.reminder_output(SessionKey("web", "-", user), "r1")).send([Text("x")])  # type: ignore[union-attr]
        confirm = await browser.say(command="erase")
        yes = last_question(confirm)["options"][0]
        erased = await browser.say(choice=yes["value"])
        assert erased["replies"][0] == {"type": "text", "text": library.texts.erased}
        assert erased["reset"] is True  # the page clears the erased conversation from the screen
        assert browser.cookie != old_cookie  # a new id: nothing links the next chat to the erased one
        assert (await running.store.load(SessionKey("web", "-", user))).session is None
        assert await running.channel.mailbox.take(SessionKey("web", "-", user)) == []  # type: ignore[union-attr]


async def test_a_reminder_waits_in_the_inbox_and_is_handed_over_once(
    start_app: StartApp, store_kind: str | None
) -> None:
    async with start_app(redis=store_kind) as running:
        browser = await running.browser()
        await browser.say(start=True)
        user = running.channel.ids.read(browser.cookie)
        assert user is not None
        output = await running.channel.reminder_output(SessionKey("web", "-", user), "r1")
        assert output is not None
        replies = [Text("お知らせです")]
        assert await output.send(replies) == "stored"
        first = await browser.post({}, path="/chat/api/inbox")
        assert first.json() == {"messages": [{"replies": render_all(replies)}]}
        assert (await browser.post({}, path="/chat/api/inbox")).json() == {"messages": []}
        stranger = await running.browser()
        assert (await stranger.post({}, path="/chat/api/inbox")).json() == {"messages": []}


async def test_the_fill_in_and_template_reach_the_page_as_a_template(start_app: StartApp) -> None:
    async with start_app() as running:
        browser = await running.browser()
        await browser.say(start=True)
        data: dict = {}
        for step in TO_CANCEL_MESSAGE:
            data = await browser.say(text=step)
        templates = [reply for reply in data["replies"] if reply["type"] == "template"]
        assert templates and "山田" in templates[0]["body"] and templates[0]["title"]
        assert option(data, last_question(data)["options"][0]["label"])  # and the flow goes on from there


async def test_hostile_cookies_and_deep_json_get_clear_answers_never_a_500(start_app: StartApp) -> None:
    async with start_app() as running:
        browser = await running.browser()
        hostile = {"cookie": ("taikai_chat=v1." + "A" * 22 + "." + "é" * 43).encode()}  # as raw bytes: UTF-8
        assert (await browser.client.get("/chat", headers=hostile)).status_code == 200
        turn = await browser.post({"id": message_id(), "start": True}, **{"cookie": hostile["cookie"]})  # type: ignore[arg-type]
        assert turn.status_code == 200
        deep = b'{"id": "abcdefgh", "text": ' + b"[" * 5000 + b"]" * 5000 + b"}"
        headers = {"Origin": browser.origin, "Content-Type": "application/json"}
        assert (await browser.client.post("/chat/api/turn", content=deep, headers=headers)).status_code == 400


async def test_an_answered_turn_renews_the_cookie(start_app: StartApp) -> None:
    """The session's TTL restarts with every saved turn, so the cookie's does too."""
    async with start_app() as running:
        browser = await running.browser()
        await browser.say(start=True)
        again = await browser.post({"id": message_id(), "text": "ランサーズ"})
        assert "max-age" in again.headers["set-cookie"].lower()


async def test_with_the_store_down_the_page_loads_and_a_message_gets_busy(start_app: StartApp) -> None:
    async with start_app(redis="redis://127.0.0.1:1/0", reminders_enabled=False) as running:  # nothing there
        browser = await running.browser()
        page = await browser.client.get("/chat")
        assert page.status_code == 200 and "set-cookie" not in page.headers
        response = await browser.post({"id": message_id(), "start": True})
        assert response.status_code == 503 and response.json() == {"error": "busy"}
        assert (await browser.post({}, path="/chat/api/inbox")).status_code == 200  # no browser yet: nothing


async def test_behind_a_proxy_the_origin_is_the_public_https_one(library: Library) -> None:
    """With FORWARDED_ALLOW_IPS set, X-Forwarded-Proto makes the request https: the page's Origin
    (https://…) is its own, and the cookie is Secure."""
    from bot.web.server import uvicorn_config
    from bot.wiring import create_app
    from tests.channels.web.conftest import web_settings
    from tests.fakes.server import serve

    settings = web_settings(forwarded_allow_ips="*")
    app = create_app(settings, library)
    forwarded = uvicorn_config(app, settings).forwarded_allow_ips
    async with serve(app, forwarded_allow_ips=forwarded) as url, httpx.AsyncClient(base_url=url) as client:
        host = url.removeprefix("http://")
        headers = {"Origin": f"https://{host}", "X-Forwarded-Proto": "https", "Content-Type": "application/json"}
        response = await client.post("/chat/api/turn", json={"id": message_id(), "start": True}, headers=headers)
        assert response.status_code == 200, response.text
        assert "secure" in response.headers["set-cookie"].lower()


def test_the_cookie_secure_setting_takes_what_env_example_shows() -> None:
    from tests.channels.web.conftest import web_settings

    assert web_settings(webchat_cookie_secure="").webchat_cookie_secure is None
    assert web_settings(webchat_cookie_secure="auto").webchat_cookie_secure is None
    assert web_settings(webchat_cookie_secure="true").webchat_cookie_secure is True
